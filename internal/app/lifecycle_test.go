package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/cache/redis"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/workflows"
)

// reach drives a new ticket to status from through the API.
func (s *system) reach(t *testing.T, from ticket.Status) httpapi.Ticket {
	t.Helper()
	tk := s.create(t, "reach "+string(from))
	path := map[ticket.Status][]ticket.Action{
		ticket.StatusOpen:     nil,
		ticket.StatusAnswered: {ticket.ActionAnswer},
		ticket.StatusAwaiting: {ticket.ActionAnswer, ticket.ActionAwait},
		ticket.StatusClosed:   {ticket.ActionClose},
	}[from]
	for _, a := range path {
		s.act(t, tk.ID, a, nil).expect(t, http.StatusOK, &tk)
	}
	if tk.Status != from {
		t.Fatalf("ticket is %s, want %s", tk.Status, from)
	}
	return tk
}

// TestLifecycleOverHTTP drives every from/to pair of the lifecycle through the API. The expected
// table is written here again, on purpose, as the independent statement of api.md that the code's
// table is checked against. No endpoint moves a ticket back to open, so the pairs into open are
// checked by asking every transition endpoint and seeing none of them lead there.
func TestLifecycleOverHTTP(t *testing.T) {
	s := startSystem(t)
	allowed := map[ticket.Status]map[ticket.Status]bool{
		ticket.StatusOpen:     {ticket.StatusAnswered: true, ticket.StatusClosed: true},
		ticket.StatusAnswered: {ticket.StatusAwaiting: true, ticket.StatusClosed: true},
		ticket.StatusAwaiting: {ticket.StatusAnswered: true, ticket.StatusClosed: true},
		ticket.StatusClosed:   {},
	}
	actionTo := map[ticket.Status]ticket.Action{
		ticket.StatusAnswered: ticket.ActionAnswer,
		ticket.StatusAwaiting: ticket.ActionAwait,
		ticket.StatusClosed:   ticket.ActionClose,
	}
	for _, from := range ticket.Statuses {
		for _, to := range ticket.Statuses {
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				t.Parallel()
				before := s.reach(t, from)
				action, ok := actionTo[to]
				if !ok {
					for _, a := range actionTo {
						r := s.act(t, before.ID, a, nil)
						var after httpapi.Ticket
						if r.status == http.StatusOK {
							r.expect(t, http.StatusOK, &after)
							if after.Status == ticket.StatusOpen {
								t.Fatalf("%s moved a %s ticket back to open", a, from)
							}
						}
					}
					return
				}
				r := s.act(t, before.ID, action, nil)
				if allowed[from][to] {
					var after httpapi.Ticket
					r.expect(t, http.StatusOK, &after)
					if after.Status != to || after.Version != before.Version+1 {
						t.Fatalf("got %s v%d, want %s v%d", after.Status, after.Version, to, before.Version+1)
					}
					if got := s.get(t, before.ID); got.Status != to || got.Version != after.Version {
						t.Fatalf("GET after %s shows %s v%d", action, got.Status, got.Version)
					}
					return
				}
				p := r.expectProblem(t, http.StatusConflict, "/problems/invalid-transition")
				if !strings.Contains(p.Detail, string(from)) || !strings.Contains(p.Detail, string(to)) {
					t.Errorf("detail %q does not name both %s and %s", p.Detail, from, to)
				}
				if got := s.get(t, before.ID); got.Version != before.Version || got.Status != from {
					t.Errorf("a refused %s changed the ticket: %s v%d", action, got.Status, got.Version)
				}
			})
		}
	}
}

// TestClosedTicket checks that a closed ticket refuses comments and every change, that its
// workflow has completed, and that the refusals still come as 409 problems.
func TestClosedTicket(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "to be closed")
	s.act(t, tk.ID, ticket.ActionClose, map[string]string{"reason": "resolved", "comment": "bye"}).
		expect(t, http.StatusOK, &tk)
	if tk.Status != ticket.StatusClosed || tk.ClosedAt == nil || tk.CloseReason == nil || *tk.CloseReason != "resolved" ||
		tk.CommentsCount != 1 {
		t.Fatalf("closed ticket %+v", tk)
	}
	waitCompleted(t, s, tk.ID)

	p := s.act(t, tk.ID, ticket.ActionComment, map[string]string{"body": "hello?"}).
		expectProblem(t, http.StatusConflict, "/problems/ticket-closed")
	if p.Detail != "cannot comment on a ticket that is closed" {
		t.Errorf("detail %q", p.Detail)
	}
	s.act(t, tk.ID, ticket.ActionEscalate, nil).expectProblem(t, http.StatusConflict, "/problems/ticket-closed")
	for _, a := range []ticket.Action{ticket.ActionAnswer, ticket.ActionAwait, ticket.ActionClose} {
		s.act(t, tk.ID, a, nil).expectProblem(t, http.StatusConflict, "/problems/invalid-transition")
	}
	if got := s.get(t, tk.ID); got.Version != tk.Version {
		t.Errorf("refused changes moved the version from %d to %d", tk.Version, got.Version)
	}
}

