package app_test

// The helpers that the system tests share: starting the system, talking to its API, paging
// through listings, waiting, running the API and the worker as their mains do (and the worker
// binary as a process of its own), and a TCP proxy that plays a database that hangs or goes away.
// A helper that only one test file uses stays in that file.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/cache/redis/redistest"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/freeport"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/workflows"
)

// binDir holds the binaries that the tests build, each once per test run (workerBin).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ticketflow-app-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ---- The system ----

// system is the whole of ticketflow for one test: a fresh database, the test Redis Cluster, a
// worker on a task queue of its own on the test Temporal server, and the HTTP API.
type system struct {
	deps   *app.Deps
	url    string
	key    string        // the secret of an agent key, sent with every request unless a test sends its own
	actor  string        // that key's name: the actor of the changes the test makes
	dsn    string        // the test's own database
	worker worker.Worker // the running worker; restartWorker replaces it
}

// systemOptions are what the options of startSystem set.
type systemOptions struct {
	cfg       *config.Config
	log       *slog.Logger
	newWorker func(*app.Deps) worker.Worker
}

// systemOption changes how startSystem starts the system.
type systemOption func(*systemOptions)

// withConfig starts the system with cfg instead of testConfig's.
func withConfig(cfg config.Config) systemOption {
	return func(o *systemOptions) { o.cfg = &cfg }
}

