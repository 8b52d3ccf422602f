package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// armedTimer is a Temporal timer waiting for one deadline of the ticket. Temporal keeps it on the
// server, so it fires whether or not a worker runs at that moment, and after the server restarts.
type armedTimer struct {
	deadline ticket.Deadline
	fired    workflow.Future
	cancel   workflow.CancelFunc
}

// rearm makes the timer match the ticket's next deadline (ticket.Policy.Next): it keeps a timer
// that waits for the right deadline, cancels one whose deadline moved or went away, and starts one
// for the new deadline. A deadline that has already passed fires at once, without a timer.
//
// Since version 2 of changeLocalPersist it also keeps a timer that fires before the new deadline:
// nearly every change moves the deadline later (activity restarts the clock), and cancelling and
// starting a timer would cost each change two history events and a timer task on the server. The
// early timer's tick finds nothing due (Policy.Due), and rearm then starts the timer for the
// deadline as it stands. A deadline that moved earlier, or went away, still cancels the timer.
func (s *ticketState) rearm(ctx workflow.Context) {
	if s.tickQueued {
		return // the queued tick decides, and the loop comes back here after it applies
	}
	next, ok := s.policy.Next(s.ticket, s.state.Timers)
	if s.timer != nil {
		if ok && (s.timer.deadline.Equal(next) || s.has.keepEarlierTimer && !s.timer.deadline.At.After(next.At)) {
			return
		}
		s.timer.cancel()
		s.timer = nil
	}
	if !ok {
		return
	}
	timerCtx, cancel := workflow.WithCancel(ctx)
	fired := workflow.NewTimerWithOptions(timerCtx, next.At.Sub(workflow.Now(ctx)),
		workflow.TimerOptions{Summary: string(next.Timer)})
	s.timer = &armedTimer{deadline: next, fired: fired, cancel: cancel}
}

// timerFired reports whether the armed timer has fired.
func (s *ticketState) timerFired() bool {
	return s.timer != nil && s.timer.fired.IsReady()
}

// takeTimer queues a tick for a timer that fired. The tick goes through the queue like every other
// change, so the ticket has one writer and one order; the run loop calls it once the signals of
// the task are queued, so a timer comes after the updates and signals that reached the workflow
// with it, and a change sent just before a deadline still counts as activity.
func (s *ticketState) takeTimer() {
	if !s.timerFired() {
		return
	}
	s.timer.cancel() // releases the timer's context; the timer itself is gone
	s.timer = nil
	s.tickQueued = true
	s.queue = append(s.queue, &request{tick: true})
}
