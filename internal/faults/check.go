package faults

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketflow/ticketflow/internal/cache/redis"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/workflows"
)

// Truth is where the checker reads what the system holds: each ticket's workflow (its query),
// PostgreSQL and the cache, each read directly rather than through the API under test.
type Truth struct {
	Workflows *workflows.Client
	Store     *postgres.DB
	Cache     *redis.Cache
}

// Fault is one injected failure: when it began and when the suite undid it.
type Fault struct {
	Name     string
	At       time.Time
	Repaired time.Time
}

// Figures are a scenario's results. Lost, Duplicated and Stale must be 0, and Violations empty.
type Figures struct {
	Scenario     string
	Tickets      int
	Requests     int // every HTTP request of the load and of the resolution, reads included
	Acknowledged int // changes answered 2xx, creations included
	Resolved     int // of those, the ones whose client learnt the outcome only by retrying after the load
	Lost         int // acknowledged changes that the workflow, PostgreSQL or the cache does not hold
	Duplicated   int // changes applied more than once
	Stale        int // reads that showed an older version than one acknowledged before they were sent
	// Diverged counts tickets whose sources disagree with each other or with what a client was
	// told, at the same version: a change applied twice with different contents, say.
	Diverged int
	// The webhook's: the events that came (once per webhook-id or more), those of PostgreSQL that
	// never came, deliveries that came out of their ticket's order or did not verify (Missing and
	// Broken must be 0), and deliveries of an event that had come already (allowed: at least once).
	WebhookEvents, WebhookMissing, WebhookBroken, WebhookRepeats int
	ServerErrors                                                 map[int]int
	NoAnswer                                                     int // requests that got no HTTP answer (the API down or restarting)
	// Recover is, over the faults, the longest time from a fault's injection to the end of the
	// last request that failed (a 5xx or no answer) before the next fault. Slow requests do not
	// count: on a shared machine they come and go with the neighbours' load.
	Recover time.Duration
	Faults  []Fault
	// Violations lists, one line each, every broken promise, including the ones counted above.
	Violations []string
}

// slow is the latency from which the timeline counts a request as slow.
const slow = 2 * time.Second

// String is the scenario's line of figures.
func (f Figures) String() string {
	codes := slices.Sorted(maps.Keys(f.ServerErrors))
	var errs []string
	for _, c := range codes {
		errs = append(errs, fmt.Sprintf("%d:%d", c, f.ServerErrors[c]))
	}
	if len(errs) == 0 {
		errs = []string{"none"}
	}
	held := time.Duration(0)
	for _, ft := range f.Faults {
		held += ft.Repaired.Sub(ft.At)
	}
	return fmt.Sprintf("%-16s requests=%d acknowledged=%d lost=%d duplicated=%d stale=%d diverged=%d 5xx=%s no-answer=%d recover=%.1fs (faults=%d, held %.1fs) tickets=%d resolved-after=%d webhook: events=%d missing=%d broken=%d repeats=%d",
		f.Scenario, f.Requests, f.Acknowledged, f.Lost, f.Duplicated, f.Stale, f.Diverged, strings.Join(errs, ","),
		f.NoAnswer, f.Recover.Seconds(), len(f.Faults), held.Seconds(), f.Tickets, f.Resolved,
		f.WebhookEvents, f.WebhookMissing, f.WebhookBroken, f.WebhookRepeats)
}

// Check compares the record with the truth. Every figure is computed from what the truth holds
// and what clients were told, never from what the load generator believed it did.
func (tr *Truth) Check(ctx context.Context, name string, rec *Record, faults []Fault) Figures {
	f := Figures{Scenario: name, ServerErrors: map[int]int{}, Faults: faults}
	f.requests(rec)
	f.recovery(rec)
	for _, rd := range rec.Reads {
		if rd.Status == 200 && rd.Err == "" && rd.Version < rd.Acked {
			f.Stale++
			if rd.What == ReadComments {
				f.violate("stale read of the comments of ticket %s at %s: %d comments, after %d were acknowledged",
					rd.TicketID, rd.Start.Format("15:04:05.000"), rd.Version, rd.Acked)
			} else {
				f.violate("stale read of ticket %s at %s: version %d, after version %d was acknowledged",
					rd.TicketID, rd.Start.Format("15:04:05.000"), rd.Version, rd.Acked)
			}
		}
		if rd.Err != "" && rd.Status != 0 {
			f.violate("read of the %s of ticket %s: %s", rd.What, rd.TicketID, rd.Err)
		}
	}

	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, 8)
	)
	for _, t := range rec.Tickets {
		if len(t.Ops) == 0 {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var tf Figures
			tf.ServerErrors = map[int]int{}
			tr.checkTicket(ctx, t, &tf)
			mu.Lock()
			defer mu.Unlock()
			f.Tickets++
			f.Acknowledged += tf.Acknowledged
			f.Resolved += tf.Resolved
			f.Lost += tf.Lost
			f.Duplicated += tf.Duplicated
			f.Diverged += tf.Diverged
			f.Violations = append(f.Violations, tf.Violations...)
		})
	}
	wg.Wait()
	return f
}

