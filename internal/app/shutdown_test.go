package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	temporallog "go.temporal.io/sdk/log"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/freeport"
	"github.com/ticketflow/ticketflow/internal/metrics/metricstest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestReadyzWhenPostgresStops puts a proxy between the API and its database, closes it, and
// checks that /readyz turns 503 naming PostgreSQL, within the checks' 2 s timeout, and turns
// ready again once the database is back. (The shared test PostgreSQL itself keeps running.)
func TestReadyzWhenPostgresStops(t *testing.T) {
	cfg := testConfig(t)
	proxy := newTCPProxy(t, dsnHost(t, cfg.DatabaseDSN))
	cfg.DatabaseDSN = proxy.dsn(t, cfg.DatabaseDSN)
	deps := connect(t, cfg, quietLogger(t))
	s := newSystem(t, deps)

	type readiness struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	var ready readiness
	s.do(t, "GET", "/readyz", nil).expect(t, http.StatusOK, &ready)
	if ready.Checks["postgres"] != "ok" {
		t.Fatalf("ready with checks %v", ready.Checks)
	}

	proxy.Stop()
	start := time.Now()
	var notReady readiness
	s.do(t, "GET", "/readyz", nil).expect(t, http.StatusServiceUnavailable, &notReady)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("/readyz took %v with the database gone, want about its 2 s check timeout at most", took)
	}
	want := map[string]string{"postgres": "unavailable", "redis": "ok", "temporal": "ok"}
	if notReady.Status != "not ready" || !equalMaps(notReady.Checks, want) {
		t.Errorf("readiness %+v, want status \"not ready\" and checks %v", notReady, want)
	}

	proxy.Start()
	waitFor(t, 15*time.Second, "/readyz to be 200 again", func() bool {
		return s.do(t, "GET", "/readyz", nil).status == http.StatusOK
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestAPIShutdown runs the API as apiserver's main does and stops it as SIGTERM does, while a
// request is in flight: the API stops accepting connections at once, answers the request in
// flight, and returns only after that.
func TestAPIShutdown(t *testing.T) {
	cfg := testConfig(t)
	cfg.ShutdownTimeout = 30 * time.Second
	api := startAPI(t, cfg)

	// No worker polls the task queue yet, so the create waits in the API for its workflow.
	created := api.postAsync(`{"title":"in flight during shutdown"}`)
	api.waitInFlight(t)
	api.stop()

	waitFor(t, 5*time.Second, "the API to stop accepting connections", func() bool {
		c, err := net.DialTimeout("tcp", cfg.HTTPAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if !api.running() {
		t.Fatalf("RunAPI returned with a request in flight: %v", api.err)
	}
	select {
	case r := <-created:
		t.Fatalf("the request was answered before any worker ran: %+v", r)
	default:
	}

	// A worker takes the workflow; the request in flight gets its answer on its open connection.
	deps := connect(t, cfg, quietLogger(t))
	w := deps.NewWorker()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	r := receive(t, created, 30*time.Second, "the answer to the request in flight")
	var tk ticket.Ticket
	if r.err != nil || r.status != http.StatusCreated || json.Unmarshal(r.body, &tk) != nil || tk.Title != "in flight during shutdown" {
		t.Fatalf("request in flight got %d %s (error %v), want 201 and the ticket", r.status, r.body, r.err)
	}
	if err := api.wait(t, 10*time.Second, "RunAPI to return after its last request"); err != nil {
		t.Errorf("RunAPI: %v", err)
	}
}

// TestAPIShutdownDeadline checks that the shutdown timeout bounds the wait for a request that
// does not finish: RunAPI gives up after it, says so, and cuts the connection.
func TestAPIShutdownDeadline(t *testing.T) {
	cfg := testConfig(t)
	cfg.ShutdownTimeout = time.Second
	api := startAPI(t, cfg)

	created := api.postAsync(`{"title":"never answered"}`) // no worker will ever take it
	api.waitInFlight(t)
	start := time.Now()
	api.stop()

	err := api.wait(t, 10*time.Second, "RunAPI to give up")
	if took := time.Since(start); took < cfg.ShutdownTimeout || took > cfg.ShutdownTimeout+3*time.Second {
		t.Errorf("RunAPI returned after %v, want about the shutdown timeout of %v", took, cfg.ShutdownTimeout)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("RunAPI: %v, want the shutdown deadline exceeded", err)
	}
	if r := receive(t, created, 5*time.Second, "the connection to be cut"); r.err == nil {
		t.Errorf("the request past the deadline got %d %s, want its connection cut", r.status, r.body)
	}
}

// TestWorkerShutdown runs the worker as worker's main does, holds its write in the database,
// stops it as SIGTERM does, and checks that it waits for the write, completes the workflow task
// that made it (the persist is a local activity, part of that task), and takes no new task after
// it stopped.
func TestWorkerShutdown(t *testing.T) {
	cfg := testConfig(t)
	cfg.ShutdownTimeout = 30 * time.Second
	deps := connect(t, cfg, quietLogger(t))
	s := newSystem(t, deps)

	proxy := newTCPProxy(t, dsnHost(t, cfg.DatabaseDSN))
	wcfg := cfg
	wcfg.DatabaseDSN = proxy.dsn(t, cfg.DatabaseDSN)
	worker := startWorker(t, wcfg)

	proxy.Pause()
	created := postAsync(s.url+"/api/v1/tickets", s.key, `{"title":"persisted during shutdown"}`)
	select {
	case <-proxy.held:
	case <-time.After(20 * time.Second):
		t.Fatal("the Persist activity never reached the database")
	}
	worker.stop()
	time.Sleep(time.Second)
	if !worker.running() {
		t.Fatalf("RunWorker returned while its activity was running: %v", worker.err)
	}

	proxy.Resume()
	if err := worker.wait(t, 20*time.Second, "RunWorker to return once its activity is done"); err != nil {
		t.Fatalf("RunWorker: %v", err)
	}
	// The activity was let finish, not cancelled: its write is in the database.
	page, err := deps.Store.ListTickets(t.Context(), ticket.ListFilter{PageRequest: ticket.PageRequest{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Title != "persisted during shutdown" {
		t.Fatalf("tickets in the database after the worker stopped: %+v", page.Items)
	}

	// The task that wrote the ticket was completed before the worker returned, so the create is
	// answered without another worker.
	r := receive(t, created, 10*time.Second, "the create's answer from the stopping worker")
	var tk ticket.Ticket
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &tk) != nil || tk.ID != page.Items[0].ID {
		t.Fatalf("got %d %s (error %v), want 201 and ticket %s", r.status, r.body, r.err, page.Items[0].ID)
	}

	// The stopped worker takes no further task: a change waits for the next worker to answer.
	answered := postAsync(s.url+"/api/v1/tickets/"+tk.ID+"/answer", s.key, `{}`)
	select {
	case r := <-answered:
		t.Fatalf("answered with no worker running: %d %s (error %v)", r.status, r.body, r.err)
	case <-time.After(2 * time.Second):
	}
	w := deps.NewWorker()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	if r := receive(t, answered, 30*time.Second, "the answer once a worker runs again"); r.status != http.StatusOK {
		t.Errorf("answer: got %d %s (error %v), want 200", r.status, r.body, r.err)
	}
}

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

// startAPI runs RunAPI on a free port and waits until it answers.
func startAPI(t *testing.T, cfg config.Config) *process {
	t.Helper()
	cfg.HTTPAddr = freeAddr(t)
	p := start(t, "http://"+cfg.HTTPAddr, func(ctx context.Context) error { return app.RunAPI(ctx, cfg, quietLogger(t)) })
	p.key = agentKeyIn(t, cfg.DatabaseDSN)
	return p
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

func (p *process) postAsync(body string) <-chan result {
	return postAsync(p.base+"/api/v1/tickets", p.key, body)
}

// waitInFlight waits until the API serves exactly one request, as its own metrics say.
func (p *process) waitInFlight(t *testing.T) {
	t.Helper()
	waitFor(t, 10*time.Second, "a request in flight", func() bool {
		n, _ := metricstest.Scrape(t, p.base+"/metrics").Value("ticketflow_http_requests_in_flight")
		return n == 1
	})
}

// result is what a request sent in the background got: a response, or an error.
type result struct {
	status int
	body   []byte
	err    error
}

// postAsync posts a JSON body on a connection of its own and delivers the outcome later.
func postAsync(url, key, body string) <-chan result {
	out := make(chan result, 1)
	go func() {
		// A client of its own: the request must not share a connection with the test's others.
		c := &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}
		req, err := http.NewRequest("POST", url, strings.NewReader(body))
		if err != nil {
			out <- result{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := c.Do(req)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		out <- result{status: res.StatusCode, body: b, err: err}
	}()
	return out
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

// freeAddr returns a local address that nothing listens on right now (see freeport).
func freeAddr(t *testing.T) string {
	t.Helper()
	addrs, err := freeport.Addrs(1)
	if err != nil {
		t.Fatal(err)
	}
	return addrs[0]
}

// dsnHost returns the host:port of a postgres:// DSN.
func dsnHost(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
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

// dsn returns dsn with its host replaced by the proxy's.
func (p *tcpProxy) dsn(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr
	return u.String()
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
