package bench

import (
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestEventHead: the stream's clients read an event's ID and time as the API writes them, and
// refuse what is not an event.
func TestEventHead(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 123456000, time.UTC)
	e := ticket.OutEvent{ID: ticket.EventID("01a23ced-4d30-7b8a-9fdc-cfaeaef7fdf6", 3), Position: 1 << 20,
		Event:  ticket.Event{Seq: 3, Type: ticket.EventStatusChanged, At: at, Data: map[string]any{}},
		Ticket: ticket.Ticket{ID: "01a23ced-4d30-7b8a-9fdc-cfaeaef7fdf6", Title: "Printer on fire", Status: ticket.StatusAnswered}}
	body, err := httpapi.EventBody(e, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := eventHead(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || !got.CreatedAt.Equal(at) {
		t.Errorf("read %+v from %s, want %s at %s", got, body, e.ID, at)
	}
	// Another order of the keys is read as well.
	if got, err := eventHead(`{"data":{"a":[1,{"b":2}]},"created_at":"2026-12-04T10:00:00.123456Z","id":"x"}`); err != nil ||
		got.ID != "x" || !got.CreatedAt.Equal(at) {
		t.Errorf("reordered: %+v, %v", got, err)
	}
	for _, bad := range []string{``, `[]`, `{"id":"x"}`, `{"id":"x","created_at":"yesterday"}`, `{"id":`} {
		if _, err := eventHead(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
