package ticket_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

func TestApplyComment(t *testing.T) {
	tests := []struct {
		name       string
		author     string
		wantAuthor string
	}{
		{"author given", "  Bob  ", "Bob"},
		{"author defaults to actor", "", actor},
		{"whitespace author defaults to actor", " \t ", actor},
	}
	for _, st := range allStatuses {
		for _, tt := range tests {
			t.Run(st+"/"+tt.name, func(t *testing.T) {
				tk := ticketIn(t, ticket.Status(st))
				before := snapshot(tk)
				cmd := ticket.Command{Action: ticket.ActionComment, Actor: " " + actor, Author: tt.author,
					Comment: "\n  Have you tried turning it off?\nAnd on again.  \n", CommentID: "c-1"}
				ch, err := tk.Apply(cmd, rawNow)
				assertUnchanged(t, before, tk)
				if st == "closed" {
					assertCode(t, err, ticket.ECLOSED)
					if !strings.Contains(ticket.ErrorMessage(err), "closed") {
						t.Errorf("message %q does not say the ticket is closed", ticket.ErrorMessage(err))
					}
					if ch.Comment != nil || len(ch.Events) != 0 {
						t.Errorf("refused comment returned a change: %+v", ch)
					}
					return
				}
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				want := next(tk)
				want.CommentsCount = tk.CommentsCount + 1
				assertTicket(t, ch.Ticket, want)
				wantComment := ticket.Comment{ID: "c-1", TicketID: ticketID,
					Body: "Have you tried turning it off?\nAnd on again.", Author: tt.wantAuthor, CreatedAt: now,
					Visibility: ticket.VisibilityPublic}
				if ch.Comment == nil || *ch.Comment != wantComment {
					t.Errorf("comment = %+v, want %+v", ch.Comment, wantComment)
				}
				assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventCommented, Actor: actor, At: now,
					Data: map[string]any{"comment_id": "c-1"}})
			})
		}
	}
}

func TestApplyEscalate(t *testing.T) {
	for _, st := range allStatuses {
		for _, reason := range []string{"", "  customer is angry  "} {
			t.Run(fmt.Sprintf("%s/reason=%q", st, reason), func(t *testing.T) {
				tk := ticketIn(t, ticket.Status(st))
				before := snapshot(tk)
				ch, err := tk.Apply(ticket.Command{Action: ticket.ActionEscalate, Actor: actor, Reason: reason}, rawNow)
				assertUnchanged(t, before, tk)
				if st == "closed" {
					assertCode(t, err, ticket.ECLOSED)
					if len(ch.Events) != 0 {
						t.Errorf("refused escalation returned events: %+v", ch.Events)
					}
					return
				}
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				want := next(tk)
				want.EscalationLevel = tk.EscalationLevel + 1
				assertTicket(t, ch.Ticket, want)
				if ch.Comment != nil {
					t.Errorf("escalation made comment %+v", ch.Comment)
				}
				data := map[string]any{"level": tk.EscalationLevel + 1}
				if reason != "" {
					data["reason"] = "customer is angry"
				}
				assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventEscalated, Actor: actor, At: now, Data: data})
			})
		}
	}
	t.Run("twice", func(t *testing.T) {
		tk := ticketIn(t, ticket.StatusOpen)
		tk.EscalationLevel = 0
		for level := 1; level <= 2; level++ {
			ch, err := tk.Apply(ticket.Command{Action: ticket.ActionEscalate}, rawNow)
			if err != nil {
				t.Fatal(err)
			}
			tk = ch.Ticket
			if tk.EscalationLevel != level || ch.Events[0].Data["level"] != level {
				t.Fatalf("after %d escalations: level %d, event data %v", level, tk.EscalationLevel, ch.Events[0].Data)
			}
		}
		if tk.Version != 5 {
			t.Errorf("version = %d, want 5", tk.Version)
		}
	})
}

