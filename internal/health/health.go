// Package health runs the readiness checks of a process: the API's and the worker's /readyz.
package health

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Timeout bounds each check, so that a dependency that hangs makes an answer slow by no more
// than this.
const Timeout = 2 * time.Second

// Check is one line of /readyz: a name and what says whether it is fine.
type Check struct {
	Name  string
	Check func(context.Context) error
}

// Run runs the checks at once, each within Timeout, logs each failure, and returns every check's
// error by name (nil when it passed) and whether all passed.
func Run(ctx context.Context, log *slog.Logger, checks []Check) (bool, map[string]error) {
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, Timeout)
			defer cancel()
			if errs[i] = c.Check(cctx); errs[i] != nil {
				log.WarnContext(ctx, "not ready", "check", c.Name, "error", errs[i])
			}
		})
	}
	wg.Wait()
	ready, byName := true, make(map[string]error, len(checks))
	for i, c := range checks {
		byName[c.Name] = errs[i]
		ready = ready && errs[i] == nil
	}
	return ready, byName
}
