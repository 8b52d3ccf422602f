package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/webhook"
)

// Receiver is the suite's webhook receiver: it takes every delivery of a webhook that the suite
// subscribes for the scenario, checks its signature, and keeps, per ticket, the order in which
// the events came. After the load the checker asks it for every event of every ticket that
// PostgreSQL holds: each must have come, once per webhook-id at least, each ticket's in order.
type Receiver struct {
	srv    *http.Server
	url    string
	secret string

	mu sync.Mutex
	// down makes it answer 503 with Retry-After, as a receiver behind a load balancer in
	// maintenance does.
	down bool
	// taken holds the webhook-ids it answered 2xx; last, per ticket, the event number it took last.
	taken   map[string]bool
	last    map[string]int64
	repeats int
	errors  []string
}

// receiverRetryAfter is what a receiver that is down asks for.
const receiverRetryAfter = "2"

// StartReceiver listens on a free local port.
func StartReceiver() (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{url: "http://" + ln.Addr().String() + "/webhook", taken: map[string]bool{}, last: map[string]int64{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

// Stop stops listening.
func (r *Receiver) Stop() { r.srv.Close() }

// SetDown makes the receiver refuse deliveries (503) or take them again.
func (r *Receiver) SetDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		w.Header().Set("Retry-After", receiverRetryAfter)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	id := req.Header.Get(webhook.HeaderID)
	if err == nil {
		err = webhook.Verify(id, req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature),
			body, r.secret, time.Now(), 5*time.Minute)
	}
	var e struct {
		ID   string `json:"id"`
		Data struct {
			Ticket struct {
				ID string `json:"id"`
			} `json:"ticket"`
			Event struct {
				Seq int64 `json:"seq"`
			} `json:"event"`
		} `json:"data"`
	}
	if err == nil {
		err = json.Unmarshal(body, &e)
	}
	if err != nil || e.ID != id {
		r.errors = append(r.errors, fmt.Sprintf("webhook: a delivery (webhook-id %s) that does not verify or is not the event it names: %v", id, err))
		w.WriteHeader(http.StatusBadRequest) // which the pump retries: it says what is wrong
		return
	}
	w.WriteHeader(http.StatusNoContent)
	if r.taken[id] {
		r.repeats++ // at least once: a receiver deduplicates on webhook-id
		return
	}
	tid, seq := e.Data.Ticket.ID, e.Data.Event.Seq
	if seq <= r.last[tid] {
		r.errors = append(r.errors, fmt.Sprintf("webhook: ticket %s: event %d came after event %d", tid, seq, r.last[tid]))
	}
	r.taken[id], r.last[tid] = true, max(r.last[tid], seq)
}

// Subscribe creates the webhook of the scenario through the API, with an admin key, and keeps its
// secret to verify the deliveries; the returned func deletes it.
func (r *Receiver) Subscribe(ctx context.Context, apiURL, adminKey string) (func(context.Context) error, error) {
	body, _ := json.Marshal(map[string]any{"url": r.url, "description": "the fault suite's receiver"})
	var created struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := call(ctx, http.MethodPost, apiURL+"/api/v1/webhooks", adminKey, body, http.StatusCreated, &created); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.secret = created.Secret
	r.mu.Unlock()
	return func(ctx context.Context) error {
		return call(ctx, http.MethodDelete, apiURL+"/api/v1/webhooks/"+created.ID, adminKey, nil, http.StatusNoContent, nil)
	}, nil
}

// call makes one request of the API and decodes its answer into out, unless it is nil.
func call(ctx context.Context, method, url, key string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Check waits up to wait for every event of the record's tickets that PostgreSQL holds to have
// come, and counts into f what did not, what came out of order, and what came again.
func (r *Receiver) Check(ctx context.Context, tr *Truth, rec *Record, f *Figures, wait time.Duration) {
	var want []string
	for _, t := range rec.Tickets {
		if t.ID == "" {
			continue
		}
		events, err := all(ctx, t.ID, tr.Store.ListEvents)
		if err != nil {
			f.violate("webhook: the events of ticket %s: %v", t.ID, err)
			continue
		}
		for _, e := range events {
			want = append(want, ticket.EventID(t.ID, e.Seq))
		}
	}
	var missing []string
	for deadline := time.Now().Add(wait); ; {
		missing = missing[:0]
		r.mu.Lock()
		for _, id := range want {
			if !r.taken[id] {
				missing = append(missing, id)
			}
		}
		r.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) || sleep(ctx, 500*time.Millisecond) != nil {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f.WebhookEvents = len(want) - len(missing)
	f.WebhookMissing = len(missing)
	f.WebhookRepeats = r.repeats
	for i, id := range missing {
		if i == 10 {
			f.violate("webhook: ... and %d more events never came", len(missing)-10)
			break
		}
		f.violate("webhook: event %s never came", id)
	}
	f.WebhookBroken = len(r.errors)
	for _, e := range r.errors {
		f.violate("%s", e)
	}
}
