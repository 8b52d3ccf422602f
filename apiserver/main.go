// Command apiserver serves ticketflow's HTTP API. `apiserver migrate` applies the database
// migrations and exits; `apiserver keys …` manages API keys; `apiserver --version` prints the
// build and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"ticketflow/internal/app"
	"ticketflow/internal/buildinfo"
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
	fs := flag.NewFlagSet("apiserver", flag.ContinueOnError)
	version := fs.Bool("version", false, "print the version and commit, and exit")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: apiserver [--version] [migrate | keys create|list|revoke …]\n\nConfiguration comes from the environment (see .env.example).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	// Before the configuration: the version must print wherever the binary is, set up or not.
	if *version {
		fmt.Println("apiserver", buildinfo.String())
		return nil
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	switch args := fs.Args(); {
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
	case args[0] == "keys":
		return app.RunKeys(context.Background(), cfg, args[1:], os.Stdout)
	default:
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", args)
	}
}
