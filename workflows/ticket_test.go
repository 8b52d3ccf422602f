package workflows_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
	"github.com/ticketflow/ticketflow/workflows"
)

// wantCreated is the change that creating the ticket of input persists.
func wantCreated(t *testing.T) ticket.Change {
	t.Helper()
	return answered(wire.FromChange(ticket.Change{
		Ticket: ticket.Ticket{ID: ticketID, Title: "Printer on fire", Description: "It is on fire.",
			Status: ticket.StatusOpen, Priority: ticket.PriorityHigh, Requester: requester, Version: 1,
			CreatedAt: start, UpdatedAt: start},
		Events: []ticket.Event{{Seq: 1, Type: ticket.EventCreated, ToStatus: ticket.StatusOpen, Actor: requester,
			At: start, Data: map[string]any{"priority": "high"}}},
	}))
}

func TestCreate(t *testing.T) {
	h := newHarness(t)
	created := h.sendAt(0, createUpdate)[0]
	queried := h.queryAt(time.Minute)
	again := h.sendAt(2*time.Minute, createUpdate)[0]
	h.run()
	h.requireCancelled()

	want := wantCreated(t)
	require.Equal(t, []ticket.Change{want}, h.rec.changes(), "persisted")
	require.Equal(t, []int{1}, h.rec.batchSizes())

	for _, o := range []*outcome{created, again} {
		require.True(t, o.accepted && o.completed, "create %s: accepted %v, completed %v", o.id, o.accepted, o.completed)
		require.NoError(t, o.err)
		require.Equal(t, want.Ticket, answeredTicket(o.value), "create %s", o.id)
		require.Equal(t, []ticket.Change{want}, o.persisted, "create %s answered before the ticket was persisted", o.id)
	}
	require.Equal(t, start, created.doneAt, "the create sent with the start answers as soon as the ticket is persisted")
	require.Equal(t, want.Ticket, *queried)
}

func TestCreateInvalid(t *testing.T) {
	h := newHarness(t)
	in := input
	in.New.Title = "   "
	in.New.Priority = "whenever"
	h.at(24*time.Hour, h.env.CancelWorkflow)
	h.env.ExecuteWorkflow(workflows.TicketWorkflow, in)

	require.True(t, h.env.IsWorkflowCompleted())
	requireDomainError(t, h.env.GetWorkflowError(), ticket.EINVALID, "title", "priority")
	require.Empty(t, h.rec.attempts, "an invalid ticket reached Persist")
}

// TestUpdatesBeforeCreation sends changes while the ticket's creation is still being persisted:
// their validators can only check their fields, and they apply, in the order sent, once the ticket
// exists. The create update answers only then.
func TestUpdatesBeforeCreation(t *testing.T) {
	h := newHarness(t)
	h.rec.fail = func(attempt int32, changes []ticket.Change) error {
		if attempt == 1 && changes[0].Ticket.Version == 1 {
			return errors.New("connection refused")
		}
		return nil
	}
	created := h.sendAt(0, createUpdate)[0]
	outs := h.sendAt(50*time.Millisecond, // the first retry of the creation comes at 100ms
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "first", CommentID: "c-1"}),
		update(ticket.ActionComment, ticket.Command{Actor: agent}), // no body
		update(ticket.ActionAwait, ticket.Command{Actor: agent}),   // the lifecycle forbids it once open
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
	)
	h.run()
	h.requireCancelled()

	require.True(t, created.completed)
	require.NoError(t, created.err)
	require.Equal(t, wantCreated(t).Ticket, answeredTicket(created.value))
	require.Equal(t, start.Add(100*time.Millisecond), created.doneAt, "create answered before its retry")
	require.Len(t, created.persisted, 1)

	comment := requireApplied(t, outs[0])
	require.Equal(t, int64(2), comment.Ticket.Version)
	requireRefused(t, outs[1], ticket.EINVALID, "body")
	requireFailed(t, outs[2], ticket.EINVALIDTRANSITION)
	answer := requireApplied(t, outs[3])
	require.Equal(t, int64(3), answer.Ticket.Version)
	require.Equal(t, ticket.StatusAnswered, answer.Ticket.Status)

	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Equal(t, []ticket.EventType{ticket.EventCreated, ticket.EventCommented, ticket.EventStatusChanged},
		eventTypes(changes...))
}

