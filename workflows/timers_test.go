package workflows_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

const day = 24 * time.Hour

// policy is the configuration's default policy. The test ticket is high, so its SLA is 8h.
var policy = ticket.Policy{
	FirstResponseSLA: map[ticket.Priority]time.Duration{
		ticket.PriorityLow: 72 * time.Hour, ticket.PriorityNormal: 24 * time.Hour,
		ticket.PriorityHigh: 8 * time.Hour, ticket.PriorityUrgent: time.Hour,
	},
	MaxSLAEscalations: 3,
	AutoCloseAfter:    7 * day,
}

// timerLog records the timers the workflow starts, and which of them fire or are cancelled.
type timerLog struct {
	mu        sync.Mutex
	started   []time.Duration
	fired     int
	cancelled int
}

// logTimers records the harness's timers from now on.
func (h *harness) logTimers() *timerLog {
	l := &timerLog{}
	h.env.SetOnTimerScheduledListener(func(_ string, d time.Duration) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.started = append(l.started, d)
	})
	h.env.SetOnTimerFiredListener(func(string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.fired++
	})
	h.env.SetOnTimerCanceledListener(func(string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.cancelled++
	})
	return l
}

// automated is one change that the timers made, as the audit trail shows it.
type automated struct {
	at     time.Duration // after the start
	event  ticket.EventType
	reason string
	level  int // escalation level after an escalation
}

func (a automated) String() string {
	return fmt.Sprintf("%s %s %s level %d", a.at, a.event, a.reason, a.level)
}

// timerChanges returns the changes of the persisted trail that the timers made, checking that each
// carries the timers' actor.
func timerChanges(t *testing.T, changes []ticket.Change) []automated {
	t.Helper()
	var got []automated
	for _, ch := range changes {
		for _, ev := range ch.Events {
			if ev.Actor != ticket.TimerActor {
				continue
			}
			a := automated{at: ev.At.Sub(start), event: ev.Type}
			a.reason, _ = ev.Data["reason"].(string)
			if ev.Type == ticket.EventEscalated {
				a.level = ch.Ticket.EscalationLevel
				require.EqualValues(t, a.level, ev.Data["level"])
			}
			got = append(got, a)
		}
	}
	return got
}

func escalatedAt(at time.Duration, level int) automated {
	return automated{at: at, event: ticket.EventEscalated, reason: "first_response_sla", level: level}
}

func closedAt(at time.Duration) automated {
	return automated{at: at, event: ticket.EventStatusChanged, reason: "timeout"}
}

// TestFirstResponseSLA leaves the ticket open: it escalates itself when its SLA runs out, again
// after each further period, and stops at the ceiling.
func TestFirstResponseSLA(t *testing.T) {
	h := newHarness(t)
	h.in.Policy = wire.FromPolicy(policy)
	h.until = 3 * day
	timers := h.logTimers()
	queried := h.queryAt(2 * day)
	h.run()
	h.requireCancelled()

	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Equal(t, []automated{escalatedAt(8*time.Hour, 1), escalatedAt(16*time.Hour, 2), escalatedAt(24*time.Hour, 3)},
		timerChanges(t, changes))
	for _, ch := range changes[1:] {
		require.Equal(t, ticket.StatusOpen, ch.Ticket.Status)
		require.Equal(t, ch.Events[0].At, ch.Ticket.UpdatedAt)
	}
	require.Equal(t, 3, queried.EscalationLevel)
	require.Equal(t, int64(4), queried.Version)
	require.Equal(t, []time.Duration{8 * time.Hour, 8 * time.Hour, 8 * time.Hour}, timers.started,
		"one timer per period, each armed when the one before fired")
	require.Equal(t, 3, timers.fired)
}

func TestFirstResponseSLAPerPriority(t *testing.T) {
	for _, pr := range ticket.Priorities {
		t.Run(string(pr), func(t *testing.T) {
			h := newHarness(t)
			h.in.New.Priority = string(pr)
			h.in.Policy = wire.FromPolicy(policy)
			h.in.Policy.MaxSLAEscalations = 1
			h.until = 4 * day
			h.run()

			sla := policy.FirstResponseSLA[pr]
			require.Equal(t, []automated{escalatedAt(sla, 1)}, timerChanges(t, h.rec.changes()))
		})
	}
}

