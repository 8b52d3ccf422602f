package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Kind is the change one operation asks for.
type Kind string

// The kinds of change the load makes: a ticket's creation and every action of the API.
const (
	KindCreate   Kind = "create"
	KindComment  Kind = "comment"
	KindAnswer   Kind = "answer"
	KindAwait    Kind = "await"
	KindClose    Kind = "close"
	KindEscalate Kind = "escalate"
)

// Op is one change that a client asked for: the same request, with the same Idempotency-Key,
// however often it was sent, and what the client was told each time.
type Op struct {
	Kind Kind
	Key  string
	Body []byte
	// Comment is the body of the comment the change adds, "" for none. Every one is unique, so
	// that the checker can count each in PostgreSQL.
	Comment string
	// Target is the status the change moves the ticket to, "" for none.
	Target ticket.Status

	Attempts []Attempt
	// Outcome is the definitive answer, a 2xx or a 4xx; nil while the client does not know.
	Outcome *Outcome
	// Replayed says the client sent the request once more after its 2xx, as a client whose
	// answer was lost on the way would; ReplayErr says how the answer to that differed from the
	// first, "" when it did not.
	Replayed  bool
	ReplayErr string
}

// Attempt is one HTTP request and what came back.
type Attempt struct {
	Start, End time.Time
	Status     int    // 0 when no HTTP answer came (a transport error)
	Err        string // the transport error, or what is wrong with the answer
	RetryAfter string
	Problem    string // the type of a problem+json answer
}

// Outcome is what a definitive answer said.
type Outcome struct {
	Status    int
	Version   int64  // the ticket's version that a 2xx reported
	TicketID  string // of a create
	CommentID string // of a comment
	// Ticket is the ticket that a 2xx of a create or a transition showed; Comment is the
	// comment that a 2xx of a comment showed. The checker holds the truth to them.
	Ticket  *httpapi.Ticket
	Comment *httpapi.Comment
	At      time.Time
	// Resolved says that the client learnt the outcome only after the load, from the checker's
	// retry with the same Idempotency-Key.
	Resolved bool
	// Err says what was wrong with a 2xx answer (a missing ETag, a status that is not the
	// target), "" when nothing was.
	Err string
}

// Acked reports whether the outcome acknowledges the change.
func (o *Outcome) Acked() bool { return o != nil && o.Status >= 200 && o.Status < 300 }

// Ticket is one ticket that the load drove, and every change asked of it, in order.
type Ticket struct {
	Index int
	ID    string // set once its creation is answered
	Ops   []*Op
	// acked is the highest version that a 2xx has reported to the client so far. A read sent
	// after that must not show an older version.
	acked atomic.Int64
	// comments is how many comments were acknowledged so far: a listing read after that must
	// hold at least as many.
	comments atomic.Int64
}

// What a read asks for: the ticket (from the cache, else PostgreSQL), or one of its listings
// (from PostgreSQL).
const (
	ReadTicket   = "ticket"
	ReadComments = "comments"
	ReadEvents   = "events"
)

// Read is one GET of a ticket or of one of its listings.
type Read struct {
	What       string
	TicketID   string
	Start, End time.Time
	Status     int
	Err        string
	RetryAfter string
	Problem    string
	// Version is the ticket's version the read showed; of a comments listing, how many comments
	// it held.
	Version int64
	// Acked is the highest version (of a comments listing: the number of comments) acknowledged
	// to a client before the read was sent.
	Acked int64
}

// Record is everything the load sent and was told.
type Record struct {
	mu      sync.Mutex
	Tickets []*Ticket
	Reads   []Read
	known   []*Ticket // created tickets, for the readers to pick from
}

// eachRequest calls fn with every request sent, change or read, attempts of a change included:
// when it was sent, when it ended, and its status (0 for no answer).
func (r *Record) eachRequest(fn func(start, end time.Time, status int)) {
	for _, t := range r.Tickets {
		for _, op := range t.Ops {
			for _, a := range op.Attempts {
				fn(a.Start, a.End, a.Status)
			}
		}
	}
	for _, rd := range r.Reads {
		fn(rd.Start, rd.End, rd.Status)
	}
}

func (r *Record) add(t *Ticket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Tickets = append(r.Tickets, t)
}

func (r *Record) created(t *Ticket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.known = append(r.known, t)
}

func (r *Record) pick(rng *rand.Rand) *Ticket {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.known) == 0 {
		return nil
	}
	// Mostly the newest tickets: they are the ones still changing.
	n := min(len(r.known), 40)
	return r.known[len(r.known)-1-rng.IntN(n)]
}

func (r *Record) read(rd Read) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Reads = append(r.Reads, rd)
}

