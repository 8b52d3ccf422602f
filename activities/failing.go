package activities

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
)

// FailingMetrics are the series that Failing keeps up to date.
type FailingMetrics interface {
	// PersistFailed counts one failed attempt at writing a ticket's changes.
	PersistFailed()
	// SetFailingTickets says how many tickets' latest write failed.
	SetFailingTickets(n int)
}

// Failing keeps the tickets whose latest write failed, so that ops see a write that keeps failing:
// each failure is logged with its ticket, counted, and a ticket that has failed for longer than
// the grace period makes the worker not ready. A blip (a failover, a dropped connection) is over
// within the grace period and only logged and counted.
type Failing struct {
	log     *slog.Logger
	metrics FailingMetrics
	grace   time.Duration
	now     func() time.Time

	mu      sync.Mutex
	tickets map[string]failure
}

// failure is one ticket's run of failed writes.
type failure struct {
	since    time.Time
	attempts int
	err      string
}

// NewFailing returns a Failing that reports to log and metrics (nil for none), and calls a ticket
// stuck once its writes have failed for grace.
func NewFailing(log *slog.Logger, metrics FailingMetrics, grace time.Duration) *Failing {
	return &Failing{log: log, metrics: metrics, grace: grace, now: time.Now, tickets: map[string]failure{}}
}

func (f *Failing) failed(ctx context.Context, ticketID string, err error) {
	if f == nil {
		return
	}
	f.mu.Lock()
	fl, ok := f.tickets[ticketID]
	if !ok {
		fl.since = f.now()
	}
	fl.attempts++
	fl.err = err.Error()
	f.tickets[ticketID] = fl
	n := len(f.tickets)
	f.mu.Unlock()

	if f.metrics != nil {
		f.metrics.PersistFailed()
		f.metrics.SetFailingTickets(n)
	}
	info := activity.GetInfo(ctx)
	f.log.Warn("persisting a ticket's changes failed; it will be retried", "ticket_id", ticketID,
		"attempt", info.Attempt, "local", info.IsLocalActivity, "failing_for", f.now().Sub(fl.since).Round(time.Millisecond),
		"error", err)
}

func (f *Failing) succeeded(ticketID string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	fl, ok := f.tickets[ticketID]
	delete(f.tickets, ticketID)
	n := len(f.tickets)
	f.mu.Unlock()
	if !ok {
		return
	}
	if f.metrics != nil {
		f.metrics.SetFailingTickets(n)
	}
	f.log.Info("persisting a ticket's changes succeeded again", "ticket_id", ticketID, "failed_attempts", fl.attempts)
}

// Check is the worker's readiness check: an error naming the tickets whose writes have failed for
// longer than the grace period, nil when there are none.
func (f *Failing) Check(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var stuck []string
	var last string
	for id, fl := range f.tickets {
		if f.now().Sub(fl.since) >= f.grace {
			stuck = append(stuck, id)
			last = fl.err
		}
	}
	switch len(stuck) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("the changes of ticket %s have failed to persist for over %s: %s", stuck[0], f.grace, last)
	default:
		return fmt.Errorf("the changes of %d tickets have failed to persist for over %s, e.g. %s: %s", len(stuck), f.grace, stuck[0], last)
	}
}