// TestFirstResponseSLARearms checks what each change does to the SLA: leaving open ends it,
// comments and escalations by people leave it running, and a zero policy arms nothing. Leaving
// open cancels no timer: the SLA's fires before the auto-close deadline that replaces it, finds
// nothing due, and arms the auto-close (see rearm).
func TestFirstResponseSLARearms(t *testing.T) {
	comment := func(id string) msg {
		return update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "any news?", CommentID: id})
	}
	tests := []struct {
		name          string
		policy        ticket.Policy
		send          map[time.Duration]msg
		want          []automated
		wantCancelled int
	}{
		{"answered before the SLA runs out", policy,
			map[time.Duration]msg{7 * time.Hour: update(ticket.ActionAnswer, ticket.Command{Actor: agent})},
			nil, 0},
		{"answered between two escalations", policy,
			map[time.Duration]msg{9 * time.Hour: update(ticket.ActionAnswer, ticket.Command{Actor: agent})},
			[]automated{escalatedAt(8*time.Hour, 1)}, 0},
		{"answered by an automation's signal", policy,
			map[time.Duration]msg{17 * time.Hour: signal(ticket.ActionAnswer, ticket.Command{Actor: "bot"})},
			[]automated{escalatedAt(8*time.Hour, 1), escalatedAt(16*time.Hour, 2)}, 0},
		{"comments do not postpone the first response", policy,
			map[time.Duration]msg{time.Hour: comment("c-1"), 7*time.Hour + 59*time.Minute: comment("c-2")},
			[]automated{escalatedAt(8*time.Hour, 1), escalatedAt(16*time.Hour, 2), escalatedAt(24*time.Hour, 3)}, 0},
		{"a manual escalation raises the level but does not use up the ceiling", policy,
			map[time.Duration]msg{time.Hour: update(ticket.ActionEscalate, ticket.Command{Actor: agent, Reason: "vip"})},
			[]automated{escalatedAt(8*time.Hour, 2), escalatedAt(16*time.Hour, 3), escalatedAt(24*time.Hour, 4)}, 0},
		{"a refused signal changes nothing", policy,
			map[time.Duration]msg{time.Hour: signal(ticket.ActionAwait, ticket.Command{})},
			[]automated{escalatedAt(8*time.Hour, 1), escalatedAt(16*time.Hour, 2), escalatedAt(24*time.Hour, 3)}, 0},
		{"the zero policy arms no timer", ticket.Policy{},
			map[time.Duration]msg{time.Hour: comment("c-1")}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.in.Policy = wire.FromPolicy(tt.policy)
			h.until = 3 * day // before any auto-close
			timers := h.logTimers()
			for at, m := range tt.send {
				h.sendAt(at, m)
			}
			h.run()
			h.requireCancelled()

			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Len(t, changes, 1+len(tt.send)+len(tt.want))
			require.Equal(t, tt.want, timerChanges(t, changes))
			require.Equal(t, tt.wantCancelled, timers.cancelled, "timers cancelled")
			if tt.policy.MaxSLAEscalations == 0 {
				require.Empty(t, timers.started, "a zero policy started a timer")
			}
		})
	}
}

// TestAutoClose leaves an answered ticket alone: it closes itself with the reason timeout, and the
// workflow completes with it.
func TestAutoClose(t *testing.T) {
	for _, st := range []ticket.Status{ticket.StatusAnswered, ticket.StatusAwaiting} {
		t.Run(string(st), func(t *testing.T) {
			h := newHarness(t)
			h.in.Policy = wire.FromPolicy(policy)
			h.until = 30 * day
			_, last := h.steps(time.Minute, reach(st)...)
			h.run()

			changes := h.rec.changes()
			requireTrail(t, changes)
			lastChange := last - time.Minute
			require.Equal(t, []automated{closedAt(lastChange + 7*day)}, timerChanges(t, changes))

			final := h.requireCompleted()
			closedTime := start.Add(lastChange + 7*day)
			require.Equal(t, ticket.StatusClosed, final.Status)
			require.Equal(t, &closedTime, final.ClosedAt)
			require.NotNil(t, final.CloseReason)
			require.Equal(t, "timeout", *final.CloseReason)
			ev := changes[len(changes)-1].Events[0]
			require.Equal(t, st, ev.FromStatus)
			require.Equal(t, ticket.StatusClosed, ev.ToStatus)
		})
	}
}

