// Command worker runs ticketflow's Temporal worker: the ticket workflows and their activities.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"ticketflow/internal/app"
	"ticketflow/internal/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return app.RunWorker(ctx, cfg, app.NewLogger(cfg))
}
