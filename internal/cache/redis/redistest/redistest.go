// Package redistest connects tests to the test Redis Cluster that `make test` starts.
//
// Tests of many packages share that cluster and run in parallel, so they never flush it: each
// test uses fresh UUIDs as ticket ids, and its keys cannot collide with anyone else's.
package redistest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/cache/redis"
)

// TTL is the time to live of the documents written through a Cache made by New: long enough to
// outlive any test, short enough that the shared cluster does not fill up.
const TTL = 10 * time.Minute

// Addrs returns the seed nodes of the test Redis Cluster, read from TEST_REDIS_ADDRS
// (comma-separated host:port). A test that needs Redis fails without them rather than skip, so
// that a run without the test stack cannot pass by testing nothing.
func Addrs(tb testing.TB) []string {
	tb.Helper()
	var addrs []string
	for a := range strings.SplitSeq(os.Getenv("TEST_REDIS_ADDRS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		tb.Fatal("TEST_REDIS_ADDRS is not set: run the tests with `make test`, which starts the test stack")
	}
	return addrs
}

// New returns a *redis.Cache on the test Redis Cluster, closed when the test ends. It fails the
// test at once if a master of the cluster does not answer, so that a broken stack shows up as
// one clear message instead of many timeouts.
func New(tb testing.TB) *redis.Cache {
	tb.Helper()
	addrs := Addrs(tb)
	c := redis.New(addrs, TTL)
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Errorf("close redis cache: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		tb.Fatalf("test Redis Cluster at %s is not ready: %v", strings.Join(addrs, ","), err)
	}
	return c
}
