package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/worker"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/cache/redis/redistest"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

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
	}
}

// startSystem starts the worker and serves the API on a local port until the test ends.
func startSystem(t *testing.T) *system {
	t.Helper()
	return startSystemWith(t, testConfig(t))
}

// startSystemWith is startSystem with a configuration of the test's own.
func startSystemWith(t *testing.T, cfg config.Config) *system {
	t.Helper()
	s := newSystem(t, connect(t, cfg, quietLogger(t)))
	s.startWorker(t)
	return s
}

// newSystem serves the API of deps until the test ends, with an agent key; it starts no worker.
func newSystem(t *testing.T, deps *app.Deps) *system {
	t.Helper()
	return (&system{deps: deps, url: serve(t, deps.Handler()), dsn: deps.Config.DatabaseDSN}).withAgentKey(t)
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

// as returns a client of the same system that presents another key ("" for none).
func (s *system) as(secret string) *system {
	c := *s
	c.key = secret
	return &c
}

// startWorker starts a worker for the system, stopped when the test ends.
func (s *system) startWorker(t *testing.T) {
	t.Helper()
	w := s.deps.NewWorker()
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	s.worker = w
}

// restartWorker stops the worker and starts a new one, as a deploy or a crash would.
func (s *system) restartWorker(t *testing.T) {
	t.Helper()
	s.worker.Stop()
	s.startWorker(t)
}

// serve serves h on a local port until the test ends and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

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
type problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail"`
	Instance string              `json:"instance"`
	Errors   []ticket.FieldError `json:"errors"`
}

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

// create opens a ticket through the API.
func (s *system) create(t *testing.T, title string) ticket.Ticket {
	t.Helper()
	var tk ticket.Ticket
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

// get reads a ticket through the API.
func (s *system) get(t *testing.T, id string) ticket.Ticket {
	t.Helper()
	var tk ticket.Ticket
	s.do(t, "GET", "/api/v1/tickets/"+id, nil).expect(t, http.StatusOK, &tk)
	return tk
}