// TestApplyTransitionWithComment checks that a transition that carries a comment writes the
// comment and the move as one change: both events, commented first, and one version bump.
func TestApplyTransitionWithComment(t *testing.T) {
	tests := []struct {
		from   ticket.Status
		action ticket.Action
		reason string
	}{
		{ticket.StatusOpen, ticket.ActionAnswer, ""},
		{ticket.StatusAnswered, ticket.ActionAwait, ""},
		{ticket.StatusAwaiting, ticket.ActionAnswer, ""},
		{ticket.StatusOpen, ticket.ActionClose, ""},
		{ticket.StatusAwaiting, ticket.ActionClose, "resolved"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s", tt.action, tt.from), func(t *testing.T) {
			tk := ticketIn(t, tt.from)
			before := snapshot(tk)
			to, _ := tt.action.Target()
			ch, err := tk.Apply(ticket.Command{Action: tt.action, Actor: actor, Comment: " Done. ",
				CommentID: "c-9", Author: "Support", Reason: tt.reason}, rawNow)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			assertUnchanged(t, before, tk)
			want := next(tk)
			want.Status = to
			want.CommentsCount = tk.CommentsCount + 1
			if to == ticket.StatusAnswered && tk.FirstRespondedAt == nil {
				want.FirstRespondedAt = ptr(now) // the first answer; a later one keeps it (next copies it)
			}
			data := map[string]any{}
			if to == ticket.StatusClosed {
				want.ClosedAt = ptr(now)
				if tt.reason != "" {
					want.CloseReason = ptr(tt.reason)
					data["reason"] = tt.reason
				}
			}
			assertTicket(t, ch.Ticket, want)
			wantComment := ticket.Comment{ID: "c-9", TicketID: ticketID, Body: "Done.", Author: "Support", CreatedAt: now,
				Visibility: ticket.VisibilityPublic}
			if ch.Comment == nil || *ch.Comment != wantComment {
				t.Errorf("comment = %+v, want %+v", ch.Comment, wantComment)
			}
			assertEvents(t, ch.Events,
				ticket.Event{Type: ticket.EventCommented, Actor: actor, At: now, Data: map[string]any{"comment_id": "c-9"}},
				ticket.Event{Type: ticket.EventStatusChanged, FromStatus: tt.from, ToStatus: to, Actor: actor, At: now, Data: data},
			)
		})
	}
	t.Run("refused transition writes no comment", func(t *testing.T) {
		for _, st := range []ticket.Status{ticket.StatusAnswered, ticket.StatusClosed} {
			tk := ticketIn(t, st)
			before := snapshot(tk)
			ch, err := tk.Apply(ticket.Command{Action: ticket.ActionAnswer, Comment: "hi", CommentID: "c-1"}, rawNow)
			assertCode(t, err, ticket.EINVALIDTRANSITION)
			assertUnchanged(t, before, tk)
			if ch.Comment != nil || len(ch.Events) != 0 {
				t.Errorf("%s: refused transition returned %+v", st, ch)
			}
		}
	})
}

func TestApplyCloseReason(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		want   *string
	}{
		{"none", "", nil},
		{"whitespace only", "  \t ", nil},
		{"trimmed", "  duplicate of #12 ", ptr("duplicate of #12")},
		{"500 characters", strings.Repeat("é", 500), ptr(strings.Repeat("é", 500))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := ticketIn(t, ticket.StatusOpen).Apply(ticket.Command{Action: ticket.ActionClose, Reason: tt.reason}, rawNow)
			if err != nil {
				t.Fatal(err)
			}
			if show(ch.Ticket.CloseReason) != show(tt.want) {
				t.Errorf("CloseReason = %s, want %s", show(ch.Ticket.CloseReason), show(tt.want))
			}
			r, ok := ch.Events[0].Data["reason"]
			if (tt.want == nil) == ok || (ok && r != *tt.want) {
				t.Errorf("event data = %#v, want reason %s", ch.Events[0].Data, show(tt.want))
			}
			if ch.Ticket.ClosedAt == nil || !ch.Ticket.ClosedAt.Equal(now) {
				t.Errorf("ClosedAt = %s, want %v", show(ch.Ticket.ClosedAt), now)
			}
		})
	}
	t.Run("reason is ignored by answer and await", func(t *testing.T) {
		for _, c := range []struct {
			from   ticket.Status
			action ticket.Action
		}{{ticket.StatusOpen, ticket.ActionAnswer}, {ticket.StatusAnswered, ticket.ActionAwait}} {
			ch, err := ticketIn(t, c.from).Apply(ticket.Command{Action: c.action, Reason: "because"}, rawNow)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Ticket.CloseReason != nil || ch.Ticket.ClosedAt != nil || len(ch.Events[0].Data) != 0 {
				t.Errorf("%s: ticket %+v, event data %v", c.action, ch.Ticket, ch.Events[0].Data)
			}
		}
	})
}

