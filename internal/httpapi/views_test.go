package httpapi_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// views holds one view of each kind, as a change's answer does.
type views struct {
	Ticket  httpapi.Ticket   `json:"ticket"`
	Comment *httpapi.Comment `json:"comment"`
	Events  []httpapi.Event  `json:"events"`
}

// sixDigits is a JSON time as the API promises it: RFC 3339, UTC, exactly six fractional digits.
var sixDigits = regexp.MustCompile(`^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"$`)

// TestTimesHaveSixDigits encodes times whose fractions end in zeros, or are zero, and checks that
// every time in the views of a ticket, a comment and an event keeps six digits, and reads back the
// same.
func TestTimesHaveSixDigits(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 11, 26, 5, 42, 33, 411800000, time.UTC), // ….411800
		time.Date(2026, 11, 26, 5, 42, 33, 0, time.UTC),         // ….000000
		time.Date(2026, 11, 26, 10, 0, 0, 123456000, time.UTC),  // ….123456
	} {
		closed := at.Add(time.Hour)
		reason := "resolved"
		tk := httpapi.Ticket{ID: "0193a0f4-0000-7000-8000-000000000001", Title: "t", Status: ticket.StatusClosed, Priority: ticket.PriorityNormal,
			Version: 2, CreatedAt: at, UpdatedAt: closed, ClosedAt: &closed, CloseReason: &reason,
			FirstRespondedAt: &at, FirstResponseDueAt: &at, AutoCloseAt: &closed}
		c := httpapi.Comment{ID: "c", TicketID: "0193a0f4-0000-7000-8000-000000000001", Body: "b", Author: "a", CreatedAt: at}
		e := httpapi.Event{Seq: 1, Type: ticket.EventCreated, Actor: "a", Data: map[string]any{}, At: at}
		ch := views{Ticket: tk, Comment: &c, Events: []httpapi.Event{e}}

		b, err := json.Marshal(ch)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		times := 0
		var walk func(key string, v any)
		walk = func(key string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					walk(k, x)
				}
			case []any:
				for _, x := range v {
					walk(key, x)
				}
			case string:
				if strings.HasSuffix(key, "_at") || key == "at" {
					times++
					if q, _ := json.Marshal(v); !sixDigits.Match(q) {
						t.Errorf("%s is %s, want six fractional digits", key, v)
					}
				}
			}
		}
		walk("", fields)
		if times != 8 {
			t.Errorf("found %d times in %s, want 8", times, b)
		}

		var back views
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !back.Ticket.CreatedAt.Equal(at) || !back.Ticket.ClosedAt.Equal(closed) || !back.Comment.CreatedAt.Equal(at) ||
			!back.Ticket.FirstResponseDueAt.Equal(at) || !back.Ticket.AutoCloseAt.Equal(closed) ||
			!back.Events[0].At.Equal(at) || back.Ticket.Title != "t" || back.Events[0].Seq != 1 {
			t.Errorf("read back %+v", back)
		}
	}
	b, err := json.Marshal(httpapi.Ticket{})
	for _, field := range []string{"closed_at", "first_responded_at", "first_response_due_at", "auto_close_at"} {
		if err != nil || !strings.Contains(string(b), `"`+field+`":null`) {
			t.Errorf("open ticket: %s, %v; want %s null", b, err, field)
		}
	}
}