// withJSONLogs logs every line of the system, at debug level, as JSON into w, instead of
// quietLogger's warnings into the test's output.
func withJSONLogs(w io.Writer) systemOption {
	return func(o *systemOptions) {
		o.log = slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// withWorker runs the worker that newWorker returns instead of deps.NewWorker's; none if it
// returns nil.
func withWorker(newWorker func(*app.Deps) worker.Worker) systemOption {
	return func(o *systemOptions) { o.newWorker = newWorker }
}

// withoutWorker starts no worker in the test's process: the test runs one as its main does
// (startWorker), as a process of its own (workerBinary), or none.
func withoutWorker() systemOption {
	return withWorker(func(*app.Deps) worker.Worker { return nil })
}

// startSystem connects to the test stack, starts the worker and serves the API on a local port
// until the test ends, with an agent key; the options change the configuration, the logger or
// the worker.
func startSystem(t *testing.T, opts ...systemOption) *system {
	t.Helper()
	var o systemOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.cfg == nil {
		cfg := testConfig(t)
		o.cfg = &cfg
	}
	if o.log == nil {
		o.log = quietLogger(t)
	}
	deps := connect(t, *o.cfg, o.log)
	s := (&system{deps: deps, url: serve(t, deps.Handler()), dsn: deps.Config.DatabaseDSN}).withAgentKey(t)
	if o.newWorker == nil {
		s.startWorker(t)
	} else if w := o.newWorker(deps); w != nil {
		s.worker = runWorker(t, w)
	}
	return s
}

// testConfig returns a configuration for the test stack with a database and task queue of the
// test's own.
func testConfig(t *testing.T) config.Config {
	t.Helper()
	addr := os.Getenv("TEST_TEMPORAL_ADDRESS")
	if addr == "" {
		t.Fatal("TEST_TEMPORAL_ADDRESS is not set: run the tests with `make test`, which starts the test stack")
	}
	return config.Config{
		DatabaseDSN:       pgtest.DSN(t),
		RedisAddrs:        redistest.Addrs(t),
		CacheTTL:          10 * time.Minute,
		TemporalAddress:   addr,
		TemporalNamespace: "default",
		TemporalTaskQueue: "test-" + uuid.NewString(),
		RequestTimeout:    20 * time.Second,
		LogFormat:         "text",
		LogLevel:          slog.LevelWarn,
		// Far above what any test sends, so that only the rate-limit test meets the limit.
		RateLimit: 100000,
		RateBurst: 100000,
		// The tests' receivers listen on the loopback interface.
		WebhookAllowPrivate: true,
	}
}

// connect opens the system's connections for cfg, closed when the test ends.
func connect(t *testing.T, cfg config.Config, log *slog.Logger) *app.Deps {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	deps, err := app.Connect(ctx, cfg, log)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(deps.Close)
	return deps
}

// quietLogger logs warnings and errors into the test's output.
func quietLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// quietTemporalLogger is quietLogger for a Temporal client of the test's own.
func quietTemporalLogger(t *testing.T) temporallog.Logger {
	return temporallog.NewStructuredLogger(quietLogger(t))
}

// serve serves h on a local port until the test ends and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// servedBy returns a client like s, with its key, of the API that deps serves on a server of its
// own: a second API server, as behind a load balancer, or one over other connections.
func (s *system) servedBy(t *testing.T, deps *app.Deps) *system {
	t.Helper()
	c := *s
	c.deps, c.url = deps, serve(t, deps.Handler())
	return &c
}

// withAgentKey gives the system's client an agent key of its own.
func (s *system) withAgentKey(t *testing.T) *system {
	t.Helper()
	s.actor = "agent-" + uuid.NewString()[:8]
	s.key = s.newKey(t, s.actor, auth.RoleAgent, "")
	return s
}

// newKey creates an API key and returns its secret.
func (s *system) newKey(t *testing.T, name string, role auth.Role, subject string) string {
	t.Helper()
	secret, hash := auth.NewSecret()
	if _, err := s.deps.Store.CreateKey(context.Background(), auth.NewKey{Name: name, Role: string(role), Subject: subject}, hash); err != nil {
		t.Fatalf("create key %s: %v", name, err)
	}
	return secret
}

// as returns a client of the same system that presents another key ("" for none).
func (s *system) as(secret string) *system {
	c := *s
	c.key = secret
	return &c
}

// startWorker starts a worker for the system in the test's process, stopped when the test ends.
func (s *system) startWorker(t *testing.T) {
	t.Helper()
	s.worker = runWorker(t, s.deps.NewWorker())
}

// restartWorker stops the worker and starts a new one, as a deploy or a crash would.
func (s *system) restartWorker(t *testing.T) {
	t.Helper()
	s.worker.Stop()
	s.startWorker(t)
}

// runWorker starts w in the test's process, stopped when the test ends.
func runWorker(t *testing.T, w worker.Worker) worker.Worker {
	t.Helper()
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	return w
}

// waitCompleted waits until the ticket's workflow has completed.
func waitCompleted(t *testing.T, s *system, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run := s.deps.Temporal.GetWorkflow(ctx, workflows.WorkflowID(id), "")
	var final ticketflow.Ticket
	if err := run.Get(ctx, &final); err != nil {
		t.Fatalf("workflow of ticket %s: %v", id, err)
	}
	if final.Status != ticketflow.StatusClosed {
		t.Fatalf("workflow completed with status %s", final.Status)
	}
}

// ---- The API over HTTP ----

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with a JSON body (nil for none) and returns the response.
func (s *system) do(t *testing.T, method, path string, body any, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	return s.raw(t, method, path, rd, append([]string{"Content-Type", "application/json"}, header...)...)
}

// raw sends a request with the body and headers (name, value pairs) exactly as given.
func (s *system) raw(t *testing.T, method, path string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if s.key != "" {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	validateResponse(t, method, path, res.StatusCode, res.Header, b)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// validateResponse fails the test unless the document describes the response: an operation for
// the method and path, a response for the status, every required header present and every
// documented header valid, the Content-Type one of the documented media types, and the body
// valid against its schema. A path that matches no template must be the router's 404, and a
// method that its path does not offer the router's 405. The checker is in openapi_test.go.
func validateResponse(t *testing.T, method, path string, status int, header http.Header, body []byte) {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	for _, msg := range c.check(method, path, status, header, body) {
		t.Errorf("%s %s → %d: %s", method, path, status, msg)
	}
}

// expect fails the test unless the response has the status, and decodes its body into v.
func (r response) expect(t *testing.T, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// problem is the problem+json body of an error response.
type problem = httpapi.Problem

// expectProblem fails the test unless the response is a problem+json of the status and type.
func (r response) expectProblem(t *testing.T, status int, typ string) problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json; body: %s", ct, r.body)
	}
	var p problem
	r.expect(t, status, &p)
	if p.Type != typ || p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("problem %+v, want type %s and status %d with a title and detail", p, typ, status)
	}
	if strings.Contains(string(r.body), "goroutine") || strings.Contains(string(r.body), "SQLSTATE") {
		t.Errorf("problem leaks internals: %s", r.body)
	}
	return p
}

// readiness is the body of /readyz, the API's and the worker's.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// create opens a ticket through the API.
func (s *system) create(t *testing.T, title string) httpapi.Ticket {
	t.Helper()
	var tk httpapi.Ticket
	s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": title}).expect(t, http.StatusCreated, &tk)
	return tk
}

// act posts an action on a ticket and returns the response.
func (s *system) act(t *testing.T, id string, action ticket.Action, body any) response {
	t.Helper()
	path := "/api/v1/tickets/" + id + "/" + string(action)
	if action == ticket.ActionComment {
		path = "/api/v1/tickets/" + id + "/comments"
	}
	return s.do(t, "POST", path, body)
}

// post sends a JSON POST with an Idempotency-Key.
func (s *system) post(t *testing.T, path, key string, body any, header ...string) response {
	t.Helper()
	return s.do(t, "POST", path, body, append([]string{"Idempotency-Key", key}, header...)...)
}

// get reads a ticket through the API.
func (s *system) get(t *testing.T, id string) httpapi.Ticket {
	t.Helper()
	var tk httpapi.Ticket
	s.do(t, "GET", "/api/v1/tickets/"+id, nil).expect(t, http.StatusOK, &tk)
	return tk
}

// etagVersion returns the version that an ETag such as "3" names.
func etagVersion(t *testing.T, tag string) int64 {
	t.Helper()
	var v int64
	if _, err := fmt.Sscanf(tag, `"%d"`, &v); err != nil {
		t.Fatalf("ETag %q: %v", tag, err)
	}
	return v
}

// countTickets returns how many tickets the first page of up to 200 lists.
func (s *system) countTickets(t *testing.T) int {
	t.Helper()
	var list page[httpapi.Ticket]
	s.do(t, "GET", "/api/v1/tickets?limit=200", nil).expect(t, http.StatusOK, &list)
	return len(list.Items)
}

// requireDocsAssets fails the test, saying how to fix it, when the server was built without the
// files of the documentation pages.
func requireDocsAssets(t *testing.T, s *system) {
	t.Helper()
	for _, page := range []string{"/api/openapi", "/api/redoc"} {
		if r := s.raw(t, "GET", page, nil); r.status == http.StatusServiceUnavailable {
			t.Fatalf("%s: the documentation assets are not built into this binary: run `make docs-assets` "+
				"(internal/httpapi/docs/fetch.sh), which `make test` does: %s", page, r.body)
		}
	}
}

// result is what a request sent from a goroutine other than the test's got: a response, or an
// error.
type result struct {
	status int
	body   []byte
	err    error
}

// postJSON posts a JSON body with the key on client c and returns what it got; it does not fail
// the test, so that goroutines other than the test's, which must not stop it, can send it.
func postJSON(c *http.Client, url, key string, body io.Reader) result {
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := c.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return result{status: res.StatusCode, body: b, err: err}
}

// postAsync posts a JSON body on a connection of its own and delivers the outcome later.
func postAsync(url, key, body string) <-chan result {
	out := make(chan result, 1)
	go func() {
		// A client of its own: the request must not share a connection with the test's others.
		c := &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}
		out <- postJSON(c, url, key, strings.NewReader(body))
	}()
	return out
}

// ---- Listings ----

// page is one page of a listing, decoded as the API sends it.
// each returns f of every item of xs, in order: the part of a list that a test compares.
func each[T, V any](xs []T, f func(T) V) []V {
	out := make([]V, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// listPages reads a listing page by page, limit items at a time, and returns the items in the
// order the pages gave them. With an inserter (not nil), it waits before each next page for the
// inserter to have added an item since the page before (see pagination_test.go).
func listPages[T any](t *testing.T, s *system, path string, limit int, in *inserter) []T {
	t.Helper()
	var all []T
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 200 {
			t.Fatalf("%s: the listing does not end", path)
		}
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		sep := "?"
		if u, _ := url.Parse(path); u.RawQuery != "" {
			sep = "&"
		}
		seen := 0
		if in != nil {
			seen = in.inserted()
		}
		var p page[T]
		s.do(t, "GET", path+sep+q.Encode(), nil).expect(t, http.StatusOK, &p)
		if len(p.Items) > limit {
			t.Fatalf("%s: a page of %d items, limit %d", path, len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			return all
		}
		cursor = *p.NextCursor
		if in != nil {
			in.waitPast(seen)
		}
	}
}

// trail returns the ticket's whole audit trail, oldest first, reading every page.
func (s *system) trail(t *testing.T, id string) []httpapi.Event {
	t.Helper()
	return listPages[httpapi.Event](t, s, "/api/v1/tickets/"+id+"/events", 200, nil)
}

// ---- Waiting ----

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// receive waits for a value from ch, failing the test after timeout.
func receive[T any](t *testing.T, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
		panic("unreachable")
	}
}

// ---- RunAPI and RunWorker, and the worker binary ----

// process is RunAPI or RunWorker running in the background, as its main runs it.
type process struct {
	base     string             // http://host:port of its HTTP server
	stop     context.CancelFunc // what SIGTERM does
	finished chan struct{}      // closed when Run has returned err
	err      error
	key      string // an API key of the process's database, for requests to an API
}

// wait waits for Run to return and returns its error.
func (p *process) wait(t *testing.T, timeout time.Duration, what string) error {
	t.Helper()
	receive(t, p.finished, timeout, what)
	return p.err
}

// running reports whether Run has not returned yet.
func (p *process) running() bool {
	select {
	case <-p.finished:
		return false
	default:
		return true
	}
}

// startWorker runs RunWorker with its metrics on a free port and waits until it serves them. The
// worker makes the sweep's schedule, deleted when the test ends; unless the test chose an
// interval, the sweep runs too seldom to land in the middle of a test that watches the worker's
// database.
func startWorker(t *testing.T, cfg config.Config) *process {
	t.Helper()
	cfg.WorkerMetricsAddr = freeAddr(t)
	if cfg.IdempotencySweepInterval == 0 {
		cfg.IdempotencySweepInterval = 1000 * time.Hour
	}
	t.Cleanup(func() { deleteSweepSchedule(t, cfg) })
	return start(t, "http://"+cfg.WorkerMetricsAddr, func(ctx context.Context) error { return app.RunWorker(ctx, cfg, quietLogger(t)) })
}

// start runs run in the background until the test ends, and waits until base/healthz answers.
func start(t *testing.T, base string, run func(context.Context) error) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{base: base, stop: cancel, finished: make(chan struct{})}
	go func() {
		defer close(p.finished)
		p.err = run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.finished:
		case <-time.After(30 * time.Second):
			t.Error("the process did not stop")
		}
	})
	waitFor(t, 30*time.Second, base+"/healthz", func() bool {
		if !p.running() {
			t.Fatalf("it stopped: %v", p.err)
		}
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return p
}

// deleteSweepSchedule deletes the sweep's schedule that a worker of cfg made, so that the tests
// leave no schedule behind on the shared Temporal server.
func deleteSweepSchedule(t *testing.T, cfg config.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger: quietTemporalLogger(t)})
	if err != nil {
		t.Logf("delete the sweep's schedule: %v", err)
		return
	}
	defer c.Close()
	err = c.ScheduleClient().GetHandle(ctx, app.SweepScheduleID(cfg.TemporalTaskQueue)).Delete(ctx)
	var gone *serviceerror.NotFound
	var nsGone *serviceerror.NamespaceNotFound
	if err != nil && !errors.As(err, &gone) && !errors.As(err, &nsGone) {
		t.Logf("delete the sweep's schedule: %v", err)
	}
}