// TestConcurrentCloses sends 30 closes at once: the workflow applies them one after the other, so
// exactly one succeeds and the rest are refused as invalid transitions.
func TestConcurrentCloses(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "raced")
	const n = 30
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i] = s.act(t, tk.ID, ticket.ActionClose, nil).status })
	}
	wg.Wait()
	count := map[int]int{}
	for _, st := range statuses {
		count[st]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 409", count, n-1)
	}
	got := s.get(t, tk.ID)
	if got.Status != ticket.StatusClosed || got.Version != 2 {
		t.Fatalf("after the race: %s v%d, want closed v2", got.Status, got.Version)
	}
	var events page[httpapi.Event]
	s.do(t, "GET", "/api/v1/tickets/"+tk.ID+"/events", nil).expect(t, http.StatusOK, &events)
	if len(events.Items) != 2 || events.Items[1].Type != ticket.EventStatusChanged {
		t.Fatalf("events %+v, want created and one status_changed", events.Items)
	}
}

// TestReadAfterWrite checks that after each acknowledged change every read shows that change or a
// newer one, with comments and transitions racing in from several clients.
func TestReadAfterWrite(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "read your writes")
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for i := range 15 {
				var cm httpapi.Comment
				r := s.act(t, tk.ID, ticket.ActionComment, map[string]string{"body": fmt.Sprintf("client %d comment %d", c, i)})
				r.expect(t, http.StatusCreated, &cm)
				acked := etagVersion(t, r.header.Get("ETag"))
				if got := s.get(t, tk.ID); got.Version < acked {
					t.Errorf("stale read: version %d after an acknowledged version %d", got.Version, acked)
				}
			}
		})
	}
	wg.Wait()
	got := s.get(t, tk.ID)
	if got.Version != 61 || got.CommentsCount != 60 {
		t.Fatalf("after 60 comments: v%d with %d comments, want v61 with 60", got.Version, got.CommentsCount)
	}
	var comments page[httpapi.Comment]
	s.do(t, "GET", "/api/v1/tickets/"+tk.ID+"/comments?limit=200", nil).expect(t, http.StatusOK, &comments)
	if len(comments.Items) != 60 {
		t.Fatalf("%d comments listed, want 60", len(comments.Items))
	}
}

// domainTicket is a ticket that the API showed, as the domain's type, for a test to put straight
// into a store of the system.
func domainTicket(v httpapi.Ticket) ticket.Ticket { return v.Domain() }

// TestReadsFromCacheThenPostgres proves where a GET is served from: a document in the cache wins
// over the database, and with Redis unreachable the database answers instead of an error.
func TestReadsFromCacheThenPostgres(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "cached")

	// A newer document put straight into the cache is what GET returns: the read is a cache hit.
	marked := tk
	marked.Version++
	marked.Title = "only in the cache"
	if ok, err := s.deps.Cache.Put(context.Background(), domainTicket(marked)); err != nil || !ok {
		t.Fatalf("put: %v %v", ok, err)
	}
	if got := s.get(t, tk.ID); got.Title != marked.Title {
		t.Fatalf("GET returned %q, want the cached %q", got.Title, marked.Title)
	}

	// The same system with a cache that cannot be reached reads the ticket from PostgreSQL.
	down := *s.deps
	down.Cache = redis.New([]string{"127.0.0.1:1"}, time.Minute)
	t.Cleanup(func() { _ = down.Cache.Close() })
	srv := s.servedBy(t, &down)
	start := time.Now()
	got := srv.get(t, tk.ID)
	if got.Title != "cached" || got.Version != tk.Version {
		t.Fatalf("with Redis down GET returned %q v%d, want the stored %q v%d", got.Title, got.Version, "cached", tk.Version)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the fallback took %v", took)
	}
	srv.do(t, "GET", "/readyz", nil).expect(t, http.StatusServiceUnavailable, nil)
}

// TestRefusedSignalIsRecorded sends automations' signals straight to the workflow: a valid one
// applies, a refused one changes nothing and shows in the audit trail as transition_rejected.
func TestRefusedSignalIsRecorded(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "automated")
	ctx := context.Background()
	id := workflows.WorkflowID(tk.ID)
	if err := s.deps.Temporal.SignalWorkflow(ctx, id, "", string(ticket.ActionAwait), ticketflow.Command{Actor: "sla-bot"}); err != nil {
		t.Fatal(err)
	}
	if err := s.deps.Temporal.SignalWorkflow(ctx, id, "", string(ticket.ActionEscalate), ticketflow.Command{Reason: "vip"}); err != nil {
		t.Fatal(err)
	}
	var events page[httpapi.Event]
	waitFor(t, 10*time.Second, "the signals' events", func() bool {
		s.do(t, "GET", "/api/v1/tickets/"+tk.ID+"/events", nil).expect(t, http.StatusOK, &events)
		return len(events.Items) >= 3
	})
	if len(events.Items) != 3 {
		t.Fatalf("events %+v, want created, transition_rejected, escalated", events.Items)
	}
	rejected, escalated := events.Items[1], events.Items[2]
	if rejected.Type != ticket.EventTransitionRejected || rejected.Actor != "sla-bot" ||
		rejected.FromStatus != ticket.StatusOpen || rejected.ToStatus != ticket.StatusAwaiting {
		t.Errorf("rejected event %+v", rejected)
	}
	if escalated.Type != ticket.EventEscalated || escalated.Actor != "automation" || escalated.Data["reason"] != "vip" {
		t.Errorf("escalated event %+v", escalated)
	}
	if got := s.get(t, tk.ID); got.Version != 2 || got.EscalationLevel != 1 || got.Status != ticket.StatusOpen {
		t.Errorf("after the signals: %+v", got)
	}
}
