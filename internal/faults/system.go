package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ticketflow/ticketflow/internal/freeport"
)

// Build compiles the worker and the API server into dir, as `make build` does, and returns their
// paths. The suite runs these binaries rather than the code in its own process, so that a
// SIGKILL kills exactly what it kills in production.
func Build(ctx context.Context, repo, dir string) (worker, api string, err error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./worker", "./apiserver")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return filepath.Join(dir, "worker"), filepath.Join(dir, "apiserver"), nil
}

// CreateKey makes an API key of the role with `apiserver keys create`, the documented way to make
// the first key of a fresh install, and returns its secret.
func CreateKey(ctx context.Context, apiBin string, st *Stack, name, role string) (string, error) {
	cmd := exec.CommandContext(ctx, apiBin, "keys", "create", "--name", name, "--role", role)
	cmd.Env = environ(map[string]string{"DATABASE_DSN": st.DSN})
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("apiserver keys create: %w\n%s", err, out)
	}
	// It prints what it created, then the secret on a line of its own.
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// Settings are what the suite sets in the environment of the worker and the API, on top of the
// stack's addresses. They are the product's defaults but for these.
type Settings struct {
	// RequestTimeout is REQUEST_TIMEOUT: shorter than the default 15 s, so that a change held up
	// by a fault is answered 504 while the fault lasts and the client retries it.
	RequestTimeout time.Duration
	// ShutdownTimeout is SHUTDOWN_TIMEOUT.
	ShutdownTimeout time.Duration
}

// Proc is one process of the system under test, restartable with the same command and
// environment; its output goes to a log file.
type Proc struct {
	Name    string
	path    string
	env     []string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// Start starts the process. The process dies with the test binary (PR_SET_PDEATHSIG), so that an
// interrupted suite leaves no worker or API behind.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			return fmt.Errorf("%s is running already", p.Name)
		}
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.starts++
	fmt.Fprintf(logf, "\n===== start %d of %s at %s\n", p.starts, p.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.path)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logf, "===== %s exited at %s: %v\n", p.Name, time.Now().Format(time.RFC3339Nano), err)
		logf.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	return nil
}

// Signal sends sig to the process and waits up to timeout for it to exit.
func (p *Proc) Signal(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("%s was never started", p.Name)
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %v of %v", p.Name, timeout, sig)
	}
}

// Stop ends the process if it runs: SIGTERM, then SIGKILL after the grace period.
func (p *Proc) Stop(grace time.Duration) {
	if p.running() {
		if err := p.Signal(syscall.SIGTERM, grace); err != nil {
			_ = p.Signal(syscall.SIGKILL, 10*time.Second)
		}
	}
}

func (p *Proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// System is the worker and the API of one scenario, as processes on the faults stack.
type System struct {
	Worker *Proc
	API    *Proc
	// URL is the API's base URL; WorkerURL serves the worker's /healthz.
	URL, WorkerURL string
	TaskQueue      string
	Logs           string
}

// NewSystem prepares (but does not start) a worker and an API on the stack, on a task queue of
// their own and on free local ports, logging into logs.
func NewSystem(st *Stack, workerBin, apiBin, taskQueue, logs string, set Settings) (*System, error) {
	addrs, err := freeport.Addrs(2)
	if err != nil {
		return nil, err
	}
	apiAddr, metricsAddr := addrs[0], addrs[1]
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	env := environ(map[string]string{
		"DATABASE_DSN":        st.DSN,
		"REDIS_ADDRS":         strings.Join(st.RedisAddrs, ","),
		"TEMPORAL_ADDRESS":    st.TemporalAddress,
		"TEMPORAL_NAMESPACE":  "default",
		"TEMPORAL_TASK_QUEUE": taskQueue,
		"HTTP_ADDR":           apiAddr,
		"WORKER_METRICS_ADDR": metricsAddr,
		"REQUEST_TIMEOUT":     set.RequestTimeout.String(),
		"SHUTDOWN_TIMEOUT":    set.ShutdownTimeout.String(),
		"CACHE_TTL":           "1h",
		// No timer may change a ticket behind the load generator's back: every change the
		// checker counts is one that a client asked for.
		"SLA_MAX_ESCALATIONS": "0",
		"AUTO_CLOSE_AFTER":    "0",
		"LOG_FORMAT":          "text",
		"LOG_LEVEL":           "info",
		// The suite's webhook receiver listens on the loopback interface.
		"WEBHOOK_ALLOW_PRIVATE": "true",
	})
	return &System{
		Worker:    &Proc{Name: "worker", path: workerBin, env: env, logPath: filepath.Join(logs, "worker.log")},
		API:       &Proc{Name: "apiserver", path: apiBin, env: env, logPath: filepath.Join(logs, "apiserver.log")},
		URL:       "http://" + apiAddr,
		WorkerURL: "http://" + metricsAddr,
		TaskQueue: taskQueue,
		Logs:      logs,
	}, nil
}

// environ returns this process's environment without any of ticketflow's settings, plus set:
// a stray REDIS_HOST or DATABASE_DSN in the caller's shell must not point the system elsewhere.
func environ(set map[string]string) []string {
	ours := []string{"DATABASE_DSN", "REDIS_ADDRS", "REDIS_HOST", "REDIS_PORT", "CACHE_TTL", "TEMPORAL_",
		"SLA_", "AUTO_CLOSE_AFTER", "HTTP_ADDR", "REQUEST_TIMEOUT", "SHUTDOWN_TIMEOUT", "WORKER_METRICS_ADDR", "LOG_", "WEBHOOK_", "STREAM_"}
	var env []string
	for _, kv := range os.Environ() {
		if !slices.ContainsFunc(ours, func(prefix string) bool { return strings.HasPrefix(kv, prefix) }) {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// StartWorker starts the worker and waits until it serves its /healthz.
func (s *System) StartWorker(ctx context.Context) error {
	if err := s.Worker.Start(); err != nil {
		return err
	}
	return waitHTTP(ctx, s.Worker, s.WorkerURL+"/healthz", 60*time.Second)
}

// StartAPI starts the API and waits until it is ready: every dependency answers.
func (s *System) StartAPI(ctx context.Context) error {
	if err := s.API.Start(); err != nil {
		return err
	}
	return waitHTTP(ctx, s.API, s.URL+"/readyz", 60*time.Second)
}

// Ready reports whether the API says that every dependency answers.
func (s *System) Ready(ctx context.Context) bool {
	return get200(ctx, s.URL+"/readyz")
}

// Stop stops both processes, the API first, so that no request is left without a worker.
func (s *System) Stop() {
	s.API.Stop(20 * time.Second)
	s.Worker.Stop(20 * time.Second)
}

// waitHTTP polls url until it answers 200, the process exits, or the timeout passes.
func waitHTTP(ctx context.Context, p *Proc, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if get200(ctx, url) {
			return nil
		}
		if !p.running() {
			return fmt.Errorf("%s exited while starting; its log ends:\n%s", p.Name, p.Tail(20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 on %s within %v; its log ends:\n%s", p.Name, url, timeout, p.Tail(20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func get200(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}
