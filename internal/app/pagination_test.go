package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// inserter adds items in a goroutine of its own while a test pages through a listing, and lets
// the test wait for the next insert between two pages, so that every page boundary is crossed by
// at least one concurrent insert, however fast the pages come.
type inserter struct {
	mu    sync.Mutex
	count int
	done  bool
	cond  *sync.Cond
	wg    sync.WaitGroup
}

// startInserter calls insert n times in a goroutine; insert reports its own failures with
// t.Errorf, as a goroutine other than the test's must not stop the test.
func startInserter(n int, insert func(i int)) *inserter {
	in := &inserter{}
	in.cond = sync.NewCond(&in.mu)
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		for i := range n {
			insert(i)
			in.mu.Lock()
			in.count++
			in.cond.Broadcast()
			in.mu.Unlock()
		}
		in.mu.Lock()
		in.done = true
		in.cond.Broadcast()
		in.mu.Unlock()
	}()
	return in
}

// inserted returns how many inserts have been made.
func (in *inserter) inserted() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.count
}

// waitPast waits until more than n inserts have been made, or the inserter has finished.
func (in *inserter) waitPast(n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for in.count <= n && !in.done {
		in.cond.Wait()
	}
}

// checkOnce fails the test unless every want appears exactly once in got, and nothing in got
// appears twice.
func checkOnce(t *testing.T, what string, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, id := range got {
		count[id]++
		if count[id] == 2 {
			t.Errorf("%s: %s was listed twice", what, id)
		}
	}
	for _, id := range want {
		if count[id] == 0 {
			t.Errorf("%s: %s was skipped", what, id)
		}
	}
}

// TestPaginationUnderConcurrentInserts pages through each listing, a few items at a time, while
// another client keeps adding to it, and checks that keyed pages neither skip nor repeat an item
// that was there from the start. Tickets are listed newest first, so new ones appear only on a
// new first page; comments and events are listed oldest first, so new ones appear on the pages
// still to come, in order.
func TestPaginationUnderConcurrentInserts(t *testing.T) {
	s := startSystem(t)
	const originals, inserts, limit = 12, 10, 2

	var tickets []string // the original tickets, oldest first
	var high []string    // the original tickets of priority high
	for i := range originals {
		prio := []string{"low", "high"}[i%2]
		var tk httpapi.Ticket
		s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": fmt.Sprint("original ", i), "priority": prio}).
			expect(t, http.StatusCreated, &tk)
		tickets = append(tickets, tk.ID)
		if prio == "high" {
			high = append(high, tk.ID)
		}
	}
	target := tickets[0]
	var comments []string
	for i := range originals {
		var c httpapi.Comment
		s.act(t, target, ticket.ActionComment, map[string]string{"body": fmt.Sprint("original ", i)}).
			expect(t, http.StatusCreated, &c)
		comments = append(comments, c.ID)
	}
	var before page[httpapi.Event]
	s.do(t, "GET", "/api/v1/tickets/"+target+"/events?limit=200", nil).expect(t, http.StatusOK, &before)
	var events []string
	for _, e := range before.Items {
		events = append(events, fmt.Sprint(e.Seq))
	}

	// insert posts from a goroutine other than the test's: failures are reported, not fatal.
	insert := func(path string, body any) {
		if r := s.do(t, "POST", path, body); r.status != http.StatusCreated {
			t.Errorf("POST %s during paging: %d %s", path, r.status, r.body)
		}
	}
	createTickets := func(prio string) func(int) {
		return func(i int) {
			insert("/api/v1/tickets", map[string]string{"title": fmt.Sprint("new ", i), "priority": prio})
		}
	}
	addComments := func(i int) {
		insert("/api/v1/tickets/"+target+"/comments", map[string]string{"body": fmt.Sprint("new ", i)})
	}

	t.Run("tickets", func(t *testing.T) {
		in := startInserter(inserts, createTickets("normal"))
		got := listPages[httpapi.Ticket](t, s, "/api/v1/tickets", limit, in)
		in.wg.Wait()
		ids := make([]string, len(got))
		for i, tk := range got {
			ids[i] = tk.ID
			if i > 0 && !newer(got[i-1], tk) {
				t.Errorf("%s listed after %s, which is not newer", tk.ID, got[i-1].ID)
			}
		}
		checkOnce(t, "tickets", ids, tickets)
	})

	t.Run("tickets of one priority", func(t *testing.T) {
		in := startInserter(inserts, createTickets("high"))
		got := listPages[httpapi.Ticket](t, s, "/api/v1/tickets?priority=high", limit, in)
		in.wg.Wait()
		var ids []string
		for _, tk := range got {
			ids = append(ids, tk.ID)
			if tk.Priority != ticket.PriorityHigh {
				t.Errorf("the filter let through %s of priority %s", tk.ID, tk.Priority)
			}
		}
		checkOnce(t, "tickets of priority high", ids, high)
	})

	t.Run("comments", func(t *testing.T) {
		in := startInserter(inserts, addComments)
		got := listPages[httpapi.Comment](t, s, "/api/v1/tickets/"+target+"/comments", limit, in)
		in.wg.Wait()
		// Oldest first, and appended to: what the pages gave is the start of the listing as it
		// is now, in the same order, with no comment missing in between.
		var all page[httpapi.Comment]
		s.do(t, "GET", "/api/v1/tickets/"+target+"/comments?limit=200", nil).expect(t, http.StatusOK, &all)
		var ids, allIDs []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		for _, c := range all.Items {
			allIDs = append(allIDs, c.ID)
		}
		checkOnce(t, "comments", ids, comments)
		if len(ids) > len(allIDs) || !slices.Equal(ids, allIDs[:len(ids)]) {
			t.Errorf("the pages gave comments %v, which is not the start of the listing %v", ids, allIDs)
		}
		if len(ids) == len(comments) {
			t.Error("no comment added during paging was listed: the inserts did not overlap the pages")
		}
	})

	t.Run("events", func(t *testing.T) {
		in := startInserter(inserts, addComments)
		got := listPages[httpapi.Event](t, s, "/api/v1/tickets/"+target+"/events", limit, in)
		in.wg.Wait()
		var seqs []string
		for i, e := range got {
			seqs = append(seqs, fmt.Sprint(e.Seq))
			// The trail is numbered from 1 without gaps, so the pages must give 1, 2, 3, ….
			if e.Seq != int64(i+1) {
				t.Errorf("item %d of the pages is event %d: a gap or a repeat", i+1, e.Seq)
			}
		}
		checkOnce(t, "events", seqs, events)
		if len(got) <= len(events)+inserts {
			t.Errorf("%d events listed, no more than before this subtest's inserts: they did not overlap the pages", len(got))
		}
	})
}

