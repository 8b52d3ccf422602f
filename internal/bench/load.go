package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what one measured phase of load did: how many operations, at what concurrency, how
// fast, and the spread of their latencies.
type Result struct {
	Name        string
	Concurrency int
	Ops         int
	Elapsed     time.Duration
	P50, P99    time.Duration
}

// PerSecond is the throughput of the phase: operations over wall-clock time.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// op is operation i (0..n-1) of a phase, run by worker w (0..concurrency-1). Each worker runs its
// operations one after the other, so per-worker state needs no lock.
type op func(ctx context.Context, w, i int) error

// measure runs warmup operations, then ops measured ones, with concurrency workers that each
// start the next operation as soon as their last one returns (a closed loop, as a pool of
// clients behaves). The warm-up is not timed; it fills connection pools, caches and JIT-like
// lazy state so that the measured part sees the steady state. The first error stops the phase:
// figures from a run with failures would flatter it.
func measure(ctx context.Context, name string, concurrency, warmup, ops int, fn op) (Result, error) {
	if warmup > 0 {
		if _, _, err := run(ctx, concurrency, warmup, fn); err != nil {
			return Result{}, fmt.Errorf("%s: warm-up: %w", name, err)
		}
	}
	samples, elapsed, err := run(ctx, concurrency, ops, fn)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	return Result{
		Name: name, Concurrency: concurrency, Ops: len(samples), Elapsed: elapsed,
		P50: percentile(samples, 0.50), P99: percentile(samples, 0.99),
	}, nil
}

// run runs n operations on concurrency workers and returns each one's latency, sorted, and the
// wall-clock time of the whole.
func run(ctx context.Context, concurrency, n int, fn op) ([]time.Duration, time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	perWorker := make([][]time.Duration, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range concurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, n/concurrency+1)
			for i := next.Add(1) - 1; i < int64(n) && ctx.Err() == nil; i = next.Add(1) - 1 {
				t0 := time.Now()
				if err := fn(ctx, w, int(i)); err != nil {
					cancel(err)
					return
				}
				lat = append(lat, time.Since(t0))
			}
			perWorker[w] = lat
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	samples := slices.Concat(perWorker...)
	slices.Sort(samples)
	return samples, elapsed, nil
}

// percentile returns the q-quantile of sorted samples by the nearest-rank method: the smallest
// sample that at least q of all samples are less than or equal to.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