// Load drives tickets through the API: Drivers clients, each taking one ticket at a time through
// a lifecycle, together at most Rate new changes a second; after every acknowledged change the
// client reads the ticket back, and Readers more clients read recent tickets every ReadEvery.
// A request that gets a 503, a 504 or no answer is retried with the same Idempotency-Key after
// the Retry-After the answer gave, as the API asks clients to.
type Load struct {
	URL       string
	Key       string // the API key the clients send
	Name      string // the scenario's, written into titles and comments
	Duration  time.Duration
	Drivers   int
	Rate      float64
	Readers   int
	ReadEvery time.Duration
	Seed      uint64
	Record    *Record

	client *http.Client
	tokens <-chan time.Time
	next   atomic.Int64 // the index of the next ticket
}

// clientTimeout bounds one HTTP request of the load: well past the API's own request timeout, so
// that the API's answer (a 504 at worst), not the client's patience, ends a request.
const clientTimeout = 30 * time.Second

func (l *Load) init() {
	if l.client == nil {
		l.client = &http.Client{
			Timeout: clientTimeout,
			Transport: &http.Transport{
				MaxIdleConnsPerHost: l.Drivers + l.Readers + 4,
				IdleConnTimeout:     30 * time.Second,
			},
		}
	}
}

// Run runs the load for its duration and returns once every client has stopped. A change whose
// outcome is still unknown when the time is up stays unknown in the record; Resolve learns it.
func (l *Load) Run(ctx context.Context) {
	l.init()
	stop := time.Now().Add(l.Duration)
	ticker := time.NewTicker(time.Duration(float64(time.Second) / l.Rate))
	defer ticker.Stop()
	l.tokens = ticker.C

	var wg sync.WaitGroup
	for i := range l.Drivers {
		rng := rand.New(rand.NewPCG(l.Seed, uint64(i)))
		wg.Go(func() { l.drive(ctx, rng, stop) })
	}
	for i := range l.Readers {
		rng := rand.New(rand.NewPCG(l.Seed, uint64(1000+i)))
		wg.Go(func() { l.readLoop(ctx, rng, stop) })
	}
	wg.Wait()
}

// drive takes one ticket after another through its lifecycle until the time is up.
func (l *Load) drive(ctx context.Context, rng *rand.Rand, stop time.Time) {
	for time.Now().Before(stop) && ctx.Err() == nil {
		t := &Ticket{Index: int(l.next.Add(1))}
		l.Record.add(t)
		for _, op := range l.script(rng, t) {
			select {
			case <-l.tokens:
			case <-ctx.Done():
				return
			}
			if time.Now().After(stop) {
				return
			}
			t.Ops = append(t.Ops, op)
			if !l.settle(ctx, t, op, stop, false) {
				return // unknown when the time ran out: the checker resolves it
			}
			if !op.Outcome.Acked() {
				break // refused: the ticket is not where this client thinks; the checker says why
			}
			if op.Kind == KindCreate {
				l.Record.created(t)
			}
			if rng.IntN(replayOneIn) == 0 {
				l.replay(ctx, t, op)
			}
			l.read(ctx, t, ReadTicket) // read your own write
			if op.Comment != "" {
				l.read(ctx, t, ReadComments)
			}
		}
	}
}

// replayOneIn is how rarely a client sends an acknowledged request again: one in this many.
const replayOneIn = 10

// replay sends an acknowledged op again with its Idempotency-Key and records whether the answer
// is the first one: the same status, version and comment. The change must not apply twice,
// which the checker sees in the truth. A replay that meets a fault (a 5xx, no answer) is left
// at that: its outcome is the first one's, which the client already has.
func (l *Load) replay(ctx context.Context, t *Ticket, op *Op) {
	a, body, header := l.send(ctx, http.MethodPost, path(t, op), op.Body, op.Key)
	op.Attempts = append(op.Attempts, a)
	op.Replayed = true
	if a.Status == 0 || a.Status >= 500 || a.Status == http.StatusTooManyRequests {
		return
	}
	again := outcome(op, a, body, header)
	first := op.Outcome
	if again.Status != first.Status || again.Version != first.Version || again.CommentID != first.CommentID ||
		again.TicketID != first.TicketID && op.Kind == KindCreate {
		op.ReplayErr = fmt.Sprintf("sent again with its Idempotency-Key, it got %d (version %d, comment %q, %s) instead of the first answer %d (version %d, comment %q)",
			again.Status, again.Version, again.CommentID, again.Err, first.Status, first.Version, first.CommentID)
	}
}