// TestUpdateWithStart sends a change in the workflow's first task along with the create update,
// as a client would that sends both at once: the change applies once the ticket exists.
func TestUpdateWithStart(t *testing.T) {
	h := newHarness(t)
	outs := h.sendAt(0, createUpdate,
		update(ticket.ActionEscalate, ticket.Command{Actor: agent}),
		update(ticket.ActionComment, ticket.Command{Actor: agent}))
	h.run()
	h.requireCancelled()

	require.Equal(t, wantCreated(t).Ticket, answeredTicket(outs[0].value))
	require.Equal(t, int64(2), requireApplied(t, outs[1]).Ticket.Version)
	requireRefused(t, outs[2], ticket.EINVALID, "body")
	requireTrail(t, h.rec.changes())
}

func TestUpdateApplies(t *testing.T) {
	tests := []struct {
		from       ticket.Status
		action     ticket.Action
		cmd        ticket.Command
		wantStatus ticket.Status
		wantEvents []ticket.EventType
	}{
		{ticket.StatusOpen, ticket.ActionComment, ticket.Command{Comment: "Tried turning it off?", CommentID: "c-9"},
			ticket.StatusOpen, []ticket.EventType{ticket.EventCommented}},
		{ticket.StatusAnswered, ticket.ActionComment, ticket.Command{Comment: "Any news?", CommentID: "c-9", Author: "Bob"},
			ticket.StatusAnswered, []ticket.EventType{ticket.EventCommented}},
		{ticket.StatusAwaiting, ticket.ActionComment, ticket.Command{Comment: "Still on fire", CommentID: "c-9"},
			ticket.StatusAwaiting, []ticket.EventType{ticket.EventCommented}},
		{ticket.StatusOpen, ticket.ActionAnswer, ticket.Command{},
			ticket.StatusAnswered, []ticket.EventType{ticket.EventStatusChanged}},
		{ticket.StatusOpen, ticket.ActionAnswer, ticket.Command{Comment: "Use the extinguisher.", CommentID: "c-9"},
			ticket.StatusAnswered, []ticket.EventType{ticket.EventCommented, ticket.EventStatusChanged}},
		{ticket.StatusAwaiting, ticket.ActionAnswer, ticket.Command{},
			ticket.StatusAnswered, []ticket.EventType{ticket.EventStatusChanged}},
		{ticket.StatusAnswered, ticket.ActionAwait, ticket.Command{},
			ticket.StatusAwaiting, []ticket.EventType{ticket.EventStatusChanged}},
		{ticket.StatusAnswered, ticket.ActionAwait, ticket.Command{Comment: "Did it work?", CommentID: "c-9"},
			ticket.StatusAwaiting, []ticket.EventType{ticket.EventCommented, ticket.EventStatusChanged}},
		{ticket.StatusOpen, ticket.ActionClose, ticket.Command{Reason: " duplicate "},
			ticket.StatusClosed, []ticket.EventType{ticket.EventStatusChanged}},
		{ticket.StatusAnswered, ticket.ActionClose, ticket.Command{Reason: "resolved"},
			ticket.StatusClosed, []ticket.EventType{ticket.EventStatusChanged}},
		{ticket.StatusAwaiting, ticket.ActionClose, ticket.Command{Comment: "No answer, closing.", CommentID: "c-9"},
			ticket.StatusClosed, []ticket.EventType{ticket.EventCommented, ticket.EventStatusChanged}},
		{ticket.StatusOpen, ticket.ActionEscalate, ticket.Command{Reason: "VIP"},
			ticket.StatusOpen, []ticket.EventType{ticket.EventEscalated}},
		{ticket.StatusAnswered, ticket.ActionEscalate, ticket.Command{},
			ticket.StatusAnswered, []ticket.EventType{ticket.EventEscalated}},
		{ticket.StatusAwaiting, ticket.ActionEscalate, ticket.Command{Reason: "SLA"},
			ticket.StatusAwaiting, []ticket.EventType{ticket.EventEscalated}},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s on %s", tt.action, tt.from)
		if tt.cmd.Comment != "" && tt.action != ticket.ActionComment {
			name += " with comment"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			setup, at := h.steps(time.Minute, reach(tt.from)...)
			cmd := tt.cmd
			cmd.Actor = agent
			o := h.sendAt(at, update(tt.action, cmd))[0]
			queried := h.queryAt(at + time.Minute)
			h.run()

			for _, s := range setup {
				requireApplied(t, s)
			}
			ch := requireApplied(t, o)
			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Equal(t, ch, changes[len(changes)-1], "the update answers the change it persisted last")
			before := changes[len(changes)-2].Ticket
			now := start.Add(at)

			want := before
			want.Version++
			want.UpdatedAt = now
			want.Status = tt.wantStatus
			if tt.cmd.Comment != "" {
				want.CommentsCount++
				author := tt.cmd.Author
				if author == "" {
					author = agent
				}
				require.Equal(t, &ticket.Comment{ID: tt.cmd.CommentID, TicketID: ticketID, Body: tt.cmd.Comment,
					Author: author, CreatedAt: now, Visibility: ticket.VisibilityPublic}, ch.Comment)
			} else {
				require.Nil(t, ch.Comment)
			}
			if tt.action == ticket.ActionEscalate {
				want.EscalationLevel++
			}
			if tt.wantStatus == ticket.StatusAnswered && want.FirstRespondedAt == nil {
				want.FirstRespondedAt = &now
			}
			if tt.wantStatus == ticket.StatusClosed {
				want.ClosedAt = &now
				if r := strings.TrimSpace(tt.cmd.Reason); r != "" {
					want.CloseReason = &r
				}
			}
			require.Equal(t, want, ch.Ticket)
			require.Equal(t, tt.wantEvents, eventTypes(ch))
			for _, ev := range ch.Events {
				require.Equal(t, agent, ev.Actor)
				require.Equal(t, now, ev.At)
				if ev.Type == ticket.EventStatusChanged {
					require.Equal(t, before.Status, ev.FromStatus)
					require.Equal(t, tt.wantStatus, ev.ToStatus)
				}
			}

			if tt.wantStatus == ticket.StatusClosed {
				require.Equal(t, ch.Ticket, h.requireCompleted(), "the workflow returns the closed ticket")
				return
			}
			h.requireCancelled()
			require.Equal(t, ch.Ticket, *queried, "the query reflects the change")
		})
	}
}

