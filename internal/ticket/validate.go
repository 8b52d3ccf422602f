package ticket

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on free text, in characters (Unicode code points) after trimming.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 20000
	MaxBodyLen        = 20000
	MaxPersonLen      = 320 // long enough for any e-mail address
	MaxReasonLen      = 500
)

// NewTicket is what a client gives to open a ticket.
type NewTicket struct {
	Title       string
	Description string
	Priority    string // defaults to normal
	Requester   string
	Group       string // defaults to DefaultGroup
	Assignee    string
	Tags        []string
}

// Normalize trims the free text and fills in the default priority, as Validate and Open expect.
func (n NewTicket) Normalize() NewTicket {
	n.Title = trim(n.Title)
	n.Description = trim(n.Description)
	n.Requester = trim(n.Requester)
	n.Priority = trim(n.Priority)
	if n.Priority == "" {
		n.Priority = string(PriorityNormal)
	}
	n.Group = trim(n.Group)
	if n.Group == "" {
		n.Group = DefaultGroup
	}
	n.Assignee = trim(n.Assignee)
	n.Tags = normalizeTags(n.Tags)
	return n
}

// Validate checks the NewTicket, normalized, and returns an EINVALID *Error listing every broken
// rule.
func (n NewTicket) Validate() error {
	n = n.Normalize()
	var v validator
	v.text("title", n.Title, 1, MaxTitleLen, false)
	v.text("description", n.Description, 0, MaxDescriptionLen, true)
	v.text("requester", n.Requester, 0, MaxPersonLen, false)
	if _, err := ParsePriority(n.Priority); err != nil {
		v.add("priority", "must be one of low, normal, high, urgent")
	}
	v.text("group", n.Group, 1, MaxGroupLen, false)
	v.text("assignee", n.Assignee, 0, MaxPersonLen, false)
	v.tags("tags", n.Tags)
	return v.err()
}

// Open returns the change that creates ticket id from n at time now: the ticket at version 1 and
// its created event.
func Open(id string, n NewTicket, actor string, now time.Time) (Change, error) {
	n = n.Normalize()
	if err := n.Validate(); err != nil {
		return Change{}, err
	}
	now = Timestamp(now)
	t := Ticket{
		ID:          id,
		Title:       n.Title,
		Description: n.Description,
		Status:      StatusOpen,
		Priority:    Priority(n.Priority),
		Requester:   n.Requester,
		Group:       n.Group,
		Assignee:    n.Assignee,
		Tags:        n.Tags,
		Version:     1,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	ev := Event{Type: EventCreated, ToStatus: StatusOpen, Actor: trim(actor), At: now,
		Data: map[string]any{"priority": n.Priority}}
	return Change{Ticket: t, Events: []Event{ev}}, nil
}

func trim(s string) string { return strings.TrimSpace(s) }

// validator collects field errors so that a client learns every broken rule at once.
type validator struct{ fields []FieldError }

func (v *validator) add(field, msg string) {
	v.fields = append(v.fields, FieldError{Field: field, Message: msg})
}

// text checks that s is valid UTF-8 without control characters (newlines and tabs only where
// multiline is set) and that its length in characters lies in [min, max].
func (v *validator) text(field, s string, min, max int, multiline bool) {
	if !utf8.ValidString(s) {
		v.add(field, "must be valid UTF-8")
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			v.add(field, "must not contain control characters")
			return
		}
	}
	switch n := utf8.RuneCountInString(s); {
	case n < min && min == 1:
		v.add(field, "must not be empty")
	case n < min:
		v.add(field, fmt.Sprintf("must be at least %d characters", min))
	case n > max:
		v.add(field, fmt.Sprintf("must be at most %d characters", max))
	}
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	names := make([]string, len(v.fields))
	for i, f := range v.fields {
		names[i] = f.Field + " " + f.Message
	}
	return &Error{Code: EINVALID, Message: "invalid input: " + strings.Join(names, "; "), Fields: v.fields}
}
