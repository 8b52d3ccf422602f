package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"
)

// The load of every scenario: 12 clients, each taking one ticket at a time through its lifecycle,
// at most 20 changes a second between them, and two more clients reading 10 tickets a second
// each. That keeps the two cores of a CI machine busy but not saturated, so that what the figures
// show is the fault, not the machine.
const (
	drivers   = 12
	writeRate = 20
	readers   = 2
	readEvery = 100 * time.Millisecond
)

// Bounds on the time after the load: for the system to settle and for the unknown outcomes to be
// learnt. Each is far above what a healthy system needs, and is what a run that never settles
// costs before it fails.
const (
	settleTimeout  = 2 * time.Minute
	resolveTimeout = 2 * time.Minute
	// webhookWait bounds the wait for the last deliveries, which a pump restarted after a fault
	// (its heartbeat timeout, then Temporal's retry) makes late.
	webhookWait = 2 * time.Minute
)

// Suite runs scenarios on one faults stack.
type Suite struct {
	Stack             *Stack
	WorkerBin, APIBin string
	Settings          Settings
	Truth             *Truth
	Key               string // the API key of the load's clients
	AdminKey          string // the API key that subscribes the scenario's webhook
	Seed              uint64
	Logf              func(format string, args ...any)
}

// Run runs one scenario on a fresh worker and API and returns its figures. An error means the
// scenario could not be run at all (the stack did not start, a fault could not be injected),
// not that the system failed it: that is in the figures.
func (s *Suite) Run(ctx context.Context, sc Scenario) (Figures, error) {
	if err := s.Stack.Up(ctx); err != nil {
		return Figures{}, err
	}
	queue := fmt.Sprintf("faults-%s-%d", sc.Name, time.Now().UnixNano())
	sys, err := NewSystem(s.Stack, s.WorkerBin, s.APIBin, queue, filepath.Join(s.Stack.Data(), "logs", sc.Name), s.Settings)
	if err != nil {
		return Figures{}, err
	}
	defer sys.Stop()
	if err := sys.StartWorker(ctx); err != nil {
		return Figures{}, err
	}
	if err := sys.StartAPI(ctx); err != nil {
		return Figures{}, err
	}
	s.Logf("%s: %s; logs in %s", sc.Name, sc.What, sys.Logs)
	rcv, err := StartReceiver()
	if err != nil {
		return Figures{}, err
	}
	defer rcv.Stop()
	unsubscribe, err := rcv.Subscribe(ctx, sys.URL, s.AdminKey)
	if err != nil {
		return Figures{}, fmt.Errorf("%s: subscribe the receiver: %w", sc.Name, err)
	}
	// The next scenario's pump must not deliver to this receiver once it is gone.
	defer func() {
		if err := unsubscribe(context.WithoutCancel(ctx)); err != nil {
			s.Logf("%s: unsubscribe the receiver: %v", sc.Name, err)
		}
	}()

	load := &Load{URL: sys.URL, Key: s.Key, Name: sc.Name, Duration: sc.Load, Drivers: drivers, Rate: writeRate,
		Readers: readers, ReadEvery: readEvery, Seed: s.Seed, Record: &Record{}}
	if err := load.WarmUp(ctx, time.Minute); err != nil {
		return Figures{}, fmt.Errorf("%s: %w", sc.Name, err)
	}
	env := &Env{Stack: s.Stack, System: sys, Receiver: rcv, Rand: rand.New(rand.NewPCG(s.Seed, 7)), Logf: s.Logf, Start: time.Now()}
	injectCtx, cancelInject := context.WithCancel(ctx)
	defer cancelInject()
	injected := make(chan error, 1)
	go func() { injected <- sc.Inject(injectCtx, env) }()
	load.Run(ctx)
	s.Logf("%5.1fs  load stopped", time.Since(env.Start).Seconds())
	// Every scenario undoes its fault within the load; one still busy now is waited for, as
	// long as the stack's own timeouts allow.
	if err := <-injected; err != nil {
		return Figures{}, fmt.Errorf("%s: injecting the fault: %w", sc.Name, err)
	}

	start := time.Now()
	if err := s.settle(ctx, sys); err != nil {
		return Figures{}, fmt.Errorf("%s: %w", sc.Name, err)
	}
	unknown := load.Resolve(ctx, time.Now().Add(resolveTimeout))
	s.Logf("%5.1fs  settled and resolved in %.1fs (%d outcomes still unknown)", time.Since(env.Start).Seconds(),
		time.Since(start).Seconds(), unknown)
	s.Logf("requests by the second they were sent at, from the start of the load:\n%s", Timeline(load.Record, env.Start, 5*time.Second))
	f := s.Truth.Check(ctx, sc.Name, load.Record, env.Faults())
	rcv.Check(ctx, s.Truth, load.Record, &f, webhookWait)
	s.Logf("%5.1fs  checked", time.Since(env.Start).Seconds())
	return f, nil
}

// settle waits until both processes run and the API has been ready (every dependency answers)
// three times in a row.
func (s *Suite) settle(ctx context.Context, sys *System) error {
	deadline := time.Now().Add(settleTimeout)
	for ready := 0; ready < 3; {
		for _, p := range []*Proc{sys.Worker, sys.API} {
			if !p.running() {
				return fmt.Errorf("the %s is not running; its log ends:\n%s", p.Name, p.Tail(30))
			}
		}
		if time.Now().After(deadline) {
			return errors.New("the system did not settle: /readyz is not 200 after " + settleTimeout.String())
		}
		if sys.Ready(ctx) {
			ready++
		} else {
			ready = 0
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