func TestValidatorRejects(t *testing.T) {
	tests := []struct {
		name       string
		from       ticket.Status
		action     ticket.Action
		cmd        ticket.Command
		wantCode   string
		wantFields []string
	}{
		{"answer twice", ticket.StatusAnswered, ticket.ActionAnswer, ticket.Command{},
			ticket.EINVALIDTRANSITION, nil},
		{"await on open", ticket.StatusOpen, ticket.ActionAwait, ticket.Command{},
			ticket.EINVALIDTRANSITION, nil},
		{"await twice", ticket.StatusAwaiting, ticket.ActionAwait, ticket.Command{},
			ticket.EINVALIDTRANSITION, nil},
		{"comment with empty body", ticket.StatusOpen, ticket.ActionComment, ticket.Command{CommentID: "c-1"},
			ticket.EINVALID, []string{"body"}},
		{"comment with blank body", ticket.StatusAnswered, ticket.ActionComment, ticket.Command{Comment: " \n\t ", CommentID: "c-1"},
			ticket.EINVALID, []string{"body"}},
		{"comment without id", ticket.StatusOpen, ticket.ActionComment, ticket.Command{Comment: "hello"},
			ticket.EINVALID, []string{"comment_id"}},
		{"escalate with long reason and control characters", ticket.StatusOpen, ticket.ActionEscalate,
			ticket.Command{Reason: strings.Repeat("x", ticket.MaxReasonLen+1), Author: "a\x00b"},
			ticket.EINVALID, []string{"reason", "author"}},
		{"invalid fields win over the lifecycle", ticket.StatusOpen, ticket.ActionAwait, ticket.Command{Comment: "x"},
			ticket.EINVALID, []string{"comment_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, at := h.steps(time.Minute, reach(tt.from)...)
			cmd := tt.cmd
			cmd.Actor = agent
			o := h.sendAt(at, update(tt.action, cmd))[0]
			queried := h.queryAt(at + time.Minute)
			h.run()
			h.requireCancelled()

			requireRefused(t, o, tt.wantCode, tt.wantFields...)
			changes := h.rec.changes()
			require.Len(t, changes, 1+len(reach(tt.from)), "a rejected update persisted something")
			requireTrail(t, changes)
			require.Equal(t, changes[len(changes)-1].Ticket, *queried)
		})
	}
}

