package ticket_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// lifecycle is the table of /work/shared/design/api.md ("Lifecycle"), written out by hand as the
// oracle: from -> to -> allowed. Moves to open and moves to the same status appear in no row of
// the api.md table, so they are never allowed.
var lifecycle = map[string]map[string]bool{
	"open":     {"open": false, "answered": true, "awaiting": false, "closed": true},
	"answered": {"open": false, "answered": false, "awaiting": true, "closed": true},
	"awaiting": {"open": false, "answered": true, "awaiting": false, "closed": true},
	"closed":   {"open": false, "answered": false, "awaiting": false, "closed": false},
}

// allStatuses is the list of statuses, spelled as the API spells them.
var allStatuses = []string{"open", "answered", "awaiting", "closed"}

// actionTo is the action that leads to each status, spelled as the API spells them; no action
// leads back to open.
var actionTo = map[string]string{"answered": "answer", "awaiting": "await", "closed": "close"}

func TestStatusesListsTheLifecycle(t *testing.T) {
	var got []string
	for _, s := range ticket.Statuses {
		got = append(got, string(s))
	}
	if !slices.Equal(got, allStatuses) {
		t.Fatalf("Statuses = %v, want %v", got, allStatuses)
	}
}

func TestCanMoveTo(t *testing.T) {
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			t.Run(from+"->"+to, func(t *testing.T) {
				want := lifecycle[from][to]
				if got := ticket.Status(from).CanMoveTo(ticket.Status(to)); got != want {
					t.Errorf("Status(%q).CanMoveTo(%q) = %v, want %v", from, to, got, want)
				}
			})
		}
	}
	t.Run("unknown statuses", func(t *testing.T) {
		for _, s := range allStatuses {
			if ticket.Status("bogus").CanMoveTo(ticket.Status(s)) {
				t.Errorf("an unknown status may move to %q", s)
			}
			if ticket.Status(s).CanMoveTo("bogus") || ticket.Status(s).CanMoveTo("") {
				t.Errorf("%q may move to an unknown status", s)
			}
		}
	})
}

func TestIsFinal(t *testing.T) {
	for _, s := range allStatuses {
		t.Run(s, func(t *testing.T) {
			if got, want := ticket.Status(s).IsFinal(), s == "closed"; got != want {
				t.Errorf("IsFinal = %v, want %v", got, want)
			}
		})
	}
}

func TestActionTarget(t *testing.T) {
	tests := []struct {
		action string
		to     string
		ok     bool
	}{
		{"answer", "answered", true},
		{"await", "awaiting", true},
		{"close", "closed", true},
		{"comment", "", false},
		{"escalate", "", false},
		{"assign", "", false},
		{"tags", "", false},
		{"reopen", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			to, ok := ticket.Action(tt.action).Target()
			if string(to) != tt.to || ok != tt.ok {
				t.Errorf("Target() = %q, %v; want %q, %v", to, ok, tt.to, tt.ok)
			}
		})
	}
	t.Run("Actions lists every action", func(t *testing.T) {
		want := []ticket.Action{"comment", "answer", "await", "close", "escalate", "assign", "tags"}
		if !slices.Equal(ticket.Actions, want) {
			t.Errorf("Actions = %v, want %v", ticket.Actions, want)
		}
	})
}

// TestApplyTransitions walks all 16 from/to pairs. Where an action leads to the target it applies
// that action to a ticket in from: the lifecycle table decides whether it must succeed.
func TestApplyTransitions(t *testing.T) {
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			t.Run(from+"->"+to, func(t *testing.T) {
				action, ok := actionTo[to]
				if !ok {
					// Nothing leads to "open": no action may name it as its target.
					for _, a := range ticket.Actions {
						if got, ok := a.Target(); ok && string(got) == to {
							t.Fatalf("action %q leads to %q, which no action should", a, to)
						}
					}
					return
				}
				for _, withReason := range []bool{false, true} {
					name := "no reason"
					if withReason {
						name = "with reason"
					}
					t.Run(name, func(t *testing.T) {
						checkTransition(t, ticket.Status(from), ticket.Status(to), ticket.Action(action),
							withReason, lifecycle[from][to])
					})
				}
			})
		}
	}
}

