package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// sameOutcome fails the test unless a retry got exactly the first outcome, marked as a replay.
func sameOutcome(t *testing.T, first, retry response) {
	t.Helper()
	if retry.status != first.status || !bytes.Equal(retry.body, first.body) {
		t.Fatalf("retry got %d %s, first %d %s", retry.status, retry.body, first.status, first.body)
	}
	for _, h := range []string{"Location", "ETag", "Content-Type"} {
		if retry.header.Get(h) != first.header.Get(h) {
			t.Errorf("retry %s %q, first %q", h, retry.header.Get(h), first.header.Get(h))
		}
	}
}

// forgetOutcomes deletes the stored outcomes of every key, as if the API had crashed after the
// change but before it stored the outcome: a retry must then drive the same change again and
// still apply it only once.
func (s *system) forgetOutcomes(t *testing.T) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE idempotency_keys SET status = NULL, headers = NULL, body = NULL`); err != nil {
		t.Fatal(err)
	}
}

// TestIdempotentCreate retries a create: after a replayed response, after a lost outcome, and
// after a worker restart, always the same ticket; the same key with another body is refused.
func TestIdempotentCreate(t *testing.T) {
	s := startSystem(t)
	body := map[string]string{"title": "once"}
	first := s.post(t, "/api/v1/tickets", "create-1", body)
	var tk httpapi.Ticket
	first.expect(t, http.StatusCreated, &tk)

	retry := s.post(t, "/api/v1/tickets", "create-1", body)
	sameOutcome(t, first, retry)
	if retry.header.Get("Idempotent-Replayed") != "true" {
		t.Error("a replay is not marked Idempotent-Replayed")
	}

	s.forgetOutcomes(t)
	s.restartWorker(t)
	var again httpapi.Ticket
	s.post(t, "/api/v1/tickets", "create-1", body).expect(t, http.StatusCreated, &again)
	if again.ID != tk.ID {
		t.Fatalf("a retry after a lost outcome created ticket %s, first was %s", again.ID, tk.ID)
	}

	s.post(t, "/api/v1/tickets", "create-1", map[string]string{"title": "another"}).
		expectProblem(t, http.StatusUnprocessableEntity, "/problems/idempotency-key-reused")
	s.post(t, "/api/v1/tickets", strings.Repeat("k", 256), body).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	if n := s.countTickets(t); n != 1 {
		t.Fatalf("%d tickets, want 1", n)
	}
}

// TestConcurrentDuplicates sends one request with one key many times at once: one effect.
func TestConcurrentDuplicates(t *testing.T) {
	s := startSystem(t)
	const n = 10
	created := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { created[i] = s.post(t, "/api/v1/tickets", "dup", map[string]string{"title": "dup"}) })
	}
	wg.Wait()
	tk := requireSame(t, created, func(tk httpapi.Ticket) string { return tk.ID })

	comments := make([]response, n)
	for i := range n {
		wg.Go(func() {
			comments[i] = s.post(t, "/api/v1/tickets/"+tk.ID+"/comments", "c", map[string]string{"body": "hi"})
		})
	}
	wg.Wait()
	requireSame(t, comments, func(c httpapi.Comment) string { return c.ID })
	if got := s.get(t, tk.ID); got.CommentsCount != 1 || got.Version != 2 || s.countTickets(t) != 1 {
		t.Fatalf("after duplicates: %d comments, version %d", got.CommentsCount, got.Version)
	}
}

// TestIdempotentChanges retries a comment and each transition, with the outcome replayed, then
// lost, then after a worker restart: each change is applied once and every retry answers as the
// first request did.
func TestIdempotentChanges(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "changes")
	base := "/api/v1/tickets/" + tk.ID
	steps := []struct {
		path string
		body any
		want int
	}{
		{base + "/comments", map[string]string{"body": "hello"}, http.StatusCreated},
		{base + "/answer", map[string]string{"comment": "done"}, http.StatusOK},
		{base + "/await", nil, http.StatusOK},
		{base + "/escalate", map[string]string{"reason": "vip"}, http.StatusOK},
		{base + "/await", nil, http.StatusConflict}, // a refusal is an outcome too, replayed as such
		{base + "/answer", nil, http.StatusOK},
		{base + "/close", map[string]string{"reason": "resolved"}, http.StatusOK},
	}
	firsts := make([]response, len(steps))
	for i, st := range steps {
		key := "step-" + string(rune('a'+i))
		firsts[i] = s.post(t, st.path, key, st.body)
		if firsts[i].status != st.want {
			t.Fatalf("%s: %d %s, want %d", st.path, firsts[i].status, firsts[i].body, st.want)
		}
		sameOutcome(t, firsts[i], s.post(t, st.path, key, st.body))
	}
	want := s.get(t, tk.ID)
	if want.Version != 7 || want.CommentsCount != 2 || want.Status != ticket.StatusClosed || want.EscalationLevel != 1 {
		t.Fatalf("after the steps: %+v", want)
	}

	// With the outcomes lost and the workflow completed, retries still answer as the first did.
	s.forgetOutcomes(t)
	s.restartWorker(t)
	for i, st := range steps {
		retry := s.post(t, st.path, "step-"+string(rune('a'+i)), st.body)
		if retry.status != firsts[i].status {
			t.Errorf("%s after a lost outcome: %d %s, first %d", st.path, retry.status, retry.body, firsts[i].status)
		}
	}
	if got := s.get(t, tk.ID); got.Version != want.Version || got.CommentsCount != want.CommentsCount {
		t.Fatalf("retries changed the ticket: v%d with %d comments, want v%d with %d",
			got.Version, got.CommentsCount, want.Version, want.CommentsCount)
	}
}

// TestIdempotentRetryOfRunningTicket loses the outcome of a comment on a ticket that is still open,
// so the retry reaches the running workflow again: Temporal answers it with the first update's
// outcome instead of applying it twice.
func TestIdempotentRetryOfRunningTicket(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "running")
	path := "/api/v1/tickets/" + tk.ID + "/comments"
	first := s.post(t, path, "k", map[string]string{"body": "once"})
	var c httpapi.Comment
	first.expect(t, http.StatusCreated, &c)
	s.forgetOutcomes(t)
	s.restartWorker(t)
	var again httpapi.Comment
	s.post(t, path, "k", map[string]string{"body": "once"}).expect(t, http.StatusCreated, &again)
	if again.ID != c.ID {
		t.Fatalf("retry made comment %s, first %s", again.ID, c.ID)
	}
	var list page[httpapi.Comment]
	s.do(t, "GET", path, nil).expect(t, http.StatusOK, &list)
	if got := s.get(t, tk.ID); len(list.Items) != 1 || got.CommentsCount != 1 || got.Version != 2 {
		t.Fatalf("after the retry: %d comments listed, comments_count %d, version %d", len(list.Items), got.CommentsCount, got.Version)
	}
}

// TestConditionalRequests checks ETag, If-None-Match and If-Match: a change conditioned on a
// version that moved on is refused with 412 and changes nothing.
func TestConditionalRequests(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "conditional")
	base := "/api/v1/tickets/" + tk.ID
	s.raw(t, "GET", base, nil, "If-None-Match", `"1"`).expect(t, http.StatusNotModified, nil)
	s.raw(t, "GET", base, nil, "If-None-Match", `"0", W/"1"`).expect(t, http.StatusNotModified, nil)
	s.raw(t, "GET", base, nil, "If-None-Match", `"7"`).expect(t, http.StatusOK, nil)

	r := s.do(t, "POST", base+"/comments", map[string]string{"body": "v1"}, "If-Match", `"1"`)
	r.expect(t, http.StatusCreated, nil)
	if r.header.Get("ETag") != `"2"` {
		t.Errorf("ETag after the comment %q", r.header.Get("ETag"))
	}
	p := s.do(t, "POST", base+"/answer", nil, "If-Match", `"1"`).expectProblem(t, http.StatusPreconditionFailed, "/problems/precondition-failed")
	if !strings.Contains(p.Detail, "2") {
		t.Errorf("detail %q does not say the current version", p.Detail)
	}
	s.do(t, "POST", base+"/answer", nil, "If-Match", "three").expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	if got := s.get(t, tk.ID); got.Version != 2 || got.Status != ticket.StatusOpen {
		t.Fatalf("a refused precondition changed the ticket: %+v", got)
	}
	var after httpapi.Ticket
	s.do(t, "POST", base+"/answer", nil, "If-Match", `"2"`).expect(t, http.StatusOK, &after)
	if after.Status != ticket.StatusAnswered {
		t.Fatalf("answer with the current version: %+v", after)
	}
}

// TestReadYourWritesAcrossClients writes through one API server and reads through another, as two
// clients behind a load balancer would: every read shows the acknowledged change or a newer one.
func TestReadYourWritesAcrossClients(t *testing.T) {
	s := startSystem(t)
	reader := s.servedBy(t, s.deps)
	tk := s.create(t, "two clients")
	for i := range 200 {
		action := []ticket.Action{ticket.ActionComment, ticket.ActionEscalate}[i%2]
		body := map[string]string{"body": "c"}
		if action == ticket.ActionEscalate {
			body = nil
		}
		r := s.act(t, tk.ID, action, body)
		if r.status/100 != 2 {
			t.Fatalf("%s: %d %s", action, r.status, r.body)
		}
		acked := etagVersion(t, r.header.Get("ETag"))
		if got := reader.get(t, tk.ID); got.Version < acked {
			t.Fatalf("iteration %d: the other client read version %d after version %d was acknowledged", i, got.Version, acked)
		}
	}
}

// TestMixedRaces sends many different changes to one ticket at once. They are applied one after
// the other: the version is one plus the number of accepted changes, and the audit trail lists each
// accepted change exactly once.
func TestMixedRaces(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "mixed")
	actions := []ticket.Action{ticket.ActionComment, ticket.ActionAnswer, ticket.ActionAwait, ticket.ActionEscalate}
	const n = 40
	results := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a := actions[i%len(actions)]
			body := map[string]string{}
			if a == ticket.ActionComment {
				body["body"] = "racing"
			}
			results[i] = s.act(t, tk.ID, a, body)
		})
	}
	wg.Wait()
	accepted := map[ticket.Action]int{}
	for i, r := range results {
		switch r.status {
		case http.StatusOK, http.StatusCreated:
			accepted[actions[i%len(actions)]]++
		case http.StatusConflict:
		default:
			t.Fatalf("unexpected %d %s", r.status, r.body)
		}
	}
	total := accepted[ticket.ActionComment] + accepted[ticket.ActionAnswer] + accepted[ticket.ActionAwait] + accepted[ticket.ActionEscalate]
	got := s.get(t, tk.ID)
	if got.Version != int64(1+total) || got.CommentsCount != accepted[ticket.ActionComment] || got.EscalationLevel != accepted[ticket.ActionEscalate] {
		t.Fatalf("ticket %+v after %v accepted", got, accepted)
	}
	var events page[httpapi.Event]
	s.do(t, "GET", "/api/v1/tickets/"+tk.ID+"/events?limit=200", nil).expect(t, http.StatusOK, &events)
	count := map[ticket.EventType]int{}
	for i, e := range events.Items {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		count[e.Type]++
	}
	if count[ticket.EventCommented] != accepted[ticket.ActionComment] ||
		count[ticket.EventStatusChanged] != accepted[ticket.ActionAnswer]+accepted[ticket.ActionAwait] ||
		count[ticket.EventEscalated] != accepted[ticket.ActionEscalate] || count[ticket.EventCreated] != 1 {
		b, _ := json.Marshal(count)
		t.Fatalf("events %s for %v accepted", b, accepted)
	}
}

// requireSame fails unless every response created the same item, as its id says, and returns it.
func requireSame[T any](t *testing.T, responses []response, id func(T) string) T {
	t.Helper()
	var first T
	responses[0].expect(t, http.StatusCreated, &first)
	for _, r := range responses[1:] {
		var other T
		r.expect(t, http.StatusCreated, &other)
		if id(other) != id(first) {
			t.Fatalf("duplicates created %T %s and %s", first, id(first), id(other))
		}
	}
	return first
}
