package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"
)

// Scenario is one fault injected into a system under load.
type Scenario struct {
	Name string
	What string
	// Load is how long the load runs; the fault is injected and undone within it, so that the
	// load also shows the system after it.
	Load time.Duration
	// Inject injects the fault while the load runs and returns once it is undone.
	Inject func(ctx context.Context, e *Env) error
}

// Scenarios are the faults the suite injects, in the order it runs them: the five of the issue
// "Fault tolerance, proved", and the webhook receiver down. In every one a webhook is subscribed
// to the events out and its receiver checks that each came (Receiver).
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "worker-crash", What: "SIGKILL the worker five times at random moments, restarting it each time",
			Load: 50 * time.Second, Inject: workerCrash},
		{Name: "postgres-outage", What: "stop PostgreSQL (as a crash would) for 30 seconds, then start it again",
			Load: 55 * time.Second, Inject: postgresOutage},
		{Name: "redis-node-loss", What: "SIGKILL a Redis master; its replica takes over; later the node comes back",
			Load: 55 * time.Second, Inject: redisNodeLoss},
		{Name: "temporal-restart", What: "stop the Temporal dev server and start it again on its database file",
			Load: 45 * time.Second, Inject: temporalRestart},
		{Name: "api-restart", What: "SIGTERM the API and start it again, twice",
			Load: 45 * time.Second, Inject: apiRestart},
		{Name: "receiver-down", What: "the webhook's receiver answers 503 (Retry-After: " + receiverRetryAfter + ") for 60 seconds",
			Load: 75 * time.Second, Inject: receiverDown},
	}
}

// Env is what an injection works with.
type Env struct {
	Stack    *Stack
	System   *System
	Receiver *Receiver
	Start    time.Time // when the load began
	Rand     *rand.Rand
	Logf     func(format string, args ...any)

	mu     sync.Mutex
	faults []Fault
}

// After waits until d after the load began.
func (e *Env) After(ctx context.Context, d time.Duration) error {
	return sleep(ctx, time.Until(e.Start.Add(d)))
}

// begin records that a fault begins now and returns its index, for repaired.
func (e *Env) begin(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, Fault{Name: name, At: time.Now()})
	e.Logf("%5.1fs  fault: %s", time.Since(e.Start).Seconds(), name)
	return len(e.faults) - 1
}

// repaired records that fault i was undone now.
func (e *Env) repaired(i int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults[i].Repaired = time.Now()
	e.Logf("%5.1fs  undone: %s (after %.1fs)", time.Since(e.Start).Seconds(), e.faults[i].Name,
		e.faults[i].Repaired.Sub(e.faults[i].At).Seconds())
}

// Faults returns the faults injected so far.
func (e *Env) Faults() []Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Fault(nil), e.faults...)
}

// between returns a random duration in [lo, hi).
func (e *Env) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(e.Rand.Int64N(int64(hi-lo)))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// workerCrash kills the worker five times. Each kill falls at a random moment of a slot of its
// own, so that the moments are random yet never so close that one crash hides the next; the
// worker is started again after a random pause, as a supervisor would.
func workerCrash(ctx context.Context, e *Env) error {
	const kills, first, slot = 5, 5 * time.Second, 7 * time.Second
	for i := range kills {
		if err := e.After(ctx, first+time.Duration(i)*slot+e.between(0, slot-2*time.Second)); err != nil {
			return err
		}
		f := e.begin(fmt.Sprintf("SIGKILL the worker (%d of %d)", i+1, kills))
		if err := e.System.Worker.Signal(syscall.SIGKILL, 10*time.Second); err != nil {
			return err
		}
		if err := sleep(ctx, e.between(200*time.Millisecond, 1500*time.Millisecond)); err != nil {
			return err
		}
		if err := e.System.StartWorker(ctx); err != nil {
			return err
		}
		e.repaired(f)
	}
	return nil
}

// postgresOutage stops PostgreSQL for 30 seconds.
func postgresOutage(ctx context.Context, e *Env) error {
	return e.outage(ctx, 8*time.Second, "stop PostgreSQL", e.Stack.StopPostgres, 30*time.Second, e.Stack.StartPostgres)
}

// redisNodeLoss kills a Redis master, lets its replica take over, and brings the node back a
// little later, as a replica of the node that took over.
func redisNodeLoss(ctx context.Context, e *Env) error {
	kill := func(ctx context.Context) error {
		port, err := e.Stack.KillRedisMaster(ctx)
		if err == nil {
			e.Logf("%5.1fs  its replica took over from the master on port %s", time.Since(e.Start).Seconds(), port)
		}
		return err
	}
	return e.outage(ctx, 8*time.Second, "SIGKILL a Redis master", kill, 5*time.Second, e.Stack.StartRedis)
}

// temporalRestart stops the Temporal server and starts it again a few seconds later.
func temporalRestart(ctx context.Context, e *Env) error {
	return e.outage(ctx, 10*time.Second, "stop the Temporal server", e.Stack.StopTemporal, 3*time.Second, e.Stack.StartTemporal)
}

// receiverDown makes the webhook's receiver refuse every delivery for 60 seconds.
func receiverDown(ctx context.Context, e *Env) error {
	down := func(context.Context) error { e.Receiver.SetDown(true); return nil }
	up := func(context.Context) error { e.Receiver.SetDown(false); return nil }
	return e.outage(ctx, 8*time.Second, "the receiver answers 503", down, 60*time.Second, up)
}

// outage is the shape of a fault that takes a service away: at the moment at of the load it
// stops the service, leaves it down for the time down, and starts it again.
func (e *Env) outage(ctx context.Context, at time.Duration, what string, stop func(context.Context) error,
	down time.Duration, start func(context.Context) error) error {
	if err := e.After(ctx, at); err != nil {
		return err
	}
	f := e.begin(what)
	if err := stop(ctx); err != nil {
		return err
	}
	if err := sleep(ctx, down); err != nil {
		return err
	}
	if err := start(ctx); err != nil {
		return err
	}
	e.repaired(f)
	return nil
}

// apiRestart stops the API with SIGTERM, as a deploy does, and starts it again, twice.
func apiRestart(ctx context.Context, e *Env) error {
	for _, at := range []time.Duration{10 * time.Second, 28 * time.Second} {
		if err := e.After(ctx, at); err != nil {
			return err
		}
		f := e.begin("SIGTERM the API")
		if err := e.System.API.Signal(syscall.SIGTERM, 60*time.Second); err != nil {
			return err
		}
		if err := e.System.StartAPI(ctx); err != nil {
			return err
		}
		e.repaired(f)
	}
	return nil
}
