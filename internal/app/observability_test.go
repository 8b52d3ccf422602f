package app_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/metrics/metricstest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestAPIMetrics drives the API and reads its /metrics: requests by route template and status,
// cache hits and misses, and the Temporal SDK's own series, in one scrape.
func TestAPIMetrics(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "metrics")
	s.get(t, tk.ID) // the activity put it in the cache: a hit
	s.do(t, "GET", "/api/v1/tickets/"+uuid.NewString(), nil).expectProblem(t, http.StatusNotFound, "/problems/not-found")
	s.do(t, "GET", "/no/such/page", nil).expect(t, http.StatusNotFound, nil)

	// Not s.raw: that checks answers against the OpenAPI document, which leaves /metrics out.
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	fams := metricstest.Parse(t, res.Body)

	for _, want := range []struct{ method, route, status string }{
		{"POST", "/api/v1/tickets", "201"},
		{"GET", "/api/v1/tickets/{id}", "200"},
		{"GET", "/api/v1/tickets/{id}", "404"},
		{"GET", "unmatched", "404"},
	} {
		labels := []string{"method", want.method, "route", want.route, "status", want.status}
		if n, _ := fams.Value("ticketflow_http_requests_total", labels...); n != 1 {
			t.Errorf("ticketflow_http_requests_total%v = %v, want 1", labels, n)
		}
		if n, _ := fams.Value("ticketflow_http_request_duration_seconds", labels...); n != 1 {
			t.Errorf("ticketflow_http_request_duration_seconds%v counts %v, want 1", labels, n)
		}
	}
	for _, route := range fams.LabelValues("ticketflow_http_requests_total", "route") {
		if strings.Contains(route, tk.ID) || strings.Contains(route, "/no/such") {
			t.Errorf("route label %q holds a path, not a template", route)
		}
	}
	for _, want := range []struct{ name, result string }{
		{"ticketflow_cache_lookups_total", "hit"},
		{"ticketflow_cache_lookups_total", "miss"},
		{"ticketflow_cache_writes_total", "stored"}, // the worker shares this process's registry here
	} {
		if n, _ := fams.Value(want.name, "result", want.result); n < 1 {
			t.Errorf("%s{result=%q} = %v, want at least 1", want.name, want.result, n)
		}
	}
	// The Temporal client's own metrics: the update-with-start (a long request) that created the ticket.
	if n, _ := fams.Value("temporal_long_request_total", "operation", "ExecuteMultiOperation"); n < 1 {
		t.Errorf("no temporal_long_request_total for the create's ExecuteMultiOperation; operations: %q",
			fams.LabelValues("temporal_long_request_total", "operation"))
	}
	if n, _ := fams.Value("ticketflow_build_info"); n != 1 {
		t.Errorf("ticketflow_build_info = %v", n)
	}
}

// TestWorkerMetrics runs the worker as its main does and reads /metrics on WORKER_METRICS_ADDR:
// the SDK's activity durations and failures (a Persist that fails while the database is away,
// then succeeds), workflow task timings, and the cache writes of the activity.
func TestWorkerMetrics(t *testing.T) {
	cfg := testConfig(t)
	s := startSystem(t, withConfig(cfg), withoutWorker())
	wcfg, proxy := proxyDatabase(t, cfg)
	worker := startWorker(t, wcfg)
	scrape := func() metricstest.Families { return metricstest.Scrape(t, worker.base+"/metrics") }

	proxy.Stop() // the worker's database goes away: Persist fails and is retried
	created := postAsync(s.url+"/api/v1/tickets", s.key, `{"title":"counted"}`)
	waitFor(t, 20*time.Second, "a failed Persist in the worker's metrics", func() bool {
		n, _ := scrape().Value("temporal_activity_execution_failed_total", "activity_type", "Persist")
		return n >= 1
	})
	proxy.Start()
	if r := receive(t, created, 30*time.Second, "the ticket once the database is back"); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s (error %v)", r.status, r.body, r.err)
	}

	fams := scrape()
	failed, _ := fams.Value("temporal_activity_execution_failed_total", "activity_type", "Persist")
	// Every attempt is timed, the failed ones and the one that succeeded.
	if runs, _ := fams.Value("temporal_activity_execution_latency_seconds", "activity_type", "Persist"); runs < failed+1 {
		t.Errorf("Persist timed %v times, want the %v failures and a success", runs, failed)
	}
	for _, name := range []string{"temporal_workflow_task_execution_latency_seconds", "temporal_request_total", "temporal_worker_start_total"} {
		if n, _ := fams.Value(name); n < 1 {
			t.Errorf("%s = %v, want at least 1", name, n)
		}
	}
	if n, _ := fams.Value("ticketflow_cache_writes_total", "result", "stored"); n != 1 {
		t.Errorf("ticketflow_cache_writes_total{result=\"stored\"} = %v, want 1", n)
	}
	if _, ok := fams.Value("ticketflow_http_requests_total"); ok {
		t.Error("the worker exports HTTP request series of an API it does not serve")
	}
}

