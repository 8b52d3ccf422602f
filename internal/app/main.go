package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketflow/ticketflow/internal/buildinfo"
	"github.com/ticketflow/ticketflow/internal/config"
)

// ErrUsage is what a command's run returns for arguments it does not take; Main prints the usage.
var ErrUsage = errors.New("unexpected arguments")

// Main is the whole of a command's main: it takes --version before anything else, loads the
// configuration, and calls run with the remaining arguments and a context that SIGINT and SIGTERM
// cancel. It prints a failure and exits 1, and returns only on success.
func Main(name, usage string, run func(ctx context.Context, cfg config.Config, args []string) error) {
	if err := mainErr(name, usage, os.Args[1:], run); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func mainErr(name, usage string, args []string, run func(context.Context, config.Config, []string) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	version := fs.Bool("version", false, "print the version and commit, and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nConfiguration comes from the environment (see .env.example).\n", usage)
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
		fmt.Println(name, buildinfo.String())
		return nil
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = run(ctx, cfg, fs.Args())
	if errors.Is(err, ErrUsage) {
		fs.Usage()
		return fmt.Errorf("%w %q", ErrUsage, fs.Args())
	}
	return err
}