// TestAutoCloseRearms checks that activity on an answered ticket postpones its auto-close: every
// accepted change is activity, a refused signal is not, and a close ends it. No timer is ever
// cancelled: each change moves the deadline later, so the armed timer is kept and re-armed when it
// fires with nothing due (see rearm), and a close ends the run with its timer.
func TestAutoCloseRearms(t *testing.T) {
	answered := time.Minute
	tests := []struct {
		name string
		send []msg // one a day from day 3
		want []automated
	}{
		{"nothing happens", nil, []automated{closedAt(answered + 7*day)}},
		{"a comment", []msg{update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "news?", CommentID: "c-1"})},
			[]automated{closedAt(3*day + 7*day)}},
		{"a comment by an automation's signal", []msg{signal(ticket.ActionComment, ticket.Command{Comment: "ping", CommentID: "c-1"})},
			[]automated{closedAt(3*day + 7*day)}},
		{"an escalation", []msg{update(ticket.ActionEscalate, ticket.Command{Actor: agent})},
			[]automated{closedAt(3*day + 7*day)}},
		{"await, then answer again", []msg{update(ticket.ActionAwait, ticket.Command{Actor: agent}),
			update(ticket.ActionAnswer, ticket.Command{Actor: agent})},
			[]automated{closedAt(4*day + 7*day)}},
		{"a refused signal is no activity", []msg{signal(ticket.ActionAnswer, ticket.Command{Actor: "bot"})},
			[]automated{closedAt(answered + 7*day)}},
		{"closed by a person", []msg{update(ticket.ActionClose, ticket.Command{Actor: agent, Reason: "fixed"})}, nil},
		{"closed by an automation with the reason timeout", []msg{signal(ticket.ActionClose, ticket.Command{Actor: "sla-bot", Reason: "timeout"})}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.in.Policy = wire.FromPolicy(policy)
			h.until = 30 * day
			timers := h.logTimers()
			h.sendAt(answered, update(ticket.ActionAnswer, ticket.Command{Actor: agent}))
			for i, m := range tt.send {
				h.sendAt(time.Duration(3+i)*day, m)
			}
			h.run()

			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Equal(t, tt.want, timerChanges(t, changes))
			final := h.requireCompleted()
			require.Equal(t, ticket.StatusClosed, final.Status, "the workflow ends with the ticket closed")
			if tt.want == nil {
				require.Equal(t, time.Duration(3+len(tt.send)-1)*day, final.ClosedAt.Sub(start))
			}
			require.Zero(t, timers.cancelled, "timers cancelled")
		})
	}
}

// TestAutoCloseOff checks that a zero AutoCloseAfter leaves an answered ticket alone.
func TestAutoCloseOff(t *testing.T) {
	h := newHarness(t)
	h.in.Policy = wire.FromPolicy(policy)
	h.in.Policy.AutoCloseAfter = 0
	h.until = 60 * day
	timers := h.logTimers()
	h.sendAt(time.Hour, update(ticket.ActionAnswer, ticket.Command{Actor: agent}))
	h.run()
	h.requireCancelled()

	require.Len(t, h.rec.changes(), 2)
	require.Equal(t, []time.Duration{8 * time.Hour}, timers.started, "only the SLA was armed")
	require.Equal(t, 1, timers.cancelled)
}

// TestTimerComesAfterItsTask delivers a change in the same workflow task in which a timer fires,
// as when it reaches the server just before the deadline: the change applies first, and the tick,
// which asks the ticket again, finds nothing due.
func TestTimerComesAfterItsTask(t *testing.T) {
	tests := []struct {
		name   string
		before []msg // reach the status
		at     time.Duration
		change ticket.Action
		want   []automated
	}{
		{"an answer in the task in which the SLA runs out", nil, 8 * time.Hour, ticket.ActionAnswer,
			[]automated{closedAt(8*time.Hour + 7*day)}},
		{"a comment in the task in which the auto-close falls due", reach(ticket.StatusAnswered), time.Minute + 7*day,
			ticket.ActionComment, []automated{closedAt(time.Minute + 14*day)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.in.Policy = wire.FromPolicy(policy)
			h.until = 30 * day
			h.steps(time.Minute, tt.before...)
			m := signal(tt.change, ticket.Command{Actor: "bot", Comment: "still there?", CommentID: "c-1"})
			m.skipTask = true
			h.sendAt(tt.at-time.Millisecond, m)
			h.run()

			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Equal(t, tt.want, timerChanges(t, changes))
			for _, ch := range changes {
				require.False(t, isRejection(ch), "the change was refused: %+v", ch.Events)
			}
			require.Equal(t, start.Add(tt.at), changes[1+len(tt.before)].Ticket.UpdatedAt,
				"the change applies in the timer's task")
		})
	}
}

// TestTimerFiresWhilePersisting lets a timer fire while the change that moves its deadline is
// still being persisted: the change wins, and the timer is armed again for the new deadline.
func TestTimerFiresWhilePersisting(t *testing.T) {
	tests := []struct {
		name   string
		before []msg
		at     time.Duration // the change is applied at, and its Persist retried 100ms later
		change msg
		want   []automated
	}{
		{"an answer just before the SLA", nil, 8*time.Hour - 50*time.Millisecond,
			update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
			[]automated{closedAt(8*time.Hour - 50*time.Millisecond + 7*day)}},
		{"a comment just before the auto-close", reach(ticket.StatusAnswered), time.Minute + 7*day - 50*time.Millisecond,
			update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "wait", CommentID: "c-1"}),
			[]automated{closedAt(time.Minute + 14*day - 50*time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.in.Policy = wire.FromPolicy(policy)
			h.until = 30 * day
			h.rec.fail = func(attempt int32, changes []ticket.Change) error {
				if attempt == 1 && changes[0].Ticket.UpdatedAt.Equal(start.Add(tt.at)) {
					return errors.New("connection reset")
				}
				return nil
			}
			h.steps(time.Minute, tt.before...)
			o := h.sendAt(tt.at, tt.change)[0]
			h.run()

			requireApplied(t, o)
			require.True(t, o.doneAt.After(start.Add(tt.at+50*time.Millisecond)), "the change was persisted after the deadline")
			changes := h.rec.changes()
			requireTrail(t, changes)
			require.Equal(t, tt.want, timerChanges(t, changes))
		})
	}
}