// freeAddr returns a local address that nothing listens on right now (see freeport).
func freeAddr(t *testing.T) string {
	t.Helper()
	addrs, err := freeport.Addrs(1)
	if err != nil {
		t.Fatal(err)
	}
	return addrs[0]
}

// workerBin is ticketflow's worker binary.
var workerBin = buildOnce("worker")

// buildOnce returns a function that builds the command in directory dir of this module into
// binDir the first time a test asks for it, once per test run, and returns its path.
func buildOnce(dir string) func() (string, error) {
	return sync.OnceValues(func() (string, error) {
		bin := filepath.Join(binDir, filepath.Base(dir))
		build := exec.Command("go", "build", "-o", bin, "github.com/ticketflow/ticketflow/"+dir)
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build ./%s: %v\n%s", dir, err, out)
		}
		return bin, nil
	})
}

// workerBinary is ticketflow's worker binary, run as a process of its own so that a test can kill
// it the way a crash or an OOM would.
type workerBinary struct {
	bin string
	env []string
}

// newWorkerBinary returns the worker binary (built once per test run) set up for cfg.
func newWorkerBinary(t *testing.T, cfg config.Config) *workerBinary {
	t.Helper()
	bin, err := workerBin()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"DATABASE_DSN=" + cfg.DatabaseDSN,
		"REDIS_ADDRS=" + strings.Join(cfg.RedisAddrs, ","),
		"TEMPORAL_ADDRESS=" + cfg.TemporalAddress,
		"TEMPORAL_NAMESPACE=" + cfg.TemporalNamespace,
		"TEMPORAL_TASK_QUEUE=" + cfg.TemporalTaskQueue,
		"WORKER_METRICS_ADDR=127.0.0.1:0",
		"LOG_FORMAT=text", "LOG_LEVEL=warn",
		// The timers come from each ticket's input, which the API sets; these only keep the
		// worker's configuration in line with it.
		"SLA_FIRST_RESPONSE_URGENT=" + cfg.SLAUrgent.String(),
		"SLA_MAX_ESCALATIONS=" + fmt.Sprint(cfg.SLAMaxEscalations),
		"AUTO_CLOSE_AFTER=" + cfg.AutoCloseAfter.String(),
	}
	return &workerBinary{bin: bin, env: env}
}

