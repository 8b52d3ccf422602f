// Command worker runs ticketflow's Temporal worker: the ticket workflows and their activities.
// `worker --version` prints the build and exits.
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
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	version := fs.Bool("version", false, "print the version and commit, and exit")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: worker [--version]\n\nConfiguration comes from the environment (see .env.example).")
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
		fmt.Println("worker", buildinfo.String())
		return nil
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return app.RunWorker(ctx, cfg, app.NewLogger(cfg))
}