// TestApplyDoesNotShareState checks that the change does not alias the ticket it came from:
// a caller that edits the result must not edit the ticket the workflow still holds.
func TestApplyDoesNotShareState(t *testing.T) {
	tk := ticketIn(t, ticket.StatusOpen)
	before := snapshot(tk)
	ch, err := tk.Apply(ticket.Command{Action: ticket.ActionClose, Reason: "x"}, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	*ch.Ticket.ClosedAt = created
	*ch.Ticket.CloseReason = "changed"
	ch.Events[0].Data["reason"] = "changed"
	assertUnchanged(t, before, tk)
}

func TestCommandValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	multi := func(n int) string { return strings.Repeat("ü", n) }
	tests := []struct {
		name string
		cmd  ticket.Command
		want []string // the broken fields, none when valid
	}{
		{"comment", ticket.Command{Action: "comment", Comment: "hi", CommentID: "c"}, nil},
		{"comment body missing", ticket.Command{Action: "comment"}, []string{"body"}},
		{"comment body 20000", ticket.Command{Action: "comment", Comment: long(20000), CommentID: "c"}, nil},
		{"comment body 20000 multi-byte", ticket.Command{Action: "comment", Comment: multi(20000), CommentID: "c"}, nil},
		{"comment body 20001", ticket.Command{Action: "comment", Comment: long(20001), CommentID: "c"}, []string{"body"}},
		{"comment body multiline", ticket.Command{Action: "comment", Comment: "a\nb\r\n\tc", CommentID: "c"}, nil},
		{"comment body control char", ticket.Command{Action: "comment", Comment: "a\x00b", CommentID: "c"}, []string{"body"}},
		{"comment body invalid UTF-8", ticket.Command{Action: "comment", Comment: "a\xc3", CommentID: "c"}, []string{"body"}},
		{"comment without comment_id", ticket.Command{Action: "comment", Comment: "hi"}, []string{"comment_id"}},
		{"answer", ticket.Command{Action: "answer"}, nil},
		{"await", ticket.Command{Action: "await"}, nil},
		{"close", ticket.Command{Action: "close"}, nil},
		{"escalate", ticket.Command{Action: "escalate"}, nil},
		{"answer with comment", ticket.Command{Action: "answer", Comment: "hi", CommentID: "c"}, nil},
		{"answer comment without comment_id", ticket.Command{Action: "answer", Comment: "hi"}, []string{"comment_id"}},
		{"close comment 20000", ticket.Command{Action: "close", Comment: long(20000), CommentID: "c"}, nil},
		{"close comment 20001", ticket.Command{Action: "close", Comment: long(20001), CommentID: "c"}, []string{"comment"}},
		{"reason 500", ticket.Command{Action: "close", Reason: long(500)}, nil},
		{"reason 500 multi-byte", ticket.Command{Action: "escalate", Reason: multi(500)}, nil},
		{"reason 501", ticket.Command{Action: "close", Reason: long(501)}, []string{"reason"}},
		{"reason newline", ticket.Command{Action: "close", Reason: "a\nb"}, []string{"reason"}},
		{"actor 320", ticket.Command{Action: "close", Actor: long(320)}, nil},
		{"actor 321", ticket.Command{Action: "close", Actor: long(321)}, []string{"actor"}},
		{"actor control char", ticket.Command{Action: "close", Actor: "bob\x1b[31m"}, []string{"actor"}},
		{"author 320", ticket.Command{Action: "comment", Comment: "hi", CommentID: "c", Author: multi(320)}, nil},
		{"author 321", ticket.Command{Action: "comment", Comment: "hi", CommentID: "c", Author: long(321)}, []string{"author"}},
		{"author newline", ticket.Command{Action: "comment", Comment: "hi", CommentID: "c", Author: "a\nb"}, []string{"author"}},
		{"unknown action", ticket.Command{Action: "reopen"}, []string{"action"}},
		{"empty action", ticket.Command{}, []string{"action"}},
		{"action is case sensitive", ticket.Command{Action: "Close"}, []string{"action"}},
		{"every field broken", ticket.Command{Action: "reopen", Comment: long(20001), Author: long(321),
			Actor: "\x07", Reason: long(501)}, []string{"action", "comment", "comment_id", "author", "actor", "reason"}},
		{"comment action, several broken", ticket.Command{Action: "comment", Comment: long(20001),
			Author: long(321), Reason: long(501)}, []string{"body", "comment_id", "author", "reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cmd.Validate()
			assertFields(t, err, tt.want...)
			if tt.name == "comment body missing" {
				if msg := fieldMessage(err, "body"); msg != "must not be empty" {
					t.Errorf("body message = %q, want %q", msg, "must not be empty")
				}
			}
			// Check and Apply validate the command first, whatever the ticket.
			tk := ticketIn(t, ticket.StatusOpen)
			if len(tt.want) > 0 {
				assertFields(t, tk.Check(tt.cmd), tt.want...)
				_, err := tk.Apply(tt.cmd, rawNow)
				assertFields(t, err, tt.want...)
			}
		})
	}
}