// TestValidatorAfterClose sends updates while the workflow, its ticket closed, is still persisting
// a signal that came with the close: the validators refuse them before they reach the history.
func TestValidatorAfterClose(t *testing.T) {
	h := newHarness(t)
	// The refusal of the late signal is persisted on the second attempt, which leaves a moment in
	// which the ticket is closed and the workflow still runs.
	h.rec.fail = func(attempt int32, changes []ticket.Change) error {
		if attempt == 1 && isRejection(changes[0]) {
			return errors.New("connection reset")
		}
		return nil
	}
	closed := h.sendAt(time.Minute,
		update(ticket.ActionClose, ticket.Command{Actor: agent, Reason: "fixed"}),
		signal(ticket.ActionEscalate, ticket.Command{}))[0]
	late := h.sendAt(time.Minute+50*time.Millisecond,
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "thanks", CommentID: "c-2"}),
		update(ticket.ActionEscalate, ticket.Command{Actor: agent}),
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
		update(ticket.ActionClose, ticket.Command{Actor: agent}),
		update(ticket.ActionComment, ticket.Command{Actor: agent}),
	)
	h.run()

	closeChange := requireApplied(t, closed)
	requireRefused(t, late[0], ticket.ECLOSED)
	requireRefused(t, late[1], ticket.ECLOSED)
	requireRefused(t, late[2], ticket.EINVALIDTRANSITION)
	requireRefused(t, late[3], ticket.EINVALIDTRANSITION)
	requireRefused(t, late[4], ticket.EINVALID, "body")

	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Len(t, changes, 3, "created, closed, the late signal's refusal")
	require.Equal(t, closeChange.Ticket, h.requireCompleted())
}

// TestHandlerRechecks sends two updates in the same instant. The second one's validator sees the
// ticket before the first applies, so it is accepted; the workflow must refuse it when its turn
// comes.
func TestHandlerRechecks(t *testing.T) {
	tests := []struct {
		name       string
		from       ticket.Status
		first      msg
		second     msg
		wantStatus ticket.Status
		wantCode   string
	}{
		{"answer twice on open", ticket.StatusOpen,
			update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
			update(ticket.ActionAnswer, ticket.Command{Actor: agent, Comment: "me too", CommentID: "c-2"}),
			ticket.StatusAnswered, ticket.EINVALIDTRANSITION},
		{"await twice on answered", ticket.StatusAnswered,
			update(ticket.ActionAwait, ticket.Command{Actor: agent}),
			update(ticket.ActionAwait, ticket.Command{Actor: agent}),
			ticket.StatusAwaiting, ticket.EINVALIDTRANSITION},
		{"close then comment", ticket.StatusOpen,
			update(ticket.ActionClose, ticket.Command{Actor: agent}),
			update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "too late", CommentID: "c-2"}),
			ticket.StatusClosed, ticket.ECLOSED},
		{"close then escalate", ticket.StatusAwaiting,
			update(ticket.ActionClose, ticket.Command{Actor: agent}),
			update(ticket.ActionEscalate, ticket.Command{Actor: agent}),
			ticket.StatusClosed, ticket.ECLOSED},
		{"close twice", ticket.StatusAnswered,
			update(ticket.ActionClose, ticket.Command{Actor: agent, Reason: "first"}),
			update(ticket.ActionClose, ticket.Command{Actor: agent, Reason: "second"}),
			ticket.StatusClosed, ticket.EINVALIDTRANSITION},
		{"close then assign", ticket.StatusOpen,
			update(ticket.ActionClose, ticket.Command{Actor: agent}),
			update(ticket.ActionAssign, ticket.Command{Actor: agent, Assignee: ptr("bob")}),
			ticket.StatusClosed, ticket.ECLOSED},
		{"close then tags", ticket.StatusAwaiting,
			update(ticket.ActionClose, ticket.Command{Actor: agent}),
			update(ticket.ActionTags, ticket.Command{Actor: agent, AddTags: []string{"late"}}),
			ticket.StatusClosed, ticket.ECLOSED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, at := h.steps(time.Minute, reach(tt.from)...)
			outs := h.sendAt(at, tt.first, tt.second)
			h.run()

			first := requireApplied(t, outs[0])
			require.Equal(t, tt.wantStatus, first.Ticket.Status)
			requireFailed(t, outs[1], tt.wantCode)

			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Len(t, changes, 2+len(reach(tt.from)), "the refused update persisted something")
			require.Equal(t, first, changes[len(changes)-1])
			if tt.wantStatus == ticket.StatusClosed {
				require.Equal(t, first.Ticket, h.requireCompleted())
			} else {
				h.requireCancelled()
			}
		})
	}
}

