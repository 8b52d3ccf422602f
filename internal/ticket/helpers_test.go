package ticket_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// rawNow is the clock value the tests pass in: not UTC and with nanoseconds, so that every test
// also checks that the domain normalises it.
var rawNow = time.Date(2026, 11, 26, 11, 0, 0, 123456789, time.FixedZone("CET", 3600))

// now is what rawNow must become on every ticket, comment and event.
var now = time.Date(2026, 11, 26, 10, 0, 0, 123456000, time.UTC)

// created is when the fixture tickets were created and last updated.
var created = time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)

// responded is when the fixture tickets that have been answered were first answered.
var responded = created.Add(30 * time.Minute)

const (
	ticketID = "0193a0f4-0000-7000-8000-000000000001"
	actor    = "agent@example.com"
)

// ticketIn returns a ticket at version 3 that stands in status st, as a real one would: it is in
// the default group, an answered or awaiting ticket has been answered once (at responded), and a
// closed ticket has its closing time and reason (it was closed while open, never answered).
func ticketIn(t *testing.T, st ticket.Status) ticket.Ticket {
	t.Helper()
	tk := ticket.Ticket{
		ID:              ticketID,
		Title:           "Printer on fire",
		Description:     "It is on fire.",
		Status:          st,
		Priority:        ticket.PriorityHigh,
		Requester:       "alice@example.com",
		EscalationLevel: 1,
		CommentsCount:   2,
		Version:         3,
		CreatedAt:       created,
		UpdatedAt:       created.Add(time.Hour),
		Group:           ticket.DefaultGroup,
	}
	if st == ticket.StatusAnswered || st == ticket.StatusAwaiting {
		tk.FirstRespondedAt = ptr(responded)
	}
	if st == ticket.StatusClosed {
		at := created.Add(time.Hour)
		reason := "fixed"
		tk.ClosedAt = &at
		tk.CloseReason = &reason
	}
	return tk
}

// next returns a snapshot of tk as an accepted change leaves it before its own fields: one version
// on, updated now.
func next(tk ticket.Ticket) ticket.Ticket {
	n := snapshot(tk)
	n.Version = tk.Version + 1
	n.UpdatedAt = now
	return n
}

// snapshot returns a deep copy of tk, so that a later change through one of its pointers shows.
func snapshot(tk ticket.Ticket) ticket.Ticket {
	c := tk
	if tk.ClosedAt != nil {
		at := *tk.ClosedAt
		c.ClosedAt = &at
	}
	if tk.CloseReason != nil {
		r := *tk.CloseReason
		c.CloseReason = &r
	}
	if tk.FirstRespondedAt != nil {
		at := *tk.FirstRespondedAt
		c.FirstRespondedAt = &at
	}
	c.Tags = slices.Clone(tk.Tags)
	return c
}

// assertUnchanged fails when tk no longer equals the snapshot taken before the call under test.
func assertUnchanged(t *testing.T, before, tk ticket.Ticket) {
	t.Helper()
	if !reflect.DeepEqual(before, tk) {
		t.Errorf("ticket was modified:\nbefore %+v\nafter  %+v", before, tk)
	}
}

// assertTicket compares two tickets field by field, so that a failure names the field.
func assertTicket(t *testing.T, got, want ticket.Ticket) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
		for i := range gv.NumField() {
			g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
			if !reflect.DeepEqual(g, w) {
				t.Errorf("ticket.%s = %s, want %s", gv.Type().Field(i).Name, show(g), show(w))
			}
		}
	}
}

func show(v any) string {
	switch p := v.(type) {
	case *time.Time:
		if p != nil {
			return "&" + p.String()
		}
		return "nil"
	case *string:
		if p != nil {
			return fmt.Sprintf("&%q", *p)
		}
		return "nil"
	}
	return fmt.Sprintf("%#v", v)
}

// assertCode fails unless err carries the domain code want ("" for no error).
func assertCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := ticket.ErrorCode(err); got != want {
		t.Fatalf("ErrorCode(%v) = %q, want %q", err, got, want)
	}
}

// fieldNames returns the sorted names of the fields that err reports as broken.
func fieldNames(err error) []string {
	var names []string
	for _, f := range ticket.ErrorFields(err) {
		names = append(names, f.Field)
	}
	slices.Sort(names)
	return names
}

// assertFields fails unless err is nil and want is empty, or err is an EINVALID error whose
// broken fields are exactly want (in any order), each with a message.
func assertFields(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v (fields %+v)", err, ticket.ErrorFields(err))
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want invalid fields %v", want)
	}
	assertCode(t, err, ticket.EINVALID)
	want = slices.Sorted(slices.Values(want))
	if got := fieldNames(err); !slices.Equal(got, want) {
		t.Fatalf("invalid fields = %v, want %v (error %q)", got, want, err)
	}
	for _, f := range ticket.ErrorFields(err) {
		if f.Message == "" {
			t.Errorf("field %q has an empty message", f.Field)
		}
		if !strings.Contains(err.Error(), f.Field) {
			t.Errorf("error message %q does not name field %q", err.Error(), f.Field)
		}
	}
}

// fieldMessage returns the message of the named field in err, or "".
func fieldMessage(err error, field string) string {
	for _, f := range ticket.ErrorFields(err) {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

func ptr[T any](v T) *T { return &v }
