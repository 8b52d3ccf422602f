// Command apiserver serves ticketflow's HTTP API. `apiserver migrate` applies the database
// migrations and exits.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"ticketflow/internal/app"
	"ticketflow/internal/config"
	"ticketflow/internal/store/postgres"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	switch {
	case len(args) == 0:
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return app.RunAPI(ctx, cfg, app.NewLogger(cfg))
	case len(args) == 1 && args[0] == "migrate":
		if err := postgres.Migrate(cfg.DatabaseDSN); err != nil {
			return err
		}
		fmt.Println("migrations applied")
		return nil
	default:
		return fmt.Errorf("usage: apiserver [migrate]")
	}
}