func TestUpdatesApplyInOrderSent(t *testing.T) {
	const n = 20
	h := newHarness(t)
	var msgs []msg
	for i := range n {
		msgs = append(msgs, update(ticket.ActionComment, ticket.Command{Actor: agent,
			Comment: fmt.Sprintf("comment %d", i+1), CommentID: fmt.Sprintf("c-%02d", i+1)}))
	}
	outs := h.sendAt(time.Minute, msgs...)
	queried := h.queryAt(2 * time.Minute)
	h.run()
	h.requireCancelled()

	for i, o := range outs {
		ch := requireApplied(t, o)
		require.Equal(t, int64(i+2), ch.Ticket.Version, "comment %d", i+1)
		require.Equal(t, i+1, ch.Ticket.CommentsCount, "comment %d", i+1)
		require.Equal(t, fmt.Sprintf("c-%02d", i+1), ch.Comment.ID)
		require.Equal(t, int64(i+2), ch.Events[0].Seq, "comment %d", i+1)
	}
	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Len(t, changes, n+1)
	for i, ch := range changes[1:] {
		require.Equal(t, fmt.Sprintf("comment %d", i+1), ch.Comment.Body)
	}
	require.Equal(t, changes[n].Ticket, *queried)
	require.Less(t, len(h.rec.batchSizes()), n+1, "a burst of changes is persisted in batches, not one activity each")
}

// TestBatchLimits checks that a batch never exceeds the count and size limits of one activity.
func TestBatchLimits(t *testing.T) {
	tests := []struct {
		name string
		n    int
		body string
	}{
		{"many small comments", 150, "ok"},
		{"large comments", 12, strings.Repeat("🔥", ticket.MaxBodyLen)}, // 80 000 bytes each
	}
	const maxBatch, maxBatchBytes = 64, 256 << 10 // the workflow's limits
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var msgs []msg
			for i := range tt.n {
				msgs = append(msgs, update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: tt.body,
					CommentID: fmt.Sprintf("c-%03d", i+1)}))
			}
			outs := h.sendAt(time.Minute, msgs...)
			h.run()
			h.requireCancelled()

			for i, o := range outs {
				require.Equal(t, int64(i+2), requireApplied(t, o).Ticket.Version)
			}
			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Len(t, changes, tt.n+1)
			h.rec.mu.Lock()
			defer h.rec.mu.Unlock()
			for i, b := range h.rec.batches {
				size := 0
				for _, ch := range b {
					if ch.Comment != nil {
						size += len(ch.Comment.Body)
					}
				}
				require.LessOrEqual(t, len(b), maxBatch, "batch %d", i)
				if len(b) > 1 {
					require.LessOrEqual(t, size, maxBatchBytes, "batch %d of %d changes", i, len(b))
				}
			}
			require.Less(t, len(h.rec.batches), tt.n, "changes were not batched")
		})
	}
}

