// Command bench is ticketflow's load generator: `make bench` runs it against a stack of its own
// (internal/devstack/stack.sh up bench), or against the stack that DATABASE_DSN, REDIS_ADDRS and
// TEMPORAL_ADDRESS name. It prints a table of the figures, each next to its raw baseline, and
// writes them as JSON to $BENCH_OUT when that is set. BENCH_* variables are documented on
// bench.Settings.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketflow/ticketflow/internal/bench"
	"github.com/ticketflow/ticketflow/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	set, err := bench.LoadSettings()
	if err != nil {
		return err
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	r, err := bench.Run(ctx, set, cfg, os.Stderr)
	if err != nil {
		return err
	}
	r.WriteTable(os.Stdout)
	if set.Out != "" {
		if err := r.WriteJSON(set.Out); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench: figures written to %s\n", set.Out)
	}
	return nil
}