// script returns the changes a client asks of one ticket: its creation, then comments and every
// transition of the lifecycle, some with a comment, and an escalation. One ticket in five goes
// straight from open to closed, and one in four is closed while awaiting.
func (l *Load) script(rng *rand.Rand, t *Ticket) []*Op {
	priorities := []string{"low", "normal", "high", "urgent"}
	ops := []*Op{l.op(KindCreate, map[string]any{
		"title":     fmt.Sprintf("%s ticket %d", l.Name, t.Index),
		"priority":  priorities[rng.IntN(len(priorities))],
		"requester": "load@example.com",
	}, "", "")}
	comment := func(kind Kind, target ticket.Status, fields map[string]any, field string) {
		text := ""
		if field != "" {
			text = fmt.Sprintf("%s ticket %d change %d %s", l.Name, t.Index, len(ops), uuid.NewString())
			fields[field] = text
		}
		ops = append(ops, l.op(kind, fields, text, target))
	}
	maybe := func() string {
		if rng.IntN(2) == 0 {
			return "comment"
		}
		return ""
	}
	if rng.IntN(5) == 0 {
		comment(KindComment, "", map[string]any{"author": "load"}, "body")
		comment(KindEscalate, "", map[string]any{"reason": "load"}, "")
		comment(KindClose, ticket.StatusClosed, map[string]any{"reason": "duplicate"}, maybe())
		return ops
	}
	comment(KindComment, "", map[string]any{"author": "load"}, "body")
	comment(KindAnswer, ticket.StatusAnswered, map[string]any{}, maybe())
	comment(KindAwait, ticket.StatusAwaiting, map[string]any{}, "")
	if rng.IntN(4) == 0 {
		comment(KindClose, ticket.StatusClosed, map[string]any{"reason": "no reply"}, maybe())
		return ops
	}
	comment(KindEscalate, "", map[string]any{"reason": "load"}, "")
	comment(KindComment, "", map[string]any{"author": "customer"}, "body")
	comment(KindAnswer, ticket.StatusAnswered, map[string]any{}, "comment")
	comment(KindClose, ticket.StatusClosed, map[string]any{"reason": "resolved"}, maybe())
	return ops
}

func (l *Load) op(kind Kind, fields map[string]any, comment string, target ticket.Status) *Op {
	body, err := json.Marshal(fields)
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return &Op{Kind: kind, Key: uuid.NewString(), Body: body, Comment: comment, Target: target}
}

// path returns where op is sent for ticket t.
func path(t *Ticket, op *Op) string {
	switch op.Kind {
	case KindCreate:
		return "/api/v1/tickets"
	case KindComment:
		return "/api/v1/tickets/" + t.ID + "/comments"
	}
	return "/api/v1/tickets/" + t.ID + "/" + string(op.Kind)
}

// settle sends op until it gets a definitive answer (a 2xx or a 4xx) and reports whether it did
// before until passed. Anything else leaves the outcome unknown: the same request, with the same
// key, is sent again after the Retry-After the answer asked for.
func (l *Load) settle(ctx context.Context, t *Ticket, op *Op, until time.Time, resolving bool) bool {
	for ctx.Err() == nil {
		a, body, header := l.send(ctx, http.MethodPost, path(t, op), op.Body, op.Key)
		op.Attempts = append(op.Attempts, a)
		// 429 asks the client to slow down and changes nothing: like a 503, it is retried.
		if a.Status >= 200 && a.Status < 500 && a.Status != http.StatusTooManyRequests {
			op.Outcome = outcome(op, a, body, header)
			op.Outcome.Resolved = resolving
			if op.Outcome.Acked() {
				if op.Kind == KindCreate {
					t.ID = op.Outcome.TicketID
				}
				if v := op.Outcome.Version; v > t.acked.Load() {
					t.acked.Store(v)
				}
				if op.Comment != "" {
					t.comments.Add(1)
				}
			}
			return true
		}
		wait := 250 * time.Millisecond // no answer: the API is restarting, try again soon
		if s, err := strconv.Atoi(a.RetryAfter); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		if time.Now().Add(wait).After(until) {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return false
}

// outcome reads a definitive answer.
func outcome(op *Op, a Attempt, body []byte, header http.Header) *Outcome {
	o := &Outcome{Status: a.Status, At: a.End}
	if a.Status >= 300 {
		o.Err = a.Problem
		return o
	}
	switch op.Kind {
	case KindComment:
		var c httpapi.Comment
		if err := json.Unmarshal(body, &c); err != nil || c.ID == "" {
			o.Err = fmt.Sprintf("a comment without an id: %s", body)
		}
		o.CommentID, o.Comment = c.ID, &c
		v, err := strconv.ParseInt(strings.Trim(header.Get("ETag"), `"`), 10, 64)
		if err != nil {
			o.Err = fmt.Sprintf("the comment's answer has no ETag with the ticket's version: %q", header.Get("ETag"))
		}
		o.Version = v
	default:
		var tk httpapi.Ticket
		if err := json.Unmarshal(body, &tk); err != nil || tk.ID == "" {
			o.Err = fmt.Sprintf("an answer that is not a ticket: %s", body)
		}
		o.TicketID, o.Version, o.Ticket = tk.ID, tk.Version, &tk
		if op.Target != "" && tk.Status != op.Target {
			o.Err = fmt.Sprintf("%s answered with the ticket %s, not %s", op.Kind, tk.Status, op.Target)
		}
	}
	return o
}

// readLoop reads recent tickets until the time is up.
func (l *Load) readLoop(ctx context.Context, rng *rand.Rand, stop time.Time) {
	for time.Now().Before(stop) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(l.ReadEvery):
		}
		if t := l.Record.pick(rng); t != nil {
			l.read(ctx, t, []string{ReadTicket, ReadTicket, ReadTicket, ReadComments, ReadEvents}[rng.IntN(5)])
		}
	}
}