func (f *Figures) violate(format string, args ...any) {
	f.Violations = append(f.Violations, fmt.Sprintf(format, args...))
}

// requests counts the requests and their server errors, and checks that each 5xx is one that
// the API promises: a 503 or a 504, as problem+json, with a Retry-After.
func (f *Figures) requests(rec *Record) {
	count := func(status int, problem, retryAfter, what string, at time.Time) {
		f.Requests++
		switch {
		case status == 0:
			f.NoAnswer++
		case status >= 500:
			f.ServerErrors[status]++
			when := at.Format("15:04:05.000")
			switch {
			case status != 503 && status != 504:
				f.violate("%s at %s: %d, want 503 or 504 when the outcome is unknown", what, when, status)
			case retryAfter == "":
				f.violate("%s at %s: %d without Retry-After", what, when, status)
			case problem == "":
				f.violate("%s at %s: %d that is not application/problem+json", what, when, status)
			}
		}
	}
	for _, t := range rec.Tickets {
		for _, op := range t.Ops {
			for _, a := range op.Attempts {
				count(a.Status, a.Problem, a.RetryAfter, fmt.Sprintf("%s of ticket %d", op.Kind, t.Index), a.Start)
			}
		}
	}
	for _, rd := range rec.Reads {
		count(rd.Status, rd.Problem, rd.RetryAfter, "read of the "+rd.What+" of ticket "+rd.TicketID, rd.Start)
	}
}

// recovery computes Recover: for each fault, the end of the last request that failed among those
// that ended before the next fault.
func (f *Figures) recovery(rec *Record) {
	type span struct{ start, end time.Time }
	var degraded []span
	add := func(start, end time.Time, status int) {
		if status == 0 || status >= 500 {
			degraded = append(degraded, span{start, end})
		}
	}
	rec.eachRequest(add)
	for i, ft := range f.Faults {
		var next time.Time
		if i+1 < len(f.Faults) {
			next = f.Faults[i+1].At
		}
		last := ft.At
		for _, d := range degraded {
			if d.end.After(last) && (next.IsZero() || d.end.Before(next)) {
				last = d.end
			}
		}
		f.Recover = max(f.Recover, last.Sub(ft.At))
	}
}

// expectation is the ticket as the acknowledged changes made it.
type expectation struct {
	version    int64
	status     ticket.Status
	comments   int
	escalation int
}