// TestApplyNormalizesCommand checks that Apply trims the command before it validates it.
func TestApplyNormalizesCommand(t *testing.T) {
	tests := []struct {
		name string
		cmd  ticket.Command
		want []string
	}{
		{"whitespace-only body is empty", ticket.Command{Action: "comment", Comment: " \n\t ", CommentID: "c"}, []string{"body"}},
		{"whitespace-only comment on a transition is no comment", ticket.Command{Action: "answer", Comment: "  \n "}, nil},
		{"body of 20000 plus padding", ticket.Command{Action: "comment", Comment: "\n" + strings.Repeat("x", 20000) + "  ", CommentID: "c"}, nil},
		{"reason of 500 plus padding", ticket.Command{Action: "close", Reason: "  " + strings.Repeat("x", 500) + " "}, nil},
		{"actor of 320 plus padding", ticket.Command{Action: "close", Actor: " " + strings.Repeat("x", 320) + " "}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := ticketIn(t, ticket.StatusOpen).Apply(tt.cmd, rawNow)
			assertFields(t, err, tt.want...)
			if tt.name == "whitespace-only body is empty" {
				if msg := fieldMessage(err, "body"); msg != "must not be empty" {
					t.Errorf("body message = %q, want %q", msg, "must not be empty")
				}
			}
			if tt.name == "whitespace-only comment on a transition is no comment" {
				if ch.Comment != nil || len(ch.Events) != 1 || ch.Ticket.CommentsCount != 2 {
					t.Errorf("a blank comment was written: %+v", ch)
				}
			}
		})
	}
	t.Run("Normalize trims the free text only", func(t *testing.T) {
		// The visibility is no free text: Normalize spells the default ("") out as public.
		got := ticket.Command{Action: "close", Actor: " a ", Comment: "\n b \n", CommentID: " id ", Author: " c ", Reason: " d "}.Normalize()
		want := ticket.Command{Action: "close", Actor: "a", Comment: "b", CommentID: " id ", Author: "c", Reason: "d",
			Visibility: ticket.VisibilityPublic}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Normalize = %+v, want %+v", got, want)
		}
	})
}

// TestCheckAgreesWithApply checks, for every status and action, that Check refuses exactly what
// Apply refuses, with the same code, and writes nothing.
func TestCheckAgreesWithApply(t *testing.T) {
	for _, st := range allStatuses {
		for _, a := range ticket.Actions {
			t.Run(st+"/"+string(a), func(t *testing.T) {
				tk := ticketIn(t, ticket.Status(st))
				before := snapshot(tk)
				// Every action is sent with the fields it takes: a comment, but for assign and tags,
				// which take none and change something, so that only the ticket can refuse them.
				cmd := ticket.Command{Action: a, Actor: actor, Comment: "note", CommentID: "c-1"}
				switch a {
				case ticket.ActionAssign:
					cmd = ticket.Command{Action: a, Actor: actor, Assignee: ptr("bob@example.com"), Group: "billing"}
				case ticket.ActionTags:
					cmd = ticket.Command{Action: a, Actor: actor, AddTags: []string{"vip"}}
				}
				checkErr := tk.Check(cmd)
				_, applyErr := tk.Apply(cmd, rawNow)
				assertUnchanged(t, before, tk)
				if ticket.ErrorCode(checkErr) != ticket.ErrorCode(applyErr) {
					t.Errorf("Check: %v; Apply: %v", checkErr, applyErr)
				}
				var wantCode string
				switch to, ok := a.Target(); {
				case ok && !lifecycle[st][string(to)]:
					wantCode = ticket.EINVALIDTRANSITION
				case !ok && st == "closed":
					wantCode = ticket.ECLOSED
				}
				assertCode(t, checkErr, wantCode)
			})
		}
	}
}

