package httpapi

import (
	"net/netip"
	"sync"
	"time"
)

// maxFailureAddrs bounds the client addresses whose failed authentications are counted in one
// generation (see failureLimits).
const maxFailureAddrs = 10000

// failureLimits holds each client address's budget of failed authentications: a bucket of up to
// burst tokens, refilled at rate tokens per second, that each failure takes one token from. It is
// a token bucket of its own rather than a rate.Limiter because a request that turns out not to
// fail gives its token back after the fact, which a rate.Limiter cannot do.
//
// Its memory is bounded without forgetting anyone who is still being throttled. A bucket left alone
// for refill, the time it takes to fill up from empty, is full: the same as a new one, so it can
// be dropped. The buckets therefore live in two generations, swapped every refill: a bucket moves
// to the current one when used, and one not used through a whole generation goes with the
// previous one. A generation holds at most maxFailureAddrs buckets; addresses past that share one
// bucket until the next swap, so that a flood from many addresses is throttled as one instead of
// growing the memory.
type failureLimits struct {
	rate   float64 // tokens per second
	burst  float64
	refill time.Duration

	mu                sync.Mutex
	current, previous map[netip.Addr]*bucket
	swapped           time.Time // when current was started
	overflow          *bucket
}

// bucket is one client's budget: tokens as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

func newFailureLimits(rate float64, burst int) *failureLimits {
	return &failureLimits{
		rate: rate, burst: float64(burst),
		refill:   time.Duration(float64(burst) / rate * float64(time.Second)),
		current:  map[netip.Addr]*bucket{},
		previous: map[netip.Addr]*bucket{},
		overflow: &bucket{tokens: float64(burst)},
	}
}

// take takes one failure from the client's budget at now, before the work that may fail, and
// returns 0. When the budget is spent it takes nothing and returns how long until it holds a
// failure again.
func (f *failureLimits) take(client netip.Addr, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.bucket(client, now)
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / f.rate * float64(time.Second))
}

// giveBack returns the token of a request that take let through and that turned out not to fail.
func (f *failureLimits) giveBack(client netip.Addr, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.bucket(client, now)
	b.tokens = min(b.tokens+1, f.burst)
}

// bucket returns the client's bucket, refilled up to now, making it when needed.
func (f *failureLimits) bucket(client netip.Addr, now time.Time) *bucket {
	b := f.find(client, now)
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(b.tokens+elapsed.Seconds()*f.rate, f.burst)
		b.at = now
	}
	return b
}

func (f *failureLimits) find(client netip.Addr, now time.Time) *bucket {
	// An IPv6 client usually has a whole /64 to pick addresses from, so its budget is the /64's.
	if client.Is6() {
		client = netip.PrefixFrom(client, 64).Masked().Addr()
	}
	if now.Sub(f.swapped) >= f.refill {
		f.previous, f.current, f.swapped = f.current, map[netip.Addr]*bucket{}, now
	}
	if b := f.current[client]; b != nil {
		return b
	}
	b := f.previous[client]
	switch {
	case b != nil && len(f.current) < maxFailureAddrs:
		delete(f.previous, client)
	case b != nil:
		return b // stays in previous: current is full
	case len(f.current) < maxFailureAddrs:
		b = &bucket{tokens: f.burst, at: now}
	default:
		return f.overflow
	}
	f.current[client] = b
	return b
}