// checkTicket compares one ticket's record with the truth.
func (tr *Truth) checkTicket(ctx context.Context, t *Ticket, f *Figures) {
	label := fmt.Sprintf("ticket %d (%s)", t.Index, t.ID)
	var acked []*Op
	for _, op := range t.Ops {
		switch o := op.Outcome; {
		case o == nil:
			f.violate("%s: the outcome of %s (Idempotency-Key %s) was never learnt, though retried %d times",
				label, op.Kind, op.Key, len(op.Attempts))
		case !o.Acked():
			// The load asks only what the lifecycle allows, so a refusal means that the system
			// lost track of an earlier change, or answered a retry differently from the first try.
			f.violate("%s: %s refused with %d %s", label, op.Kind, o.Status, o.Err)
		default:
			if o.Err != "" {
				f.violate("%s: %s: %s", label, op.Kind, o.Err)
			}
			if op.ReplayErr != "" {
				f.violate("%s: %s (Idempotency-Key %s) %s", label, op.Kind, op.Key, op.ReplayErr)
			}
			acked = append(acked, op)
			f.Acknowledged++
			if o.Resolved {
				f.Resolved++
			}
		}
	}
	if len(acked) == 0 || acked[0].Kind != KindCreate {
		return // never created: nothing to hold
	}

	want := expectation{status: ticket.StatusOpen}
	for _, op := range acked {
		want.version++
		if op.Outcome.Version != want.version {
			f.violate("%s: %s acknowledged at version %d, want %d: something else changed the ticket in between",
				label, op.Kind, op.Outcome.Version, want.version)
		}
		if op.Target != "" {
			want.status = op.Target
		}
		if op.Comment != "" {
			want.comments++
		}
		if op.Kind == KindEscalate {
			want.escalation++
		}
	}

	st, err := tr.read(ctx, t.ID)
	if err != nil {
		f.violate("%s: reading the truth: %v", label, err)
		f.Lost += len(acked)
		return
	}

	// The trail of changes in PostgreSQL, one entry per change, in the order they were applied.
	trail := changes(st.events)
	bodies := map[string][]ticket.Comment{}
	for _, c := range st.comments {
		bodies[c.Body] = append(bodies[c.Body], c)
	}

	// lost: an acknowledged change that one of the three does not hold.
	unmatched := trail.match(acked, bodies)
	for _, op := range acked {
		v := op.Outcome.Version
		var missing []string
		if st.workflow.Version < v {
			missing = append(missing, fmt.Sprintf("the workflow is at version %d", st.workflow.Version))
		}
		if st.postgres.Version < v {
			missing = append(missing, fmt.Sprintf("postgres is at version %d", st.postgres.Version))
		}
		switch {
		case !st.cached:
			missing = append(missing, "the cache has no document")
		case st.cache.Version < v:
			missing = append(missing, fmt.Sprintf("the cache is at version %d", st.cache.Version))
		}
		if op.Comment != "" && len(bodies[op.Comment]) == 0 {
			missing = append(missing, "postgres has no such comment")
		}
		if unmatched[op] {
			missing = append(missing, "the audit trail in postgres has no such change")
		}
		if len(missing) > 0 {
			f.Lost++
			f.violate("%s: %s acknowledged at version %d is lost: %s", label, op.Kind, v, strings.Join(missing, "; "))
		}
	}

	// duplicated: a change applied more than once shows as versions, changes in the trail or
	// comments beyond what was acknowledged (every change was resolved, so all were counted).
	extra := max(st.workflow.Version, st.postgres.Version, st.cache.Version, int64(len(trail))) - want.version
	extraComments := len(st.comments) - want.comments
	for _, op := range acked {
		if n := len(bodies[op.Comment]); op.Comment != "" && n > 1 {
			extraComments = max(extraComments, n-1)
		}
	}
	if dup := max(extra, int64(extraComments), int64(trail.repeated())); dup > 0 {
		f.Duplicated += int(dup)
		f.violate("%s: %d change(s) applied more than once: want version %d and %d comments; workflow %d, postgres %d, cache %d, %d changes in the trail, %d comments",
			label, dup, want.version, want.comments, st.workflow.Version, st.postgres.Version, st.cache.Version, len(trail), len(st.comments))
	}

	// The three agree with each other and with what the acknowledged changes made.
	for _, src := range []struct {
		name string
		t    ticket.Ticket
		ok   bool
	}{{"workflow", st.workflow, true}, {"postgres", st.postgres, true}, {"cache", st.cache, st.cached}} {
		if !src.ok {
			continue
		}
		if d := differ(src.t, want); d != "" {
			f.violate("%s: the %s holds %s", label, src.name, d)
		}
	}
	// At the same version, the sources agree to the last field, and with what clients were
	// told: the ticket a 2xx showed at the final version, and each comment a 2xx showed.
	diverged := false
	diverge := func(format string, args ...any) {
		diverged = true
		f.violate(label+": "+format, args...)
	}
	if d := ticketDiff(st.cache, st.postgres); st.cached && d != "" {
		diverge("the cache and postgres differ at versions %d and %d: %s", st.cache.Version, st.postgres.Version, d)
	}
	if d := ticketDiff(st.workflow, st.postgres); d != "" {
		diverge("the workflow and postgres differ at versions %d and %d: %s", st.workflow.Version, st.postgres.Version, d)
	}
	for _, op := range acked {
		o := op.Outcome
		if o.Ticket != nil && o.Version == st.postgres.Version {
			if d := ticketDiff(o.Ticket.Domain(), st.postgres); d != "" {
				diverge("%s was acknowledged with a ticket that postgres does not hold: %s", op.Kind, d)
			}
		}
		if c := o.Comment; c != nil {
			i := slices.IndexFunc(st.comments, func(s ticket.Comment) bool { return s.ID == c.ID })
			if i >= 0 && (st.comments[i].Body != c.Body || st.comments[i].Author != c.Author || !st.comments[i].CreatedAt.Equal(c.CreatedAt)) {
				diverge("comment %s was acknowledged as %+v, postgres holds %+v", c.ID, *c, st.comments[i])
			}
		}
	}
	if diverged {
		f.Diverged++
	}
}

