package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketflow/ticketflow/internal/metrics"
	"github.com/ticketflow/ticketflow/internal/metrics/metricstest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

func newMetrics(t *testing.T) (*metrics.Metrics, func() metricstest.Families) {
	t.Helper()
	m, err := metrics.New(slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return m, func() metricstest.Families { return metricstest.Scrape(t, srv.URL) }
}

// router is shaped like internal/httpapi's: nested routes, a URL parameter, a mounted sub-router.
func router() http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {})
	r.Route("/api/v1", func(r chi.Router) {
		r.Post("/tickets", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
		r.Route("/tickets/{id}", func(r chi.Router) {
			r.Get("/", func(w http.ResponseWriter, r *http.Request) {
				if chi.URLParam(r, "id") == "missing" {
					http.Error(w, "no such ticket", http.StatusNotFound)
					return
				}
				_, _ = io.WriteString(w, "{}")
			})
		})
	})
	return r
}

// TestInstrumentHTTP checks the labels: the route template rather than the path, one "unmatched"
// for every path no route serves, the status the client got, and only standard methods.
func TestInstrumentHTTP(t *testing.T) {
	m, scrape := newMetrics(t)
	srv := httptest.NewServer(m.InstrumentHTTP(router()))
	defer srv.Close()

	requests := []struct{ method, path, route, status string }{
		{"GET", "/healthz", "/healthz", "200"},
		{"POST", "/api/v1/tickets", "/api/v1/tickets", "201"},
		{"GET", "/api/v1/tickets/0193a0f4-1", "/api/v1/tickets/{id}", "200"},
		{"GET", "/api/v1/tickets/0193a0f4-2/", "/api/v1/tickets/{id}", "200"},
		// A 404 from a route that matched keeps its route: it is the ticket that is missing.
		{"GET", "/api/v1/tickets/missing", "/api/v1/tickets/{id}", "404"},
		{"PUT", "/api/v1/tickets/0193a0f4-3", "/api/v1/tickets/{id}", "405"},
		{"GET", "/wp-login.php", "unmatched", "404"},
		{"GET", "/api/v1/nope", "unmatched", "404"},
		{"GET", "/api/v1/tickets/0193a0f4-4/nope", "unmatched", "404"},
		{"DELETE", "/api/v1/tickets", "unmatched", "405"},
		{"PURGE", "/healthz", "unmatched", "405"},
	}
	for _, r := range requests {
		req, err := http.NewRequest(r.method, srv.URL+r.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	fams := scrape()
	for _, r := range requests {
		method := r.method
		if method == "PURGE" {
			method = "other"
		}
		labels := []string{"method", method, "route", r.route, "status", r.status}
		if _, ok := fams.Value("ticketflow_http_requests_total", labels...); !ok {
			t.Errorf("%s %s: no ticketflow_http_requests_total%v", r.method, r.path, labels)
		}
		if _, ok := fams.Value("ticketflow_http_request_duration_seconds", labels...); !ok {
			t.Errorf("%s %s: no ticketflow_http_request_duration_seconds%v", r.method, r.path, labels)
		}
	}
	if n, _ := fams.Value("ticketflow_http_requests_total", "route", "unmatched"); n != 5 {
		t.Errorf("unmatched requests %v, want 5", n)
	}
	if n, _ := fams.Value("ticketflow_http_request_duration_seconds"); n != float64(len(requests)) {
		t.Errorf("observed durations %v, want %d", n, len(requests))
	}
	want := []string{"/api/v1/tickets", "/api/v1/tickets/{id}", "/healthz", "unmatched"}
	if got := fams.LabelValues("ticketflow_http_requests_total", "route"); !slices.Equal(got, want) {
		t.Errorf("route labels %q, want %q", got, want)
	}
	if n, ok := fams.Value("ticketflow_http_requests_in_flight"); !ok || n != 0 {
		t.Errorf("in flight after all requests ended: %v (exported: %v)", n, ok)
	}
}

// TestInstrumentHTTPInFlight checks that a request is counted as in flight while it is served.
func TestInstrumentHTTPInFlight(t *testing.T) {
	m, scrape := newMetrics(t)
	entered, release := make(chan struct{}), make(chan struct{})
	h := m.InstrumentHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/slow", nil))
	}()
	<-entered
	if n, _ := scrape().Value("ticketflow_http_requests_in_flight"); n != 1 {
		t.Errorf("in flight during the request: %v, want 1", n)
	}
	close(release)
	<-done
	if n, _ := scrape().Value("ticketflow_http_requests_in_flight"); n != 0 {
		t.Errorf("in flight after the request: %v, want 0", n)
	}
}

// fakeCache answers from a map; the id "broken" fails.
type fakeCache struct{ tickets map[string]ticket.Ticket }

var errBroken = errors.New("cache down")

func (c *fakeCache) Get(_ context.Context, id string) (ticket.Ticket, bool, error) {
	if id == "broken" {
		return ticket.Ticket{}, false, errBroken
	}
	t, ok := c.tickets[id]
	return t, ok, nil
}

func (c *fakeCache) Put(_ context.Context, t ticket.Ticket) (bool, error) {
	if t.ID == "broken" {
		return false, errBroken
	}
	if old, ok := c.tickets[t.ID]; ok && old.Version >= t.Version {
		return false, nil
	}
	c.tickets[t.ID] = t
	return true, nil
}

func (c *fakeCache) Ping(context.Context) error { return nil }

// TestCache checks that the decorator counts what the cache did and passes its answers through.
func TestCache(t *testing.T) {
	m, scrape := newMetrics(t)
	c := m.Cache(&fakeCache{tickets: map[string]ticket.Ticket{}})

	// The series exist before any traffic, so that rates and ratios work from the first scrape.
	before := scrape()
	for _, r := range []string{"hit", "miss", "error"} {
		if v, ok := before.Value("ticketflow_cache_lookups_total", "result", r); !ok || v != 0 {
			t.Errorf("lookups %s before traffic: %v, exported %v", r, v, ok)
		}
	}
	for _, r := range []string{"stored", "skipped", "error"} {
		if v, ok := before.Value("ticketflow_cache_writes_total", "result", r); !ok || v != 0 {
			t.Errorf("writes %s before traffic: %v, exported %v", r, v, ok)
		}
	}

	ctx := context.Background()
	if stored, err := c.Put(ctx, ticket.Ticket{ID: "a", Version: 2}); !stored || err != nil {
		t.Fatalf("put: %v, %v", stored, err)
	}
	if stored, err := c.Put(ctx, ticket.Ticket{ID: "a", Version: 1}); stored || err != nil {
		t.Fatalf("put an older version: %v, %v", stored, err)
	}
	if _, err := c.Put(ctx, ticket.Ticket{ID: "broken"}); !errors.Is(err, errBroken) {
		t.Fatalf("put broken: %v", err)
	}
	if tk, ok, err := c.Get(ctx, "a"); !ok || err != nil || tk.Version != 2 {
		t.Fatalf("get: %+v, %v, %v", tk, ok, err)
	}
	c.Get(ctx, "a")
	c.Get(ctx, "b")
	if _, _, err := c.Get(ctx, "broken"); !errors.Is(err, errBroken) {
		t.Fatalf("get broken: %v", err)
	}

	after := scrape()
	for _, want := range []struct {
		name, result string
		n            float64
	}{
		{"ticketflow_cache_lookups_total", "hit", 2},
		{"ticketflow_cache_lookups_total", "miss", 1},
		{"ticketflow_cache_lookups_total", "error", 1},
		{"ticketflow_cache_writes_total", "stored", 1},
		{"ticketflow_cache_writes_total", "skipped", 1},
		{"ticketflow_cache_writes_total", "error", 1},
	} {
		if got, _ := after.Value(want.name, "result", want.result); got != want.n {
			t.Errorf("%s{result=%q} = %v, want %v", want.name, want.result, got, want.n)
		}
	}
}

// TestTemporalMetrics checks the names and shapes under which the Temporal SDK's metrics reach
// the registry: counters as counters, timers as histograms in seconds with buckets that fit, and
// the SDK's tags as labels, without OpenTelemetry's own labels or series.
func TestTemporalMetrics(t *testing.T) {
	m, scrape := newMetrics(t)
	h := m.Temporal().WithTags(map[string]string{"activity_type": "Persist", "task_queue": "tickets"})
	h.Timer("temporal_activity_execution_latency").Record(30 * time.Millisecond)
	h.Counter("temporal_activity_execution_failed").Inc(1)
	h.Gauge("temporal_num_pollers").Update(2)

	fams := scrape()
	if v, _ := fams.Value("temporal_activity_execution_latency_seconds", "activity_type", "Persist", "task_queue", "tickets"); v != 1 {
		t.Errorf("temporal_activity_execution_latency_seconds count %v, want 1; families: %v", v, names(fams))
	}
	if v, _ := fams.Value("temporal_activity_execution_failed_total", "activity_type", "Persist"); v != 1 {
		t.Errorf("temporal_activity_execution_failed_total %v, want 1; families: %v", v, names(fams))
	}
	if v, _ := fams.Value("temporal_num_pollers"); v != 2 {
		t.Errorf("temporal_num_pollers %v, want 2", v)
	}
	// 30 ms lies between the 25 ms and 50 ms bounds: the buckets are in seconds.
	for _, b := range fams["temporal_activity_execution_latency_seconds"].GetMetric()[0].GetHistogram().GetBucket() {
		want := map[float64]uint64{0.025: 0, 0.05: 1}
		if n, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != n {
			t.Errorf("bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), n)
		}
	}
	if _, ok := fams["target_info"]; ok {
		t.Error("target_info is exported")
	}
	if got := fams.LabelValues("temporal_num_pollers", "otel_scope_name"); len(got) > 0 {
		t.Errorf("otel_scope_name labels %q", got)
	}
}

// TestBuildAndRuntime checks the build's identity and the Go runtime collectors.
func TestBuildAndRuntime(t *testing.T) {
	_, scrape := newMetrics(t)
	fams := scrape()
	if v, _ := fams.Value("ticketflow_build_info", "version", "dev", "goversion", runtime.Version()); v != 1 {
		t.Errorf("ticketflow_build_info = %v, want 1 for this build", v)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := fams.Value(name); !ok {
			t.Errorf("no %s", name)
		}
	}
}

func names(f metricstest.Families) string {
	var ns []string
	for n := range f {
		if strings.HasPrefix(n, "temporal") {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return strings.Join(ns, ", ")
}
