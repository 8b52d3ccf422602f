package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ticketflow/ticketflow/internal/devstack"
)

// Profile is the devstack profile of the suite: ports and data of its own, so that stopping and
// killing its services never touches the dev or test stacks.
const Profile = "faults"

// Stack drives internal/devstack/stack.sh for the faults profile.
type Stack struct {
	Repo string // the repository's root
	// Logf receives what the script says, one call per command.
	Logf func(format string, args ...any)

	DSN             string
	RedisAddrs      []string
	TemporalAddress string
}

// FindRepo returns the root of the repository that holds the working directory: the nearest
// directory above it with a go.mod.
func FindRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// NewStack returns the faults stack of the repository at repo, with the addresses that package
// devstack defines for the profile (and stack.sh starts its services on).
func NewStack(_ context.Context, repo string, logf func(string, ...any)) (*Stack, error) {
	p, err := devstack.Lookup(Profile)
	if err != nil {
		return nil, err
	}
	return &Stack{Repo: repo, Logf: logf, DSN: p.DSN(), RedisAddrs: p.RedisAddrs(), TemporalAddress: p.TemporalAddress()}, nil
}

// Data is the profile's data directory, where the suite also keeps the logs of its processes.
func (s *Stack) Data() string { return filepath.Join(s.Repo, ".data", Profile) }

// Clean stops whatever an earlier run left behind and deletes its data, so that every run
// starts from an empty database, cluster and Temporal history.
func (s *Stack) Clean(ctx context.Context) error { return s.do(ctx, 3*time.Minute, "clean") }

// Up starts every service that is not running and waits until all of them serve.
func (s *Stack) Up(ctx context.Context) error { return s.do(ctx, 5*time.Minute, "up") }

// Down stops the stack, keeping its data and logs for a look after a failure.
func (s *Stack) Down(ctx context.Context) error { return s.do(ctx, 3*time.Minute, "down") }

// StopPostgres stops PostgreSQL as a crash would.
func (s *Stack) StopPostgres(ctx context.Context) error {
	return s.do(ctx, 2*time.Minute, "stop-postgres")
}

// StartPostgres starts PostgreSQL and waits until it accepts connections.
func (s *Stack) StartPostgres(ctx context.Context) error {
	return s.do(ctx, 2*time.Minute, "start-postgres")
}

// KillRedisMaster SIGKILLs a Redis master and returns its port once its replica has taken over.
func (s *Stack) KillRedisMaster(ctx context.Context) (string, error) {
	out, err := s.run(ctx, 3*time.Minute, "kill-redis-master")
	return strings.TrimSpace(out), err
}

// StartRedis starts the Redis nodes that are down and waits until they have rejoined and synced.
func (s *Stack) StartRedis(ctx context.Context) error { return s.do(ctx, 2*time.Minute, "start-redis") }

// StopTemporal stops the Temporal dev server; its database file stays.
func (s *Stack) StopTemporal(ctx context.Context) error {
	return s.do(ctx, 2*time.Minute, "stop-temporal")
}

// StartTemporal starts the Temporal dev server on its database file and waits until it serves.
func (s *Stack) StartTemporal(ctx context.Context) error {
	return s.do(ctx, 3*time.Minute, "start-temporal")
}

// do runs stack.sh's command as run does, for a command whose output says nothing.
func (s *Stack) do(ctx context.Context, timeout time.Duration, command string) error {
	_, err := s.run(ctx, timeout, command)
	return err
}

// run runs `stack.sh <command> faults` and returns its standard output; what it says on either

// stream goes to Logf.
func (s *Stack) run(ctx context.Context, timeout time.Duration, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(s.Repo, "internal/devstack/stack.sh"), command, Profile)
	cmd.Dir = s.Repo
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if s.Logf != nil {
		if said := strings.TrimSpace(stdout.String() + stderr.String()); said != "" {
			s.Logf("stack.sh %s %s:\n%s", command, Profile, indent(said))
		}
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("stack.sh %s %s: %w\n%s", command, Profile, err, stderr.String())
	}
	return stdout.String(), nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
