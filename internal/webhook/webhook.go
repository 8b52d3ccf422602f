package webhook

import (
	"slices"
	"strconv"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Webhook is a subscription to the events out: the URL they are delivered to, signed.
type Webhook struct {
	ID  string
	URL string
	// Types are the event types it gets; none for every type.
	Types       []ticket.EventType
	Description string
	// Secret signs its deliveries; PreviousSecret, the one it replaced, signs beside it until
	// PreviousUntil.
	Secret         string
	PreviousSecret string
	PreviousUntil  *time.Time
	CreatedAt      time.Time
	// DisabledAt is when it was disabled, by an admin or by a receiver's 410; nil while enabled.
	DisabledAt *time.Time
}

// RotationOverlap is how long a replaced secret keeps signing beside the new one.
const RotationOverlap = 24 * time.Hour

// Wants reports whether the webhook gets events of type t.
func (w Webhook) Wants(t ticket.EventType) bool {
	return len(w.Types) == 0 || slices.Contains(w.Types, t)
}

// Keys returns the keys that sign a delivery made at now: the secret's, and the previous
// secret's while the rotation overlaps. Secrets that are not secrets sign nothing.
func (w Webhook) Keys(now time.Time) [][]byte {
	var keys [][]byte
	if k, err := Key(w.Secret); err == nil {
		keys = append(keys, k)
	}
	if w.PreviousSecret != "" && w.PreviousUntil != nil && now.Before(*w.PreviousUntil) {
		if k, err := Key(w.PreviousSecret); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// Status is where a delivery stands.
type Status string

const (
	StatusPending   Status = "pending"   // to be made, or made again
	StatusSucceeded Status = "succeeded" // the receiver answered 2xx
	StatusFailed    Status = "failed"    // every attempt failed, or the receiver said it is gone
)

// Delivery is one event to one webhook, and the attempts at it.
type Delivery struct {
	ID        string
	WebhookID string
	// Position is the event's place in the feed; TicketID, Seq and EventType say which it is.
	Position  int64
	TicketID  string
	Seq       int64
	EventType ticket.EventType
	Status    Status
	Attempts  []Attempt
	// NextAttemptAt is when a pending delivery is due; nil once it is done.
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	// ScheduledFrom is where its retry schedule starts: its creation, or its last redelivery.
	ScheduledFrom time.Time
}

// Due is a delivery due to be made, with the webhook it goes to.
type Due struct {
	Delivery
	Webhook Webhook
}

// Outcome returns the delivery's status and next attempt after one more attempt a: done when it
// succeeded, failed for good when the receiver is gone or the schedule has no attempt left, else
// pending until the next attempt.
func (d Delivery) Outcome(a Attempt) (Status, *time.Time) {
	switch {
	case a.Succeeded():
		return StatusSucceeded, nil
	case a.Gone():
		return StatusFailed, nil
	}
	next, ok := NextAttempt(d.ScheduledFrom, a.At, a.RetryAfter)
	if !ok {
		return StatusFailed, nil
	}
	return StatusPending, &next
}

// Limits of what an admin gives a webhook, in characters.
const (
	MaxURLLen         = 2000
	MaxDescriptionLen = 1000
)

// NewWebhook is what an admin gives to create a webhook.
type NewWebhook struct {
	URL         string
	Types       []ticket.EventType
	Description string
}

// Validate checks what can be checked without the network, and returns a ticket.EINVALID error
// listing every broken rule; the URL's address is the Client's to check (CheckURL).
func (n NewWebhook) Validate() error {
	var fields []ticket.FieldError
	if f := ticket.CheckText("url", n.URL, 1, MaxURLLen, false); f != nil {
		fields = append(fields, *f)
	}
	for _, t := range n.Types {
		if !slices.Contains(ticket.EventTypes, t) {
			fields = append(fields, ticket.FieldError{Field: "types", Message: "holds " + strconv.Quote(string(t)) + ", which is no event type"})
			break
		}
	}
	if f := ticket.CheckText("description", n.Description, 0, MaxDescriptionLen, true); f != nil {
		fields = append(fields, *f)
	}
	if len(fields) == 0 {
		return nil
	}
	return &ticket.Error{Code: ticket.EINVALID, Message: "invalid webhook: " + fields[0].Field + " " + fields[0].Message, Fields: fields}
}

// EventID returns the ID of the delivery's event, the webhook-id of its every attempt: the same
// as the event's on the feed.
func (d Delivery) EventID() string { return ticket.EventID(d.TicketID, d.Seq) }