func differ(t ticket.Ticket, want expectation) string {
	var d []string
	if t.Version != want.version {
		d = append(d, fmt.Sprintf("version %d, want %d", t.Version, want.version))
	}
	if t.Status != want.status {
		d = append(d, fmt.Sprintf("status %s, want %s", t.Status, want.status))
	}
	if t.CommentsCount != want.comments {
		d = append(d, fmt.Sprintf("comments_count %d, want %d", t.CommentsCount, want.comments))
	}
	if t.EscalationLevel != want.escalation {
		d = append(d, fmt.Sprintf("escalation_level %d, want %d", t.EscalationLevel, want.escalation))
	}
	return strings.Join(d, ", ")
}

// ticketDiff names the fields in which two tickets differ, times compared by the instant they
// name; "" when they are the same.
func ticketDiff(a, b ticket.Ticket) string {
	var d []string
	field := func(name string, x, y any, same bool) {
		if !same {
			d = append(d, fmt.Sprintf("%s %v / %v", name, x, y))
		}
	}
	deref := func(p any) any {
		switch v := p.(type) {
		case *time.Time:
			if v != nil {
				return v.Format(time.RFC3339Nano)
			}
		case *string:
			if v != nil {
				return *v
			}
		}
		return nil
	}
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	sameString := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	field("id", a.ID, b.ID, a.ID == b.ID)
	field("title", a.Title, b.Title, a.Title == b.Title)
	field("description", a.Description, b.Description, a.Description == b.Description)
	field("status", a.Status, b.Status, a.Status == b.Status)
	field("priority", a.Priority, b.Priority, a.Priority == b.Priority)
	field("requester", a.Requester, b.Requester, a.Requester == b.Requester)
	field("escalation_level", a.EscalationLevel, b.EscalationLevel, a.EscalationLevel == b.EscalationLevel)
	field("comments_count", a.CommentsCount, b.CommentsCount, a.CommentsCount == b.CommentsCount)
	field("version", a.Version, b.Version, a.Version == b.Version)
	field("created_at", a.CreatedAt.Format(time.RFC3339Nano), b.CreatedAt.Format(time.RFC3339Nano), a.CreatedAt.Equal(b.CreatedAt))
	field("updated_at", a.UpdatedAt.Format(time.RFC3339Nano), b.UpdatedAt.Format(time.RFC3339Nano), a.UpdatedAt.Equal(b.UpdatedAt))
	field("closed_at", deref(a.ClosedAt), deref(b.ClosedAt), sameTime(a.ClosedAt, b.ClosedAt))
	field("close_reason", deref(a.CloseReason), deref(b.CloseReason), sameString(a.CloseReason, b.CloseReason))
	return strings.Join(d, ", ")
}

// state is what the three sources hold for one ticket.
type state struct {
	workflow, postgres, cache ticket.Ticket
	cached                    bool
	comments                  []ticket.Comment
	events                    []ticket.Event
}

// read reads the ticket from the three sources, retrying each briefly: the system has settled,
// but one query may still meet a connection that the fault broke.
func (tr *Truth) read(ctx context.Context, id string) (state, error) {
	var st state
	err := retry(ctx, func(ctx context.Context) (err error) {
		st.workflow, err = tr.Workflows.Ticket(ctx, id)
		return err
	})
	if err == nil {
		err = retry(ctx, func(ctx context.Context) (err error) {
			st.postgres, err = tr.Store.Ticket(ctx, id)
			return err
		})
	}
	if err == nil {
		err = retry(ctx, func(ctx context.Context) (err error) {
			st.cache, st.cached, err = tr.Cache.Get(ctx, id)
			return err
		})
	}
	if err == nil {
		err = retry(ctx, func(ctx context.Context) (err error) {
			st.comments, err = all(ctx, id, tr.Store.ListComments)
			return err
		})
	}
	if err == nil {
		err = retry(ctx, func(ctx context.Context) (err error) {
			st.events, err = all(ctx, id, tr.Store.ListEvents)
			return err
		})
	}
	return st, err
}

func retry(ctx context.Context, f func(context.Context) error) error {
	var err error
	for range 5 {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = f(callCtx)
		cancel()
		if err == nil || ticket.ErrorCode(err) == ticket.ENOTFOUND {
			return err
		}
		time.Sleep(time.Second)
	}
	return err
}