func TestSignalApplies(t *testing.T) {
	tests := []struct {
		name      string
		action    ticket.Action
		cmd       ticket.Command
		wantActor string
		check     func(t *testing.T, before, after ticket.Ticket)
	}{
		{"escalate without actor", ticket.ActionEscalate, ticket.Command{Reason: "SLA breached"}, "automation",
			func(t *testing.T, before, after ticket.Ticket) {
				require.Equal(t, before.EscalationLevel+1, after.EscalationLevel)
			}},
		{"comment by a bot", ticket.ActionComment, ticket.Command{Actor: "bot", Comment: "Reminder", CommentID: "c-1"}, "bot",
			func(t *testing.T, before, after ticket.Ticket) {
				require.Equal(t, before.CommentsCount+1, after.CommentsCount)
			}},
		{"answer, with the action in the payload ignored", ticket.ActionAnswer,
			ticket.Command{Action: ticket.ActionClose}, "automation",
			func(t *testing.T, before, after ticket.Ticket) {
				require.Equal(t, ticket.StatusAnswered, after.Status)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.sendAt(time.Minute, signal(tt.action, tt.cmd))
			queried := h.queryAt(2 * time.Minute)
			h.run()
			h.requireCancelled()

			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Len(t, changes, 2)
			ch := changes[1]
			require.Equal(t, int64(2), ch.Ticket.Version)
			for _, ev := range ch.Events {
				require.Equal(t, tt.wantActor, ev.Actor)
				require.Equal(t, start.Add(time.Minute), ev.At)
			}
			tt.check(t, changes[0].Ticket, ch.Ticket)
			require.Equal(t, ch.Ticket, *queried)
		})
	}
}

func TestSignalRefusedIsRecorded(t *testing.T) {
	tests := []struct {
		name     string
		from     ticket.Status
		action   ticket.Action
		cmd      ticket.Command
		wantCode string
		wantTo   ticket.Status
	}{
		{"await on open", ticket.StatusOpen, ticket.ActionAwait, ticket.Command{}, ticket.EINVALIDTRANSITION, ticket.StatusAwaiting},
		{"answer on answered", ticket.StatusAnswered, ticket.ActionAnswer, ticket.Command{Actor: "bot"},
			ticket.EINVALIDTRANSITION, ticket.StatusAnswered},
		{"comment without body", ticket.StatusAwaiting, ticket.ActionComment, ticket.Command{CommentID: "c-1"},
			ticket.EINVALID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, at := h.steps(time.Minute, reach(tt.from)...)
			h.sendAt(at, signal(tt.action, tt.cmd))
			queried := h.queryAt(at + time.Minute)
			h.run()
			h.requireCancelled()

			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Len(t, changes, 2+len(reach(tt.from)))
			before, ch := changes[len(changes)-2].Ticket, changes[len(changes)-1]
			require.Equal(t, before, ch.Ticket, "a refused signal leaves the ticket as it was")
			require.Nil(t, ch.Comment)
			require.Len(t, ch.Events, 1)
			ev := ch.Events[0]
			actor := tt.cmd.Actor
			if actor == "" {
				actor = "automation"
			}
			require.Equal(t, ticket.EventTransitionRejected, ev.Type)
			require.Equal(t, tt.from, ev.FromStatus)
			require.Equal(t, tt.wantTo, ev.ToStatus)
			require.Equal(t, actor, ev.Actor)
			require.Equal(t, start.Add(at), ev.At)
			require.Equal(t, string(tt.action), ev.Data["action"])
			require.Equal(t, tt.wantCode, ev.Data["code"])
			require.NotEmpty(t, ev.Data["error"])
			require.Equal(t, before, *queried)
		})
	}
}

// TestSignalsAndUpdatesInterleave sends updates and signals in one instant, each in its own
// workflow task: they apply in the order they arrived.
func TestSignalsAndUpdatesInterleave(t *testing.T) {
	h := newHarness(t)
	outs := h.sendAt(time.Minute,
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
		signal(ticket.ActionComment, ticket.Command{Actor: "bot", Comment: "from bot", CommentID: "c-1"}),
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "from agent", CommentID: "c-2"}),
		signal(ticket.ActionAwait, ticket.Command{}),
		signal(ticket.ActionAwait, ticket.Command{}), // refused: already awaiting
		update(ticket.ActionEscalate, ticket.Command{Actor: agent}),
		update(ticket.ActionClose, ticket.Command{Actor: agent}),
	)
	h.run()

	for _, i := range []int{0, 2, 5, 6} {
		requireApplied(t, outs[i])
	}
	changes := h.rec.changes()
	requireTrail(t, changes)
	type step struct {
		version int64
		actor   string
		events  []ticket.EventType
	}
	var got []step
	for _, ch := range changes[1:] {
		got = append(got, step{ch.Ticket.Version, ch.Events[0].Actor, eventTypes(ch)})
	}
	require.Equal(t, []step{
		{2, agent, []ticket.EventType{ticket.EventStatusChanged}},
		{3, "bot", []ticket.EventType{ticket.EventCommented}},
		{4, agent, []ticket.EventType{ticket.EventCommented}},
		{5, "automation", []ticket.EventType{ticket.EventStatusChanged}},
		{5, "automation", []ticket.EventType{ticket.EventTransitionRejected}},
		{6, agent, []ticket.EventType{ticket.EventEscalated}},
		{7, agent, []ticket.EventType{ticket.EventStatusChanged}},
	}, got)
	final := h.requireCompleted()
	require.Equal(t, ticket.StatusClosed, final.Status)
	require.Equal(t, 2, final.CommentsCount)
}