// TestTimerKeptWhileDeadlineMovesLater checks what keeping an earlier timer saves and what it
// costs: changes that each postpone the auto-close cancel no timer and start none, and the kept
// timer, firing before the deadline, only arms the next one; the ticket closes at the right time.
func TestTimerKeptWhileDeadlineMovesLater(t *testing.T) {
	h := newHarness(t)
	h.in.Policy = wire.FromPolicy(policy)
	h.until = 30 * day
	timers := h.logTimers()
	h.sendAt(time.Minute, update(ticket.ActionAnswer, ticket.Command{Actor: agent}))
	for i := range 3 { // days 1, 2 and 3: the auto-close moves to day 10
		id := fmt.Sprintf("c-%d", i)
		h.sendAt(time.Duration(i+1)*day, update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "news?", CommentID: id}))
	}
	h.run()

	require.Equal(t, []automated{closedAt(3*day + 7*day)}, timerChanges(t, h.rec.changes()))
	require.Zero(t, timers.cancelled, "timers cancelled")
	// The SLA (8 h for the harness's high priority), the auto-close it armed when it fired (day 7
	// plus a minute), and the one that one armed when it fired with the deadline moved to day 10.
	require.Equal(t, []time.Duration{8 * time.Hour, 7*day + time.Minute - 8*time.Hour, 3*day - time.Minute}, timers.started)
	require.Equal(t, 3, timers.fired)
}

// TestDueTimesAreTheTimers checks that what the ticket shows as its due times is the deadline of
// the timer the workflow holds: each persisted change's first_response_due_at or auto_close_at is
// when the next timer was armed to fire, and the escalations fell due exactly then.
func TestDueTimesAreTheTimers(t *testing.T) {
	h := newHarness(t)
	h.in.Policy = wire.FromPolicy(policy)
	h.until = 10 * day
	timers := h.logTimers()
	h.sendAt(20*time.Hour, update(ticket.ActionAnswer, ticket.Command{Actor: agent}))
	h.run()
	final := h.requireCompleted()

	changes := h.rec.changes()
	requireTrail(t, changes)
	// created, escalated at 8h and 16h, answered at 20h, closed by the auto-close 7 days later.
	require.Len(t, changes, 5)
	var due []time.Time
	for _, ch := range changes[:4] {
		tk := ch.Ticket
		switch tk.Status {
		case ticket.StatusOpen:
			require.Nil(t, tk.AutoCloseAt)
			require.NotNil(t, tk.FirstResponseDueAt, "v%d", tk.Version)
			due = append(due, *tk.FirstResponseDueAt)
		default:
			require.Nil(t, tk.FirstResponseDueAt)
			require.NotNil(t, tk.AutoCloseAt)
			require.Equal(t, tk.UpdatedAt.Add(7*day), *tk.AutoCloseAt)
			due = append(due, *tk.AutoCloseAt)
		}
	}
	require.Equal(t, []time.Time{start.Add(8 * time.Hour), start.Add(16 * time.Hour), start.Add(24 * time.Hour),
		start.Add(20*time.Hour + 7*day)}, due)
	require.Equal(t, due[0], changes[1].Ticket.UpdatedAt, "the first escalation fell due when the ticket said")
	require.Equal(t, due[1], changes[2].Ticket.UpdatedAt, "and the second")
	require.Equal(t, due[3], changes[4].Ticket.UpdatedAt, "and the auto-close")
	require.Equal(t, start.Add(8*time.Hour), *changes[1].Ticket.SLABreachedAt)
	closed := changes[4].Ticket
	require.Equal(t, closed, final)
	require.Nil(t, closed.FirstResponseDueAt)
	require.Nil(t, closed.AutoCloseAt)
	// Each timer fires at a deadline the ticket showed: at 8h, 16h, then 24h (armed at 16h for the
	// third escalation, and kept past the answer at 20h since it fires before the auto-close; its
	// tick finds nothing due), then at 20h + 7 days, armed at 24h.
	require.Equal(t, []time.Duration{8 * time.Hour, 8 * time.Hour, 8 * time.Hour, 7*day - 4*time.Hour}, timers.started)
}