// newer reports whether a sorts before b in a listing of tickets, newest first.
func newer(a, b httpapi.Ticket) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// TestPageLimits checks the bounds of limit on every listing, and the default page size.
func TestPageLimits(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "limits")
	for _, path := range []string{"/api/v1/tickets", "/api/v1/tickets/" + tk.ID + "/comments", "/api/v1/tickets/" + tk.ID + "/events"} {
		for _, limit := range []string{"0", "-1", "201", "1.5", "ten", "99999999999999999999"} {
			s.do(t, "GET", path+"?limit="+limit, nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
		}
		for _, limit := range []string{"1", "200"} {
			s.do(t, "GET", path+"?limit="+limit, nil).expect(t, http.StatusOK, nil)
		}
	}

	// 51 tickets: the default page holds 50 and points on to the 51st.
	var wg sync.WaitGroup
	for i := range ticket.DefaultPageSize {
		wg.Go(func() {
			if r := s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": fmt.Sprint("t", i)}); r.status != http.StatusCreated {
				t.Errorf("create: %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	var first page[httpapi.Ticket]
	s.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, &first)
	if len(first.Items) != ticket.DefaultPageSize || first.NextCursor == nil {
		t.Fatalf("the default page holds %d tickets (next %v), want %d and a cursor", len(first.Items), first.NextCursor, ticket.DefaultPageSize)
	}
	var rest page[httpapi.Ticket]
	s.do(t, "GET", "/api/v1/tickets?cursor="+url.QueryEscape(*first.NextCursor), nil).expect(t, http.StatusOK, &rest)
	if len(rest.Items) != 1 || rest.NextCursor != nil {
		t.Errorf("after the default page: %d tickets, next %v; want the last one and no cursor", len(rest.Items), rest.NextCursor)
	}
}

// TestBadCursors checks that a cursor that no listing made, or that another listing made, is
// refused with 400 instead of starting the listing over or paging somewhere else: a client that
// mixes cursors up must learn it, not loop. A cursor is signed for its listing (path, ticket,
// filters, who lists), so a cursor of another listing, an altered one or one made by hand is
// refused; and a query string that is not URL encoding is refused before it is read.
func TestBadCursors(t *testing.T) {
	s := startSystem(t)
	a := s.create(t, "a")
	b := s.create(t, "b")
	for _, id := range []string{a.ID, b.ID} {
		for range 2 {
			s.act(t, id, ticket.ActionComment, map[string]string{"body": "x"}).expect(t, http.StatusCreated, nil)
		}
	}
	next := func(path string) string {
		var p page[struct{}]
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		s.do(t, "GET", path+sep+"limit=1", nil).expect(t, http.StatusOK, &p)
		if p.NextCursor == nil {
			t.Fatalf("%s has a single page", path)
		}
		return url.QueryEscape(*p.NextCursor)
	}
	tickets, comments, events := "/api/v1/tickets", "/api/v1/tickets/"+a.ID+"/comments", "/api/v1/tickets/"+a.ID+"/events"
	ticketCursor, commentCursor, eventCursor := next(tickets), next(comments), next(events)
	openCursor := next(tickets + "?status=open")
	handMade := ticket.Cursor{At: b.CreatedAt, ID: b.ID}.Encode()
	payload, mac, _ := strings.Cut(ticketCursor, ".")
	altered := ticket.Cursor{At: b.CreatedAt.Add(time.Microsecond), ID: b.ID}.Encode() + "." + mac

	// The cursors work where they were made.
	for _, path := range []string{tickets + "?cursor=" + ticketCursor, tickets + "?status=open&cursor=" + openCursor,
		comments + "?cursor=" + commentCursor, events + "?cursor=" + eventCursor} {
		s.do(t, "GET", path, nil).expect(t, http.StatusOK, nil)
	}
	for _, tc := range []struct{ name, path string }{
		{"not base64", tickets + "?cursor=%25%25"},
		{"not JSON", comments + "?cursor=bm90IGpzb24"},
		{"a cursor with a field too many", events + "?cursor=eyJzIjoxLCJ4IjoxfQ"},
		{"a zero sequence number", events + "?cursor=eyJzIjowfQ"},
		{"a hand-made cursor", tickets + "?cursor=" + handMade},
		{"a cursor without its signature", tickets + "?cursor=" + payload},
		{"a cursor whose position was altered", tickets + "?cursor=" + altered},
		{"a cursor of ?status=open on ?status=closed", tickets + "?status=closed&cursor=" + openCursor},
		{"a cursor of ?status=open without the filter", tickets + "?cursor=" + openCursor},
		{"a cursor of all tickets on ?priority=normal", tickets + "?priority=normal&cursor=" + ticketCursor},
		{"an event cursor on tickets", tickets + "?cursor=" + eventCursor},
		{"a comment cursor on tickets", tickets + "?cursor=" + commentCursor},
		{"an event cursor on comments", comments + "?cursor=" + eventCursor},
		{"a ticket cursor on events", events + "?cursor=" + ticketCursor},
		{"a comment cursor on events", events + "?cursor=" + commentCursor},
		{"a comment cursor on another ticket's comments", "/api/v1/tickets/" + b.ID + "/comments?cursor=" + commentCursor},
		{"a query string that is not URL encoding", tickets + "?cursor=%%%garbage"},
		{"a broken escape beside a good parameter", tickets + "?limit=1&x=%zz"},
		{"a broken escape on a ticket", "/api/v1/tickets/" + a.ID + "?x=%zz"},
		{"a broken escape on a change", "/api/v1/tickets/" + a.ID + "/escalate?%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if strings.Contains(tc.path, "/escalate") {
				method = "POST"
			}
			s.do(t, method, tc.path, nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
		})
	}
	if got := s.get(t, a.ID); got.EscalationLevel != 0 {
		t.Errorf("a change with a broken query string escalated the ticket: %+v", got)
	}
	// A customer's listing is a listing of its own: an agent's cursor does not page through it.
	alice := s.as(s.newKey(t, "alice-"+a.ID[:8], auth.RoleCustomer, a.Requester+"x"))
	alice.do(t, "GET", tickets+"?cursor="+ticketCursor, nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	// Filters are checked as strictly as cursors.
	for _, q := range []string{"status=Open", "status=", "priority=urgent,high", "priority=%00"} {
		r := s.do(t, "GET", tickets+"?"+q, nil)
		if q == "status=" { // an empty filter is no filter
			r.expect(t, http.StatusOK, nil)
			continue
		}
		r.expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	}
}