// TestSignalsInOneTaskFollowSignalOrder delivers signals in one workflow task, as the server does
// when they arrive while the worker is busy. Temporal keeps no order between signals of different
// names there, so the workflow applies them in its documented signalOrder: comments and
// transitions first, close last; signals of one name keep their order.
func TestSignalsInOneTaskFollowSignalOrder(t *testing.T) {
	h := newHarness(t)
	closing := signal(ticket.ActionClose, ticket.Command{Actor: "bot"})
	closing.skipTask = true
	answer := signal(ticket.ActionAnswer, ticket.Command{Actor: "bot"})
	answer.skipTask = true
	first := signal(ticket.ActionComment, ticket.Command{Actor: "bot", Comment: "first", CommentID: "c-1"})
	first.skipTask = true
	second := signal(ticket.ActionComment, ticket.Command{Actor: "bot", Comment: "second", CommentID: "c-2"})
	h.sendAt(time.Minute, closing, answer, first, second) // the last signal's task runs all four
	h.run()

	changes := h.rec.changes()
	requireTrail(t, changes)
	var got []string
	for _, ch := range changes[1:] {
		got = append(got, fmt.Sprintf("v%d %s", ch.Ticket.Version, eventTypes(ch)))
	}
	require.Equal(t, []string{
		"v2 [commented]",      // first
		"v3 [commented]",      // second
		"v4 [status_changed]", // answer
		"v5 [status_changed]", // close, last
	}, got, "signals of one task not applied in signalOrder")
	require.Equal(t, "first", changes[1].Comment.Body)
	final := h.requireCompleted()
	require.Equal(t, ticket.StatusClosed, final.Status)
	require.Equal(t, 2, final.CommentsCount)
}

func TestClose(t *testing.T) {
	h := newHarness(t)
	h.steps(time.Minute,
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
		update(ticket.ActionEscalate, ticket.Command{Actor: agent}))
	closed := h.sendAt(3*time.Minute, update(ticket.ActionClose, ticket.Command{Actor: agent, Reason: " resolved  "}))[0]
	h.run()

	ch := requireApplied(t, closed)
	final := h.requireCompleted()
	require.Equal(t, ch.Ticket, final)
	require.Equal(t, ticket.StatusClosed, final.Status)
	require.Equal(t, int64(4), final.Version)
	require.Equal(t, 1, final.EscalationLevel)
	require.NotNil(t, final.CloseReason)
	require.Equal(t, "resolved", *final.CloseReason)
	require.NotNil(t, final.ClosedAt)
	require.Equal(t, start.Add(3*time.Minute), *final.ClosedAt)
	require.Equal(t, map[string]any{"reason": "resolved"}, ch.Events[0].Data)
	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Equal(t, ch, changes[len(changes)-1])
}

