package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/metrics/metricstest"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestReadyzWhenPostgresStops puts a proxy between the API and its database, closes it, and
// checks that /readyz turns 503 naming PostgreSQL, within the checks' 2 s timeout, and turns
// ready again once the database is back. (The shared test PostgreSQL itself keeps running.)
func TestReadyzWhenPostgresStops(t *testing.T) {
	cfg, proxy := proxyDatabase(t, testConfig(t))
	s := startSystem(t, withConfig(cfg), withoutWorker())

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
	if notReady.Status != "not ready" || !maps.Equal(notReady.Checks, want) {
		t.Errorf("readiness %+v, want status \"not ready\" and checks %v", notReady, want)
	}

	proxy.Start()
	waitFor(t, 15*time.Second, "/readyz to be 200 again", func() bool {
		return s.do(t, "GET", "/readyz", nil).status == http.StatusOK
	})
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
	runWorker(t, connect(t, cfg, quietLogger(t)).NewWorker())
	r := receive(t, created, 30*time.Second, "the answer to the request in flight")
	var tk httpapi.Ticket
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
	s := startSystem(t, withConfig(cfg), withoutWorker())
	deps := s.deps

	wcfg, proxy := proxyDatabase(t, cfg)
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
	var tk httpapi.Ticket
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
	s.startWorker(t)
	if r := receive(t, answered, 30*time.Second, "the answer once a worker runs again"); r.status != http.StatusOK {
		t.Errorf("answer: got %d %s (error %v), want 200", r.status, r.body, r.err)
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

// agentKeyIn creates an agent key in the database at dsn, for an API that a test runs as its own
// process, and returns its secret.
func agentKeyIn(t *testing.T, dsn string) string {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret, hash := auth.NewSecret()
	if _, err := db.CreateKey(context.Background(), auth.NewKey{Name: "agent-" + uuid.NewString()[:8], Role: string(auth.RoleAgent)}, hash); err != nil {
		t.Fatal(err)
	}
	return secret
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