// read reads t, or one of its listings, and records what it showed next to what was
// acknowledged before the read was sent.
func (l *Load) read(ctx context.Context, t *Ticket, what string) {
	rd := Read{What: what, TicketID: t.ID}
	url := "/api/v1/tickets/" + t.ID
	switch what {
	case ReadTicket:
		rd.Acked = t.acked.Load()
	case ReadComments:
		rd.Acked = t.comments.Load()
		url += "/comments?limit=200"
	case ReadEvents:
		url += "/events?limit=200"
	}
	a, body, _ := l.send(ctx, http.MethodGet, url, nil, "")
	rd.Start, rd.End, rd.Status, rd.Err, rd.RetryAfter, rd.Problem = a.Start, a.End, a.Status, a.Err, a.RetryAfter, a.Problem
	if a.Status == http.StatusOK {
		var tk httpapi.Ticket
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		switch what {
		case ReadTicket:
			if err := json.Unmarshal(body, &tk); err != nil || tk.ID != t.ID {
				rd.Err = fmt.Sprintf("a read that is not the ticket: %s", body)
			}
			rd.Version = tk.Version
		default:
			if err := json.Unmarshal(body, &page); err != nil || page.Items == nil {
				rd.Err = fmt.Sprintf("a listing without items: %s", body)
			}
			rd.Version = int64(len(page.Items))
		}
	}
	l.Record.read(rd)
}

// send sends one request and returns what came back; a transport error is an Attempt with
// status 0.
func (l *Load) send(ctx context.Context, method, path string, body []byte, key string) (Attempt, []byte, http.Header) {
	a := Attempt{Start: time.Now()}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.URL+path, rd)
	if err != nil {
		a.End, a.Err = time.Now(), err.Error()
		return a, nil, nil
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	req.Header.Set("Authorization", "Bearer "+l.Key)
	res, err := l.client.Do(req)
	if err != nil {
		a.End, a.Err = time.Now(), err.Error()
		return a, nil, nil
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	a.End = time.Now()
	if err != nil {
		// The status came but the body did not: the outcome is as unknown as with no answer.
		a.Err = "reading the body: " + err.Error()
		return a, nil, nil
	}
	a.Status = res.StatusCode
	a.RetryAfter = res.Header.Get("Retry-After")
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "application/problem+json" {
		var p struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(b, &p) == nil {
			a.Problem = p.Type
		}
	}
	return a, b, res.Header
}

// WarmUp takes one ticket from creation to closed, outside the record, so that what the first
// requests on a new task queue cost (the server setting the queue up, the worker's first
// workflow tasks) is not counted against the fault.
func (l *Load) WarmUp(ctx context.Context, timeout time.Duration) error {
	l.init()
	until := time.Now().Add(timeout)
	t := &Ticket{}
	for _, op := range []*Op{
		l.op(KindCreate, map[string]any{"title": l.Name + " warm-up"}, "", ""),
		l.op(KindClose, map[string]any{"reason": "warm-up"}, "", ticket.StatusClosed),
	} {
		if !l.settle(ctx, t, op, until, false) || !op.Outcome.Acked() {
			return fmt.Errorf("warming up: %s got %+v after %d attempts", op.Kind, op.Outcome, len(op.Attempts))
		}
	}
	return nil
}

// Resolve learns the outcome of every change whose client did not learn it during the load, by
// sending it again with its Idempotency-Key until it gets a definitive answer or until passes.
// That is what the API promises a client after a 503, a 504 or no answer; a change that stays
// unknown breaks the promise. It returns how many stayed unknown.
func (l *Load) Resolve(ctx context.Context, until time.Time) int {
	l.init()
	var (
		wg      sync.WaitGroup
		unknown atomic.Int64
		sem     = make(chan struct{}, 8)
	)
	for _, t := range l.Record.Tickets {
		if len(t.Ops) == 0 || t.Ops[len(t.Ops)-1].Outcome != nil {
			continue // a client asks one change at a time: only a ticket's last can be unknown
		}
		op := t.Ops[len(t.Ops)-1]
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if !l.settle(ctx, t, op, until, true) {
				unknown.Add(1)
			}
		})
	}
	wg.Wait()
	return int(unknown.Load())
}