// all reads every page of one of a ticket's listings.
func all[T any](ctx context.Context, id string,
	list func(context.Context, string, ticket.PageRequest, ticket.Visibility) (ticket.Page[T], error)) ([]T, error) {
	var items []T
	p := ticket.PageRequest{Limit: ticket.MaxPageSize}
	for {
		page, err := list(ctx, id, p, ticket.VisibilityInternal) // the truth: everything

		if err != nil {
			return nil, err
		}
		items = append(items, page.Items...)
		if page.Next == nil {
			return items, nil
		}
		p.After = page.Next
	}
}

// change is one change in a ticket's audit trail: the events that one request wrote.
type change struct {
	requestID string
	events    []ticket.Event
}

// trail is a ticket's changes in order: the one at index i made version i+1.
type trail []change

// changes groups a ticket's events into changes. A change's events share the request ID that
// the API gave the request (derived from its Idempotency-Key); the creation has none.
func changes(events []ticket.Event) trail {
	var tr trail
	for _, e := range events {
		rid, _ := e.Data["request_id"].(string)
		if n := len(tr); n > 0 && rid != "" && tr[n-1].requestID == rid && e.Type != ticket.EventCreated {
			tr[n-1].events = append(tr[n-1].events, e)
			continue
		}
		tr = append(tr, change{requestID: rid, events: []ticket.Event{e}})
	}
	return tr
}

// match finds the acknowledged changes in the trail, in order, and returns the ones it does not
// find. Matching in order rather than by position counts a missing change once, instead of
// counting every change after it as well.
func (tr trail) match(acked []*Op, bodies map[string][]ticket.Comment) map[*Op]bool {
	unmatched := map[*Op]bool{}
	next := 0
	for _, op := range acked {
		i := slices.IndexFunc(tr[next:], func(ch change) bool { return ch.made(op, bodies) })
		if i < 0 {
			unmatched[op] = true
			continue
		}
		next += i + 1
	}
	return unmatched
}

// made reports whether the change is op's: it has the events that op makes, down to the comment.
func (ch change) made(op *Op, bodies map[string][]ticket.Comment) bool {
	has := func(typ ticket.EventType, ok func(ticket.Event) bool) bool {
		return slices.ContainsFunc(ch.events, func(e ticket.Event) bool { return e.Type == typ && ok(e) })
	}
	anyOne := func(ticket.Event) bool { return true }
	switch {
	case op.Kind == KindCreate:
		return has(ticket.EventCreated, anyOne)
	case op.Target != "" && !has(ticket.EventStatusChanged, func(e ticket.Event) bool { return e.ToStatus == op.Target }):
		return false
	case op.Kind == KindEscalate && !has(ticket.EventEscalated, anyOne):
		return false
	case op.Target == "" && has(ticket.EventStatusChanged, anyOne):
		return false // a comment or an escalation changes no status
	case op.Comment != "":
		return slices.ContainsFunc(bodies[op.Comment], func(c ticket.Comment) bool {
			return has(ticket.EventCommented, func(e ticket.Event) bool { return e.Data["comment_id"] == c.ID })
		})
	}
	return !has(ticket.EventCommented, anyOne) // a change without a comment adds none
}

// repeated counts the changes whose request ID an earlier change already had: one request
// applied twice.
func (tr trail) repeated() int {
	seen, n := map[string]bool{}, 0
	for _, ch := range tr {
		if ch.requestID == "" {
			continue
		}
		if seen[ch.requestID] {
			n++
		}
		seen[ch.requestID] = true
	}
	return n
}

// Timeline returns the requests of the record in buckets of width from start: per bucket how
// many were sent, answered 2xx, 4xx, 5xx, got no answer, and were slow. It shows in the log how
// a fault looked to the clients, and how fast it went away.
func Timeline(rec *Record, start time.Time, width time.Duration) string {
	type bucket struct{ sent, ok, client, server, none, slow int }
	var buckets []bucket
	add := func(s, e time.Time, status int) {
		i := int(s.Sub(start) / width)
		if i < 0 {
			return
		}
		for len(buckets) <= i {
			buckets = append(buckets, bucket{})
		}
		b := &buckets[i]
		b.sent++
		switch {
		case status == 0:
			b.none++
		case status >= 500:
			b.server++
		case status >= 400:
			b.client++
		default:
			b.ok++
		}
		if e.Sub(s) >= slow {
			b.slow++
		}
	}
	rec.eachRequest(add)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%8s %6s %6s %6s %6s %6s %6s\n", "from", "sent", "2xx", "4xx", "5xx", "none", "slow")
	for i, b := range buckets {
		fmt.Fprintf(&sb, "%7.0fs %6d %6d %6d %6d %6d %6d\n", (time.Duration(i) * width).Seconds(), b.sent, b.ok, b.client, b.server, b.none, b.slow)
	}
	return sb.String()
}