// TestCloseWaitsForSignals sends signals in the same instant as the close that the workflow has
// not yet applied when it closes the ticket: each is still recorded, as refused, before the
// workflow completes.
func TestCloseWaitsForSignals(t *testing.T) {
	tests := []struct {
		name  string
		close msg
		late  []msg
	}{
		{"close by update, then a signal",
			update(ticket.ActionClose, ticket.Command{Actor: agent}),
			[]msg{signal(ticket.ActionComment, ticket.Command{Comment: "late", CommentID: "c-1"})}},
		{"close by update, then two signals",
			update(ticket.ActionClose, ticket.Command{Actor: agent}),
			[]msg{signal(ticket.ActionEscalate, ticket.Command{}), signal(ticket.ActionAnswer, ticket.Command{})}},
		{"close by signal, then a signal",
			signal(ticket.ActionClose, ticket.Command{}),
			[]msg{signal(ticket.ActionEscalate, ticket.Command{})}},
		// The late signal reaches the workflow in the same task as the end of the close's activity,
		// as it does when it arrives while that activity runs.
		{"close by signal, then a signal in the task that persists the close",
			signal(ticket.ActionClose, ticket.Command{}),
			[]msg{{action: string(ticket.ActionEscalate), cmd: &ticket.Command{}, signal: true, skipTask: true}}},
		{"close by update, then a signal in the task that persists the close",
			update(ticket.ActionClose, ticket.Command{Actor: agent}),
			[]msg{{action: string(ticket.ActionEscalate), cmd: &ticket.Command{}, signal: true, skipTask: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.sendAt(time.Minute, append([]msg{tt.close}, tt.late...)...)
			h.run()

			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Len(t, changes, 2+len(tt.late), "every late signal is recorded before the workflow completes")
			closed := changes[1].Ticket
			require.Equal(t, ticket.StatusClosed, closed.Status)
			for i, ch := range changes[2:] {
				require.True(t, isRejection(ch), "late signal %d was not refused: %+v", i, ch.Events)
				require.Equal(t, closed, ch.Ticket)
				require.Equal(t, tt.late[i].action, ch.Events[0].Data["action"])
			}
			require.Equal(t, closed, h.requireCompleted())
		})
	}
}

// TestQueryFollowsEachChange queries the ticket after every step of its life.
func TestQueryFollowsEachChange(t *testing.T) {
	h := newHarness(t)
	msgs := []msg{
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "hi", CommentID: "c-1"}),
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
		signal(ticket.ActionEscalate, ticket.Command{}),
		update(ticket.ActionAwait, ticket.Command{Actor: agent}),
		signal(ticket.ActionAwait, ticket.Command{}), // refused: the version stays
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
	}
	var queried []*ticket.Ticket
	for i, m := range msgs {
		d := time.Duration(i+1) * time.Minute
		h.sendAt(d, m)
		queried = append(queried, h.queryAt(d+30*time.Second))
	}
	h.run()
	h.requireCancelled()

	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Len(t, changes, len(msgs)+1)
	for i, q := range queried {
		require.Equal(t, changes[i+1].Ticket, *q, "query after step %d", i+1)
	}
	require.Equal(t, []int64{2, 3, 4, 5, 5, 6}, []int64{queried[0].Version, queried[1].Version,
		queried[2].Version, queried[3].Version, queried[4].Version, queried[5].Version})
}

// TestPersistRetried fails the answer's activity twice: the workflow retries it, and the update
// answers only once the change is written, exactly once.
func TestPersistRetried(t *testing.T) {
	h := newHarness(t)
	h.rec.fail = func(attempt int32, changes []ticket.Change) error {
		if changes[0].Ticket.Status == ticket.StatusAnswered && attempt <= 2 {
			return temporal.NewApplicationError("database is restarting", "Unavailable")
		}
		return nil
	}
	o := h.sendAt(time.Minute, update(ticket.ActionAnswer, ticket.Command{Actor: agent}))[0]
	h.sendAt(time.Hour, update(ticket.ActionClose, ticket.Command{Actor: agent}))
	h.run()

	ch := requireApplied(t, o)
	require.Equal(t, int64(2), ch.Ticket.Version)
	require.Equal(t, start.Add(time.Minute), ch.Ticket.UpdatedAt, "the change keeps the time it was applied")
	require.True(t, o.doneAt.After(start.Add(time.Minute)), "the update answered at %s, before the retries", o.doneAt)

	h.rec.mu.Lock()
	attempts := 0
	for _, a := range h.rec.attempts {
		if a[0].Ticket.Version == 2 {
			attempts++
			require.Equal(t, []ticket.Change{ch}, a, "every attempt writes the same change")
		}
	}
	h.rec.mu.Unlock()
	require.Equal(t, 3, attempts)

	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Len(t, changes, 3, "created, answered once, closed")
	require.Equal(t, ch, changes[1])
	require.Equal(t, int64(3), h.requireCompleted().Version)
}