func checkTransition(t *testing.T, from, to ticket.Status, action ticket.Action, withReason, allowed bool) {
	t.Helper()
	tk := ticketIn(t, from)
	before := snapshot(tk)
	cmd := ticket.Command{Action: action, Actor: "  " + actor + " "}
	if withReason {
		cmd.Reason = "  all done  "
	}

	if err := tk.Check(cmd.Normalize()); (err == nil) != allowed {
		t.Errorf("Check: err = %v, allowed = %v", err, allowed)
	}
	ch, err := tk.Apply(cmd, rawNow)
	assertUnchanged(t, before, tk)

	if !allowed {
		assertCode(t, err, ticket.EINVALIDTRANSITION)
		msg := ticket.ErrorMessage(err)
		if !strings.Contains(msg, string(from)) || !strings.Contains(msg, string(to)) {
			t.Errorf("message %q does not name both %q and %q", msg, from, to)
		}
		if len(ticket.ErrorFields(err)) != 0 {
			t.Errorf("a refused transition has field errors: %+v", ticket.ErrorFields(err))
		}
		if ch.Comment != nil || len(ch.Events) != 0 || ch.Ticket.Version != 0 {
			t.Errorf("a refused transition returned a change: %+v", ch)
		}
		return
	}

	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := next(tk)
	want.Status = to
	if to == ticket.StatusAnswered {
		if tk.FirstRespondedAt == nil {
			want.FirstRespondedAt = ptr(now) // the first answer is the first response
		} else if got := ch.Ticket.FirstRespondedAt; got == nil || !got.Equal(*tk.FirstRespondedAt) {
			t.Errorf("a later answer moved FirstRespondedAt from %s to %s", show(tk.FirstRespondedAt), show(ch.Ticket.FirstRespondedAt))
		}
	}
	wantData := map[string]any{}
	if to == ticket.StatusClosed {
		want.ClosedAt = ptr(now)
		if withReason {
			want.CloseReason = ptr("all done")
			wantData["reason"] = "all done"
		}
	}
	assertTicket(t, ch.Ticket, want)
	if ch.Comment != nil {
		t.Errorf("a transition without a comment made comment %+v", ch.Comment)
	}
	assertEvents(t, ch.Events, ticket.Event{
		Type: ticket.EventStatusChanged, FromStatus: from, ToStatus: to, Actor: actor, At: now, Data: wantData,
	})
}

// assertEvents compares events one by one, ignoring Data entries' numeric types.
func assertEvents(t *testing.T, got []ticket.Event, want ...ticket.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != 0 {
			t.Errorf("event %d: Seq = %d, want 0 (the workflow numbers events)", i, g.Seq)
		}
		if g.Type != w.Type || g.FromStatus != w.FromStatus || g.ToStatus != w.ToStatus || g.Actor != w.Actor {
			t.Errorf("event %d = {%s %q->%q by %q}, want {%s %q->%q by %q}", i,
				g.Type, g.FromStatus, g.ToStatus, g.Actor, w.Type, w.FromStatus, w.ToStatus, w.Actor)
		}
		if !g.At.Equal(w.At) || g.At.Location() != w.At.Location() {
			t.Errorf("event %d: At = %v, want %v", i, g.At, w.At)
		}
		if g.Data == nil {
			t.Errorf("event %d: Data is nil, want a map (it is stored as a JSON object)", i)
		}
		if len(g.Data) != len(w.Data) {
			t.Errorf("event %d: Data = %#v, want %#v", i, g.Data, w.Data)
			continue
		}
		for k, wv := range w.Data {
			if gv, ok := g.Data[k]; !ok || !reflect.DeepEqual(gv, wv) { // DeepEqual: tags are slices
				t.Errorf("event %d: Data[%q] = %#v, want %#v", i, k, gv, wv)
			}
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, s := range allStatuses {
		t.Run(s, func(t *testing.T) {
			got, err := ticket.ParseStatus(s)
			if err != nil || string(got) != s || got.String() != s {
				t.Errorf("ParseStatus(%q) = %q, %v", s, got, err)
			}
		})
	}
	for _, s := range []string{"", "Open", " open", "reopened", "pending"} {
		t.Run("bad "+s, func(t *testing.T) {
			if got, err := ticket.ParseStatus(s); err == nil || got != "" {
				t.Errorf("ParseStatus(%q) = %q, %v; want an error", s, got, err)
			}
		})
	}
}

func TestParsePriority(t *testing.T) {
	want := []string{"low", "normal", "high", "urgent"}
	var got []string
	for _, p := range ticket.Priorities {
		got = append(got, string(p))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Priorities = %v, want %v", got, want)
	}
	for _, s := range want {
		t.Run(s, func(t *testing.T) {
			p, err := ticket.ParsePriority(s)
			if err != nil || string(p) != s || p.String() != s {
				t.Errorf("ParsePriority(%q) = %q, %v", s, p, err)
			}
		})
	}
	for _, s := range []string{"", "HIGH", " high", "critical"} {
		t.Run("bad "+s, func(t *testing.T) {
			if p, err := ticket.ParsePriority(s); err == nil || p != "" {
				t.Errorf("ParsePriority(%q) = %q, %v; want an error", s, p, err)
			}
		})
	}
}
