package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ticketflow/ticketflow/internal/httpapi"
)

// workerReadyz gets the worker's /readyz.
func workerReadyz(t *testing.T, p *process) (int, readiness) {
	t.Helper()
	res, err := http.Get(p.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r readiness
	if ct := res.Header.Get("Content-Type"); ct != "application/json" || json.Unmarshal(b, &r) != nil {
		t.Fatalf("/readyz: %d %s %s", res.StatusCode, ct, b)
	}
	return res.StatusCode, r
}

// workerChecks are the checks of the worker's /readyz.
var workerChecks = []string{"worker", "temporal", "postgres", "redis", "persist"}

// TestWorkerReadyz runs the worker as its main does, with a proxy in front of its database: ready
// with every check ok; when the database goes away, 503 naming PostgreSQL within the checks'
// timeout, then also the ticket whose write keeps failing; ready again once the database is back.
func TestWorkerReadyz(t *testing.T) {
	cfg := testConfig(t)
	// Long enough for the create below to outlast the worker's grace for failing writes.
	cfg.RequestTimeout = 55 * time.Second
	s := startSystem(t, withConfig(cfg), withoutWorker())
	wcfg, proxy := proxyDatabase(t, cfg)
	worker := startWorker(t, wcfg)

	status, r := workerReadyz(t, worker)
	if status != http.StatusOK || r.Status != "ready" || len(r.Checks) != len(workerChecks) {
		t.Fatalf("running worker: %d %+v, want 200, ready, checks %q", status, r, workerChecks)
	}
	for _, c := range workerChecks {
		if r.Checks[c] != "ok" {
			t.Errorf("check %s = %q, want ok", c, r.Checks[c])
		}
	}

	proxy.Stop()
	begin := time.Now()
	status, r = workerReadyz(t, worker)
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("/readyz took %v with the database gone, want about its 2 s check timeout at most", took)
	}
	if status != http.StatusServiceUnavailable || r.Status != "not ready" || r.Checks["postgres"] == "ok" {
		t.Fatalf("database gone: %d %+v, want 503 naming postgres", status, r)
	}
	for _, c := range []string{"worker", "temporal", "redis", "persist"} {
		if r.Checks[c] != "ok" {
			t.Errorf("database gone: check %s = %q, want ok", c, r.Checks[c])
		}
	}

	// A ticket whose write keeps failing is named once it has failed for longer than a blip.
	created := postAsync(s.url+"/api/v1/tickets", s.key, `{"title":"stuck"}`)
	var stuck string
	waitFor(t, 60*time.Second, "/readyz to name the ticket whose write fails", func() bool {
		_, r := workerReadyz(t, worker)
		stuck = r.Checks["persist"]
		return stuck != "ok"
	})
	proxy.Start()
	res := receive(t, created, 30*time.Second, "the ticket once the database is back")
	var tk httpapi.Ticket
	if res.status != http.StatusCreated || json.Unmarshal(res.body, &tk) != nil {
		t.Fatalf("create: %d %s (error %v)", res.status, res.body, res.err)
	}
	if !strings.Contains(stuck, tk.ID) {
		t.Errorf("persist check %q does not name ticket %s", stuck, tk.ID)
	}
	waitFor(t, 15*time.Second, "/readyz to be 200 again", func() bool {
		status, _ := workerReadyz(t, worker)
		return status == http.StatusOK
	})
}

// TestWorkerFatalError runs the worker on a namespace of its own and deletes the namespace under
// it: the SDK stops the worker on that fatal error, and RunWorker returns it, so that the
// process exits non-zero instead of living on without polling. The SDK retries such errors for a
// grace period first (two minutes in SDK v1.51), hence the long wait.
func TestWorkerFatalError(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.TemporalNamespace = "test-fatal-" + uuid.NewString()[:8]
	ctx := t.Context()
	ns, err := client.NewNamespaceClient(client.Options{HostPort: cfg.TemporalAddress, Logger: quietTemporalLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if err := ns.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: cfg.TemporalNamespace, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	tc, err := client.DialContext(ctx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Logger: quietTemporalLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close) // after the cleanup below, which uses it
	deleteNamespace := func() error {
		_, err := tc.OperatorService().DeleteNamespace(context.Background(), &operatorservice.DeleteNamespaceRequest{Namespace: cfg.TemporalNamespace})
		return err
	}
	t.Cleanup(func() {
		var gone *serviceerror.NamespaceNotFound
		if err := deleteNamespace(); err != nil && !errors.As(err, &gone) {
			t.Logf("delete namespace %s: %v", cfg.TemporalNamespace, err)
		}
	})
	// A new namespace reaches the server's caches a moment after it is registered.
	waitFor(t, 30*time.Second, "the new namespace to be usable", func() bool {
		_, err := tc.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace: cfg.TemporalNamespace, TaskQueue: &taskqueuepb.TaskQueue{Name: cfg.TemporalTaskQueue},
			TaskQueueType: enums.TASK_QUEUE_TYPE_WORKFLOW,
		})
		return err == nil
	})

	worker := startWorker(t, cfg)
	if status, r := workerReadyz(t, worker); status != http.StatusOK || r.Checks["worker"] != "ok" {
		t.Fatalf("running worker: %d %+v", status, r)
	}
	if err := deleteNamespace(); err != nil {
		t.Fatalf("delete namespace: %v", err)
	}
	err = worker.wait(t, 5*time.Minute, "RunWorker to return on the fatal error")
	var gone *serviceerror.NamespaceNotFound
	if !errors.As(err, &gone) {
		t.Fatalf("RunWorker returned %v, want the fatal NamespaceNotFound", err)
	}
}
