package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// outEvent is what the bench reads of an event out: which it is and when its change was made.
type outEvent struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// latencies collects, from any goroutine, how long after their changes events arrived.
type latencies struct {
	mu      sync.Mutex
	samples []time.Duration
	seen    map[string]bool // event IDs, for a receiver that counts each once
}

func (l *latencies) add(e outEvent, at time.Time, once bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if once {
		if l.seen[e.ID] {
			return
		}
		l.seen[e.ID] = true
	}
	l.samples = append(l.samples, at.Sub(e.CreatedAt))
}

func (l *latencies) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.samples)
}

func (l *latencies) result(name string, concurrency int) Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := slices.Clone(l.samples)
	slices.Sort(s)
	return Result{Name: name, Concurrency: concurrency, Ops: len(s), P50: percentile(s, 0.5), P99: percentile(s, 0.99)}
}

// eventsOut measures how long after a change its event reaches a webhook's receiver and each of
// StreamClients event streams, under a load of transitions: from the event's time (when the
// workflow applied the change) to its arrival. The receiver and the streams' clients run in this
// process, as the rest of the bench does.
func (b *bench) eventsOut(ctx context.Context) error {
	webhooks := &latencies{seen: map[string]bool{}}
	streams := &latencies{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e outEvent
		err := json.NewDecoder(r.Body).Decode(&e)
		at := time.Now()
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		webhooks.add(e, at, true)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	wh, err := b.deps.Store.CreateWebhook(ctx, receiver.URL, nil, "make bench")
	if err != nil {
		return err
	}
	defer b.deps.Store.DeleteWebhook(context.WithoutCancel(ctx), wh.ID)
	if err := b.deps.EnsureWebhookPump(ctx); err != nil {
		return err
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var open sync.WaitGroup
	var readers sync.WaitGroup
	errs := make(chan error, b.set.StreamClients)
	for range b.set.StreamClients {
		open.Add(1)
		readers.Go(func() {
			if err := b.follow(sctx, streams, open.Done); err != nil && sctx.Err() == nil {
				errs <- err
			}
		})
	}
	open.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}

	c := b.set.Concurrency
	n := c * ticketsPerClient
	tickets := b.tickets[:n]
	// Each ticket goes on from the status the phases before left it in.
	answered := make([]bool, n)
	for j, id := range tickets {
		t, err := b.deps.Store.Ticket(ctx, id)
		if err != nil {
			return err
		}
		answered[j] = t.Status == ticket.StatusAnswered
	}
	turn := make([]int, c)
	before := webhooks.len()
	var (
		samples []time.Duration
		elapsed time.Duration
	)
	// A phase of its own, so that the report says what the machine spent per transition with the
	// events going out, beside the transition phase's figures.
	err = b.phase("event-transition", func() (err error) {
		samples, elapsed, err = run(ctx, c, b.set.EventTransitions, func(ctx context.Context, w, _ int) error {
			j := w*ticketsPerClient + turn[w]%ticketsPerClient
			turn[w]++
			action := "answer"
			if answered[j] {
				action = "await"
			}
			answered[j] = !answered[j]
			return b.post(ctx, "/tickets/"+tickets[j]+"/"+action, http.StatusOK)
		})
		return err
	})
	if err != nil {
		return err
	}
	b.report.EventTransition = Result{Name: "event-transition", Concurrency: c, Ops: len(samples), Elapsed: elapsed,
		P50: percentile(samples, 0.5), P99: percentile(samples, 0.99)}
	// Every change's event reaches the receiver and every stream, or the figures would leave out
	// the slowest.
	want := before + b.set.EventTransitions
	for deadline := time.Now().Add(time.Minute); webhooks.len() < want || streams.len() < want*b.set.StreamClients; {
		if time.Now().After(deadline) {
			return fmt.Errorf("events out: after a minute the receiver has %d of %d events, the streams %d of %d",
				webhooks.len(), want, streams.len(), want*b.set.StreamClients)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	readers.Wait()
	b.report.WebhookDelivery = webhooks.result("webhook-delivery", 1)
	b.report.StreamDelivery = streams.result("stream-delivery", b.set.StreamClients)
	return nil
}

// follow reads the event stream until ctx is done, adding each event's latency; opened is called
// once the stream is open.
func (b *bench) follow(ctx context.Context, into *latencies, opened func()) error {
	once := sync.OnceFunc(opened)
	defer once()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.api+"/events/stream", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", b.authorization)
	res, err := b.streamHTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		return fmt.Errorf("events stream: %d %s", res.StatusCode, body)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			once()
		case strings.HasPrefix(line, "data: "):
			at := time.Now()
			e, err := eventHead(line[len("data: "):])
			if err != nil {
				return fmt.Errorf("events stream: %w", err)
			}
			into.add(e, at, false)
		}
	}
	return sc.Err()
}

// eventHead reads an event's id and created_at from its JSON, stopping once it has them: the API
// writes them first, before the ticket and the comment, and the bench's clients, which share the
// machine with what they measure, need no more.
func eventHead(data string) (outEvent, error) {
	var e outEvent
	dec := json.NewDecoder(strings.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return e, fmt.Errorf("an event is not a JSON object: %.40q", data)
	}
	for dec.More() && (e.ID == "" || e.CreatedAt.IsZero()) {
		key, err := dec.Token()
		if err != nil {
			return e, err
		}
		switch key {
		case "id":
			err = dec.Decode(&e.ID)
		case "created_at":
			err = dec.Decode(&e.CreatedAt)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return e, err
		}
	}
	if e.ID == "" || e.CreatedAt.IsZero() {
		return e, fmt.Errorf("an event without id or created_at: %.40q", data)
	}
	return e, nil
}