func TestReject(t *testing.T) {
	refusalOf := func(t *testing.T, tk ticket.Ticket, c ticket.Command) error {
		t.Helper()
		_, err := tk.Apply(c, rawNow)
		if err == nil {
			t.Fatalf("Apply(%+v) on %s succeeded; the test wants a refusal", c, tk.Status)
		}
		return err
	}
	tests := []struct {
		name     string
		status   ticket.Status
		cmd      ticket.Command
		refusal  func(*testing.T, ticket.Ticket, ticket.Command) error
		wantTo   ticket.Status
		wantCode string
		reason   string // the reason in Data, "" for none
	}{
		{"answer a closed ticket", ticket.StatusClosed, ticket.Command{Action: "answer", Actor: " bot "},
			refusalOf, ticket.StatusAnswered, ticket.EINVALIDTRANSITION, ""},
		{"await an open ticket", ticket.StatusOpen, ticket.Command{Action: "await", Actor: "bot"},
			refusalOf, ticket.StatusAwaiting, ticket.EINVALIDTRANSITION, ""},
		{"close a closed ticket with a reason", ticket.StatusClosed, ticket.Command{Action: "close", Actor: "bot", Reason: " stale "},
			refusalOf, ticket.StatusClosed, ticket.EINVALIDTRANSITION, "stale"},
		{"escalate a closed ticket", ticket.StatusClosed, ticket.Command{Action: "escalate", Actor: "bot", Reason: "sla"},
			refusalOf, "", ticket.ECLOSED, "sla"},
		{"invalid command", ticket.StatusOpen, ticket.Command{Action: "comment", Actor: "bot"},
			refusalOf, "", ticket.EINVALID, ""},
		{"assign a closed ticket", ticket.StatusClosed, ticket.Command{Action: "assign", Actor: "bot", Assignee: ptr("bob")},
			refusalOf, "", ticket.ECLOSED, ""},
		{"tag a closed ticket", ticket.StatusClosed, ticket.Command{Action: "tags", Actor: "bot", AddTags: []string{"vip"}},
			refusalOf, "", ticket.ECLOSED, ""},
		{"21 tags at once", ticket.StatusOpen, ticket.Command{Action: "tags", Actor: "bot", AddTags: []string{"t", "u", "v", "w", "x",
			"y", "z", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"}},
			refusalOf, "", ticket.EINVALID, ""},
		{"an internal note on a transition", ticket.StatusOpen, ticket.Command{Action: "answer", Actor: "bot", Comment: "x",
			CommentID: "c", Visibility: "internal"}, refusalOf, ticket.StatusAnswered, ticket.EINVALID, ""},
		{"wrapped refusal", ticket.StatusAnswered, ticket.Command{Action: "answer", Actor: "bot"},
			func(t *testing.T, tk ticket.Ticket, c ticket.Command) error {
				return fmt.Errorf("update rejected: %w", refusalOf(t, tk, c))
			}, ticket.StatusAnswered, ticket.EINVALIDTRANSITION, ""},
		{"plain error", ticket.StatusOpen, ticket.Command{Action: "close", Actor: "bot"},
			func(*testing.T, ticket.Ticket, ticket.Command) error {
				return errors.New("dial tcp 10.0.0.7:5432: connection refused")
			}, ticket.StatusClosed, ticket.EINTERNAL, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticketIn(t, tt.status)
			before := snapshot(tk)
			refusal := tt.refusal(t, tk, tt.cmd)
			ch := tk.Reject(tt.cmd, refusal, rawNow)
			assertUnchanged(t, before, tk)
			assertTicket(t, ch.Ticket, before)
			if ch.Comment != nil {
				t.Errorf("a rejection wrote comment %+v", ch.Comment)
			}
			data := map[string]any{"action": string(tt.cmd.Action), "code": tt.wantCode,
				"error": ticket.ErrorMessage(refusal)}
			if tt.reason != "" {
				data["reason"] = tt.reason
			}
			assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventTransitionRejected,
				FromStatus: tt.status, ToStatus: tt.wantTo, Actor: strings.TrimSpace(tt.cmd.Actor), At: now, Data: data})
			if tt.wantCode == ticket.EINTERNAL && ch.Events[0].Data["error"] != "internal error" {
				t.Errorf("an internal error's text reached the trail: %v", ch.Events[0].Data["error"])
			}
			if msg, _ := ch.Events[0].Data["error"].(string); msg == "" {
				t.Error("the event does not say why the command was refused")
			}
		})
	}
}