// start runs a worker process until kill, or the end of the test.
func (p *workerBinary) start(t *testing.T) (kill func()) {
	t.Helper()
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	var once sync.Once
	kill = func() {
		once.Do(func() {
			_ = cmd.Process.Kill() // SIGKILL: no graceful stop, tasks in flight are abandoned
			_ = cmd.Wait()
			if s := out.String(); s != "" {
				t.Logf("worker %d output:\n%s", cmd.Process.Pid, s)
			}
		})
	}
	t.Cleanup(kill)
	return kill
}

// syncBuffer collects output written from many goroutines: slog's handlers write a record per
// Write, and exec copies a process's output in goroutines of its own.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ---- A database that hangs or goes away ----

// proxyDatabase puts a tcpProxy in front of the database of cfg, and returns cfg with its DSN
// pointing at the proxy, and the proxy.
func proxyDatabase(t *testing.T, cfg config.Config) (config.Config, *tcpProxy) {
	t.Helper()
	u, err := url.Parse(cfg.DatabaseDSN)
	if err != nil {
		t.Fatal(err)
	}
	p := newTCPProxy(t, u.Host)
	u.Host = p.addr
	cfg.DatabaseDSN = u.String()
	return cfg, p
}

// tcpProxy forwards TCP connections to a target. It plays a database that hangs (Pause) or
// goes away (Stop) without touching the real one, which other tests share.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	// held receives (without blocking the proxy) each time it holds data back while paused.
	held chan struct{}

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	resume chan struct{} // non-nil while paused; closed by Resume
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	// A port of its own below the ephemeral range: the proxy is stopped and started again on
	// it, and meanwhile an outgoing connection could be given a port of that range.
	p := &tcpProxy{t: t, target: target, addr: freeAddr(t), held: make(chan struct{}, 1), conns: map[net.Conn]bool{}}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Start listens, on the same address again after a Stop.
func (p *tcpProxy) Start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
}

// Stop closes the listener and every connection: new connections are refused, open ones reset.
func (p *tcpProxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.resumeLocked()
}

// Pause holds back every byte in either direction until Resume.
func (p *tcpProxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resume == nil {
		p.resume = make(chan struct{})
	}
}

// Resume lets the held data through.
func (p *tcpProxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resumeLocked()
}

func (p *tcpProxy) resumeLocked() {
	if p.resume != nil {
		close(p.resume)
		p.resume = nil
	}
}

func (p *tcpProxy) accept(ln net.Listener) {
	for {
		down, err := ln.Accept()
		if err != nil {
			return // closed by Stop
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			down.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // stopped meanwhile
			p.mu.Unlock()
			down.Close()
			up.Close()
			return
		}
		p.conns[down], p.conns[up] = true, true
		p.mu.Unlock()
		go p.pipe(up, down)
		go p.pipe(down, up)
	}
}

// pipe copies src to dst chunk by chunk, holding each chunk while the proxy is paused.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) gate() {
	p.mu.Lock()
	resume := p.resume
	p.mu.Unlock()
	if resume == nil {
		return
	}
	select {
	case p.held <- struct{}{}:
	default:
	}
	<-resume
}
