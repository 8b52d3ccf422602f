// Command worker runs ticketflow's Temporal worker: the ticket workflows and their activities, and
// the sweep of expired Idempotency-Keys, whose Temporal Schedule it creates or updates on start.
// It exits non-zero when the worker cannot start or the Temporal SDK stops it on a fatal error.
// `worker --version` prints the build and exits.
package main

import (
	"context"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/config"
)

func main() {
	app.Main("worker", "usage: worker [--version]", func(ctx context.Context, cfg config.Config, args []string) error {
		if len(args) > 0 {
			return app.ErrUsage
		}
		return app.RunWorker(ctx, cfg, app.NewLogger(cfg))
	})
}