// records decodes the JSON log lines.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Bytes())
		}
		recs = append(recs, rec)
	}
	return recs
}

// TestRequestLogs checks the line that every request logs: method, route template, status,
// latency, request ID and the ticket it was about; and that the Temporal SDK logs through the
// same logger.
func TestRequestLogs(t *testing.T) {
	logs := &syncBuffer{}
	s := startSystem(t, withJSONLogs(logs))
	var tk httpapi.Ticket
	s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "logged"}, "X-Request-Id", "req-create").
		expect(t, http.StatusCreated, &tk)
	s.do(t, "GET", "/api/v1/tickets/"+tk.ID, nil, "X-Request-Id", "req-read").expect(t, http.StatusOK, nil)

	recs := logs.records(t)
	find := func(requestID string) map[string]any {
		for _, r := range recs {
			if r["msg"] == "request" && r["request_id"] == requestID {
				return r
			}
		}
		t.Fatalf("no request line with request_id %q in:\n%s", requestID, logs)
		return nil
	}
	for _, want := range []struct {
		requestID, method, route string
		status                   float64
		ticketID                 any
	}{
		{"req-create", "POST", "/api/v1/tickets", 201, nil},
		{"req-read", "GET", "/api/v1/tickets/{id}", 200, tk.ID},
	} {
		r := find(want.requestID)
		if r["method"] != want.method || r["route"] != want.route || r["status"] != want.status || r["ticket_id"] != want.ticketID {
			t.Errorf("request line %v, want method %s, route %s, status %v, ticket_id %v", r, want.method, want.route, want.status, want.ticketID)
		}
		if ms, ok := r["latency_ms"].(float64); !ok || ms <= 0 {
			t.Errorf("request line %v has no latency", r)
		}
	}
	if !slices.ContainsFunc(recs, func(r map[string]any) bool { return r["component"] == "temporal" }) {
		t.Errorf("no line from the Temporal SDK (component=temporal) in:\n%s", logs)
	}
}

// TestLogsHoldNoSecrets sends a credential and a body full of secrets, and checks that neither
// reaches any log line, at debug level, of the API, the workflow or the activity.
func TestLogsHoldNoSecrets(t *testing.T) {
	logs := &syncBuffer{}
	s := startSystem(t, withJSONLogs(logs))
	secret, token := "s3cr3t-"+uuid.NewString(), "tf_live_"+uuid.NewString()
	body := map[string]string{
		"title":       "password " + secret,
		"description": "my card is " + secret,
		"requester":   secret + "@example.com",
	}
	r := s.do(t, "POST", "/api/v1/tickets", body, "Authorization", "Bearer "+token, "X-Request-Id", "req-secret")
	if r.status >= 500 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r.status == http.StatusCreated {
		// Let the workflow and its activity log what they log about the ticket too.
		var tk httpapi.Ticket
		r.expect(t, http.StatusCreated, &tk)
		s.act(t, tk.ID, ticket.ActionComment, map[string]string{"body": "again " + secret}).expect(t, http.StatusCreated, nil)
	}

	out := logs.String()
	if !strings.Contains(out, `"request_id":"req-secret"`) {
		t.Fatalf("the request was not logged at all:\n%s", out)
	}
	for _, leak := range []string{secret, token} {
		if strings.Contains(out, leak) {
			t.Errorf("the log holds %q:\n%s", leak, out)
		}
	}
}

// TestNewLogger checks the format switch: JSON unless LOG_FORMAT=text.
func TestNewLogger(t *testing.T) {
	if _, ok := app.NewLogger(config.Config{LogFormat: "json"}).Handler().(*slog.JSONHandler); !ok {
		t.Error("LOG_FORMAT=json does not log JSON")
	}
	if _, ok := app.NewLogger(config.Config{LogFormat: "text"}).Handler().(*slog.TextHandler); !ok {
		t.Error("LOG_FORMAT=text does not log text")
	}
}
