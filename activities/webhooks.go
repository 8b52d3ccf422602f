package activities

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/webhook"
)

// WebhookStore is where webhooks, their deliveries and the events out are kept.
type WebhookStore interface {
	// FanOut makes deliveries of the events that came out for every enabled webhook.
	FanOut(ctx context.Context, limit int) (int, error)
	// DueDeliveries returns the deliveries due at now, each the first pending one of its
	// webhook and ticket, with its webhook.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]webhook.Due, error)
	EventOut(ctx context.Context, position int64) (ticket.OutEvent, error)
	RecordAttempt(ctx context.Context, deliveryID string, a webhook.Attempt, status webhook.Status, next *time.Time) error
	SetWebhookEnabled(ctx context.Context, id string, enabled bool) (webhook.Webhook, error)
	// PendingDeliveries counts the pending deliveries by webhook.
	PendingDeliveries(ctx context.Context) (map[string]int, error)
	// ListenFeed calls changed when events come out, until ctx is done.
	ListenFeed(ctx context.Context, changed func())
}

// WebhookMetrics counts what the pump does.
type WebhookMetrics interface {
	// Delivered counts an attempt by its outcome (succeeded, retry, failed, gone) and how long
	// after its event the delivery's first attempt was made.
	Delivered(outcome string, latency time.Duration, first bool)
	// Pending sets how many deliveries are pending, by webhook.
	Pending(byWebhook map[string]int)
}

// WebhookPump makes the deliveries of the events out to webhooks. One pump runs at a time, as
// the activity of the webhook pump's workflow (workflows.PumpWebhooks): Temporal restarts it on
// another worker when its worker dies, and its state is all in PostgreSQL, so a restarted pump
// goes on where the last one stopped, making at worst a delivery again that it had made just
// before dying (receivers deduplicate on webhook-id).
type WebhookPump struct {
	Store   WebhookStore
	Client  *webhook.Client
	Body    func(ticket.OutEvent) ([]byte, error)
	Log     *slog.Logger
	Metrics WebhookMetrics
}

const (
	// PumpRun is how long one run of the activity pumps before it returns to its workflow. Runs
	// are long since deliveries wait while one run hands over to the next, which under load takes
	// the round trips of a workflow task and an activity task; a dead worker's run is taken over
	// once its heartbeat stops, not when its run would have ended.
	PumpRun = time.Hour
	// pumpPoll is how often it looks for due retries and for events that came without a notice.
	pumpPoll = time.Second
	// pumpConcurrency bounds the deliveries in flight at once.
	pumpConcurrency = 32
)

// Pump fans the new events out to the webhooks and makes the due deliveries, for PumpRun, woken
// by PostgreSQL when events come out.
func (p *WebhookPump) Pump(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PumpRun)
	defer cancel()
	// A worker that stops lets the pump go at once, rather than wait for it within its shutdown
	// timeout: the workflow gives the next run to another worker, or to this one restarted.
	stopping := activity.GetWorkerStopChannel(ctx)
	go func() {
		select {
		case <-stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	wake := make(chan struct{}, 1)
	go p.Store.ListenFeed(ctx, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	var (
		mu       sync.Mutex
		inFlight = map[lane]bool{}
		// attempted holds the attempts this run made, by delivery and due time, with when each was
		// recorded (zero until it is): a read of the due deliveries that began before an attempt
		// was recorded still shows it due, and must not have it made again. A redelivery is due
		// at a new time.
		attempted = map[attempt]time.Time{}
		done      = make(chan struct{}, pumpConcurrency)
		slots     = make(chan struct{}, pumpConcurrency)
		wg        sync.WaitGroup
	)
	defer wg.Wait()
	poll := time.NewTicker(pumpPoll)
	defer poll.Stop()
	go p.countPending(ctx)
	for {
		activity.RecordHeartbeat(ctx)
		if _, err := p.Store.FanOut(ctx, ticket.MaxPageSize); err != nil && ctx.Err() == nil {
			p.Log.WarnContext(ctx, "webhooks: fan out", "error", err)
		}
		read := time.Now()
		due, err := p.Store.DueDeliveries(ctx, read, 4*pumpConcurrency)
		if err != nil && ctx.Err() == nil {
			p.Log.WarnContext(ctx, "webhooks: read the due deliveries", "error", err)
		}
		mu.Lock()
		for a, recorded := range attempted {
			if !recorded.IsZero() && recorded.Before(read) {
				delete(attempted, a) // recorded before this read began: no read from now on shows it due
			}
		}
		mu.Unlock()
		for _, d := range due {
			l, a := lane{d.WebhookID, d.TicketID}, attempt{d.ID, *d.NextAttemptAt}
			mu.Lock()
			_, made := attempted[a]
			skip := inFlight[l] || made // its ticket's last delivery is being made, or this one was
			if !skip {
				inFlight[l], attempted[a] = true, time.Time{}
			}
			mu.Unlock()
			if skip {
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				p.deliver(ctx, d)
				mu.Lock()
				delete(inFlight, l)
				attempted[a] = time.Now()
				mu.Unlock()
				select {
				case done <- struct{}{}:
				default:
				}
			}()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-done: // a lane is free again: its next delivery may be due
		case <-poll.C:
		}
	}
}

// lane is a webhook's deliveries of one ticket's events, made one at a time, in order.
type lane struct{ webhook, ticket string }

// attempt is one attempt at a delivery: the one due at that time.
type attempt struct {
	delivery string
	due      time.Time
}

// deliver makes one attempt at a delivery and records it.
func (p *WebhookPump) deliver(ctx context.Context, d webhook.Due) {
	w := d.Webhook
	e, err := p.Store.EventOut(ctx, d.Position)
	if err != nil {
		p.Log.WarnContext(ctx, "webhooks: read the event", "delivery_id", d.ID, "error", err)
		return
	}
	body, err := p.Body(e)
	if err != nil {
		p.Log.ErrorContext(ctx, "webhooks: encode the event", "delivery_id", d.ID, "error", err)
		return
	}
	now := time.Now()
	a := p.Client.Deliver(ctx, w.URL, e.ID, body, w.Keys(now), now)
	if ctx.Err() != nil && !a.Succeeded() {
		return // the pump stops: this attempt is the next run's to make
	}
	status, next := d.Outcome(a)
	// The outcome is recorded even when the pump's time is up, so that a success is not made again.
	rec := context.WithoutCancel(ctx)
	if err := p.Store.RecordAttempt(rec, d.ID, a, status, next); err != nil {
		p.Log.WarnContext(ctx, "webhooks: record an attempt", "delivery_id", d.ID, "error", err)
		return
	}
	outcome := string(status)
	switch {
	case a.Gone():
		outcome = "gone"
		if _, err := p.Store.SetWebhookEnabled(rec, w.ID, false); err != nil {
			p.Log.WarnContext(ctx, "webhooks: disable a gone webhook", "webhook_id", w.ID, "error", err)
		}
		p.Log.InfoContext(ctx, "webhooks: the receiver is gone (410): webhook disabled", "webhook_id", w.ID)
	case status == webhook.StatusPending:
		outcome = "retry"
	}
	p.Metrics.Delivered(outcome, now.Sub(e.Event.At), len(d.Attempts) == 0)
}

// countPending keeps the pending-deliveries gauge current while the pump runs.
func (p *WebhookPump) countPending(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if n, err := p.Store.PendingDeliveries(ctx); err == nil {
			p.Metrics.Pending(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
