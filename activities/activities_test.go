package activities_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/ticketflow/ticketflow/activities"
	"github.com/ticketflow/ticketflow/internal/cache/redis"
	"github.com/ticketflow/ticketflow/internal/cache/redis/redistest"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

// fixture is the activity on a fresh PostgreSQL database and the test Redis Cluster, run through
// Temporal's activity test environment as a worker would run it.
type fixture struct {
	db    *postgres.DB
	cache *redis.Cache
	acts  *activities.Activities
	env   *testsuite.TestActivityEnvironment
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{db: pgtest.New(t), cache: redistest.New(t)}
	f.acts = &activities.Activities{Store: f.db, Cache: f.cache}
	var suite testsuite.WorkflowTestSuite
	f.env = suite.NewTestActivityEnvironment()
	f.env.RegisterActivity(f.acts)
	return f
}

func (f *fixture) persist(t *testing.T, changes ...ticket.Change) {
	t.Helper()
	if _, err := f.env.ExecuteActivity(f.acts.Persist, wire.FromChanges(changes)); err != nil {
		t.Fatalf("Persist: %v", err)
	}
}

// history builds a ticket's first changes as the workflow would: created, a comment, answered.
func history(t *testing.T) []ticket.Change {
	t.Helper()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	state, created, err := ticket.Start(uuid.NewString(), ticket.NewTicket{Title: "Printer on fire"}, "alice", ticket.Policy{}, now)
	if err != nil {
		t.Fatal(err)
	}
	changes := []ticket.Change{created}
	cmds := []ticket.Command{
		{Action: ticket.ActionComment, Actor: "bob", Comment: "on it", CommentID: uuid.NewString()},
		{Action: ticket.ActionAnswer, Actor: "bob", Comment: "fixed", CommentID: uuid.NewString()},
	}
	for i, cmd := range cmds {
		ch, err := state.Apply(cmd, now.Add(time.Duration(i+1)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, ch)
	}
	return changes
}

// check asserts what PostgreSQL and the cache hold for the ticket.
func (f *fixture) check(t *testing.T, want ticket.Ticket, comments, events int) {
	t.Helper()
	ctx := context.Background()
	got, err := f.db.Ticket(ctx, want.ID)
	if err != nil || got.Version != want.Version || got.Status != want.Status {
		t.Fatalf("stored ticket v%d %s (%v), want v%d %s", got.Version, got.Status, err, want.Version, want.Status)
	}
	cs, err := f.db.ListComments(ctx, want.ID, ticket.PageRequest{Limit: 200}, ticket.VisibilityInternal)
	if err != nil || len(cs.Items) != comments {
		t.Fatalf("%d comments stored (%v), want %d", len(cs.Items), err, comments)
	}
	es, err := f.db.ListEvents(ctx, want.ID, ticket.PageRequest{Limit: 200}, ticket.VisibilityInternal)
	if err != nil || len(es.Items) != events {
		t.Fatalf("%d events stored (%v), want %d", len(es.Items), err, events)
	}
	cached, hit, err := f.cache.Get(ctx, want.ID)
	if err != nil || !hit || cached.Version != want.Version || cached.Status != want.Status {
		t.Fatalf("cached v%d %s (hit %v, %v), want v%d %s", cached.Version, cached.Status, hit, err, want.Version, want.Status)
	}
}

// TestPersist writes a ticket's changes in one activity: each lands in PostgreSQL once, and the
// cache holds the newest ticket.
func TestPersist(t *testing.T) {
	f := newFixture(t)
	changes := history(t)
	f.persist(t, changes...)
	f.check(t, changes[2].Ticket, 2, 4)
}

// TestPersistRetried runs the same activity again, as Temporal does after a worker crashed before
// reporting its completion: nothing is written twice.
func TestPersistRetried(t *testing.T) {
	f := newFixture(t)
	changes := history(t)
	f.persist(t, changes...)
	f.persist(t, changes...)
	f.persist(t, changes[1])
	f.check(t, changes[2].Ticket, 2, 4)
}

// TestPersistOutOfOrder delivers an older change after a newer one, as a late retry can: the row
// and the cache keep the newer ticket, and the older change's comment and events still land.
func TestPersistOutOfOrder(t *testing.T) {
	f := newFixture(t)
	changes := history(t)
	f.persist(t, changes[0])
	f.persist(t, changes[2])
	f.check(t, changes[2].Ticket, 1, 3)
	f.persist(t, changes[1])
	f.check(t, changes[2].Ticket, 2, 4)
}

// TestPersistFailsWhenCacheIsDown makes sure a change is not reported persisted while the cache
// may still hold an older document: the activity fails, and Temporal retries it.
func TestPersistFailsWhenCacheIsDown(t *testing.T) {
	f := newFixture(t)
	down := &activities.Activities{Store: f.db, Cache: deadCache{}}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(down)
	_, err := env.ExecuteActivity(down.Persist, wire.FromChanges(history(t)[:1]))
	if err == nil {
		t.Fatal("Persist succeeded with the cache down")
	}
	if nonRetryable(err) {
		t.Errorf("Persist with the cache down failed for good (%v); want a retryable failure", err)
	}
}

// TestPersistRefusedIsRetriedAndReported checks that a change the store refuses (here, one it
// calls invalid) fails the activity in a way Temporal retries: giving up would lose a change that
// was acknowledged. The failure is reported (the ticket is failing, the worker's readiness says
// so, the metrics count it) until a write of the ticket succeeds.
func TestPersistRefusedIsRetriedAndReported(t *testing.T) {
	f := newFixture(t)
	m := &failingMetrics{}
	f.acts.Failing = activities.NewFailing(slog.New(slog.NewTextHandler(t.Output(), nil)), m, 0)
	changes := history(t)
	bad := slices.Clone(changes[:1])
	bad[0].Ticket.Status = "lost" // the schema refuses a status it does not know
	_, err := f.env.ExecuteActivity(f.acts.Persist, wire.FromChanges(bad))
	if err == nil || nonRetryable(err) {
		t.Fatalf("Persist of a refused change: %v; want a retryable failure", err)
	}
	if err := f.acts.Failing.Check(context.Background()); err == nil || !strings.Contains(err.Error(), bad[0].Ticket.ID) {
		t.Fatalf("readiness with a failing ticket: %v; want an error naming ticket %s", err, bad[0].Ticket.ID)
	}
	if m.failures != 1 || m.failing != 1 {
		t.Fatalf("metrics: %d failures, %d failing tickets; want 1, 1", m.failures, m.failing)
	}

	f.persist(t, changes...) // the fixed build writes them
	if err := f.acts.Failing.Check(context.Background()); err != nil {
		t.Fatalf("readiness once the ticket's writes succeed: %v", err)
	}
	if m.failing != 0 {
		t.Fatalf("%d failing tickets after the write succeeded", m.failing)
	}
	f.check(t, changes[len(changes)-1].Ticket, 2, 4)
}

// TestFailingGrace checks that a write failing for less than the grace period leaves the worker
// ready: a blip is no reason to page anyone.
func TestFailingGrace(t *testing.T) {
	f := newFixture(t)
	f.acts.Failing = activities.NewFailing(slog.New(slog.NewTextHandler(t.Output(), nil)), nil, time.Hour)
	down := &activities.Activities{Store: f.db, Cache: deadCache{}, Failing: f.acts.Failing}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(down)
	if _, err := env.ExecuteActivity(down.Persist, wire.FromChanges(history(t)[:1])); err == nil {
		t.Fatal("Persist succeeded with the cache down")
	}
	if err := f.acts.Failing.Check(context.Background()); err != nil {
		t.Fatalf("readiness within the grace period: %v", err)
	}
}

type failingMetrics struct{ failures, failing int }

func (m *failingMetrics) PersistFailed()          { m.failures++ }
func (m *failingMetrics) SetFailingTickets(n int) { m.failing = n }

// nonRetryable reports whether err is an application error that Temporal does not retry.
func nonRetryable(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}

type deadCache struct{}

func (deadCache) Put(context.Context, ticket.Ticket) (bool, error) {
	return false, context.DeadlineExceeded
}
