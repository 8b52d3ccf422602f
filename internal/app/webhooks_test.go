package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/webhook"
)

// The system tests of webhooks, with a real HTTP receiver, on the real stack.

// receipt is one delivery as the receiver got it.
type receipt struct {
	path                     string
	status                   int // what the receiver answered
	id, timestamp, signature string
	body                     []byte
	event                    httpapi.OutEvent
	at                       time.Time
}

// receiver is a webhook receiver that answers with status (200 unless set), and Retry-After when
// set; it keeps every delivery it got.
type receiver struct {
	*httptest.Server
	mu         sync.Mutex
	got        []receipt
	status     int
	retryAfter string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{status: http.StatusOK}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rec := receipt{path: r.URL.Path, id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"),
			signature: r.Header.Get("webhook-signature"), body: body, at: time.Now()}
		if err := json.Unmarshal(body, &rec.event); err != nil {
			t.Errorf("a delivery of %s: %v", body, err)
		}
		rec.status = rc.status
		rc.got = append(rc.got, rec)
		if rc.retryAfter != "" {
			w.Header().Set("Retry-After", rc.retryAfter)
		}
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// answer sets what the receiver answers from now on.
func (rc *receiver) answer(status int, retryAfter string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status, rc.retryAfter = status, retryAfter
}

// receipts returns what it got so far.
func (rc *receiver) receipts() []receipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// waitReceipts waits until the receiver got n deliveries that pass keep, and returns them.
func (rc *receiver) waitReceipts(t *testing.T, n int, keep func(receipt) bool) []receipt {
	t.Helper()
	var kept []receipt
	waitFor(t, 30*time.Second, "the receiver to get its deliveries", func() bool {
		kept = kept[:0]
		for _, r := range rc.receipts() {
			if keep == nil || keep(r) {
				kept = append(kept, r)
			}
		}
		return len(kept) >= n
	})
	return kept
}

type webhookView struct {
	ID         string   `json:"id"`
	URL        string   `json:"url"`
	Types      []string `json:"types"`
	Secret     string   `json:"secret"`
	DisabledAt *string  `json:"disabled_at"`
}

type deliveryView struct {
	ID       string `json:"id"`
	EventID  string `json:"event_id"`
	Status   string `json:"status"`
	Attempts []struct {
		ResponseStatus *int `json:"response_status"`
	} `json:"attempts"`
}

// startWebhooks starts a system whose worker runs the webhook pump, with an admin client.
func startWebhooks(t *testing.T) (s, admin *system) {
	t.Helper()
	s = startSystem(t)
	if err := s.deps.EnsureWebhookPump(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, s.as(s.newKey(t, "admin-"+word(), auth.RoleAdmin, ""))
}

func (s *system) createWebhook(t *testing.T, url string, types ...string) webhookView {
	t.Helper()
	var w webhookView
	body := map[string]any{"url": url, "description": "the test's receiver"}
	if len(types) > 0 {
		body["types"] = types
	}
	s.do(t, "POST", "/api/v1/webhooks", body).expect(t, http.StatusCreated, &w)
	if !strings.HasPrefix(w.Secret, "whsec_") {
		t.Fatalf("the webhook's secret is %q", w.Secret)
	}
	return w
}

func verify(t *testing.T, r receipt, secret string) error {
	t.Helper()
	return webhook.Verify(r.id, r.timestamp, r.signature, r.body, secret, time.Now(), 5*time.Minute)
}

// TestWebhooks: every event of a ticket reaches the receiver, in order, signed so that the
// Standard Webhooks algorithm verifies it, with the feed's event and its id as webhook-id; the
// delivery log shows them; a redelivery sends one again with the same webhook-id; during a
// secret's rotation the deliveries carry both signatures; only admins manage webhooks.
func TestWebhooks(t *testing.T) {
	s, admin := startWebhooks(t)
	rc := newReceiver(t)
	wh := admin.createWebhook(t, rc.URL+"/hook")
	only := admin.createWebhook(t, rc.URL+"/closings", "ticket.status_changed")

	tk := s.create(t, "Printer on fire "+word())
	s.comment(t, tk.ID, "The toner is from the bad batch", ticket.VisibilityInternal)
	s.act(t, tk.ID, ticket.ActionAnswer, map[string]string{"comment": "Replaced the toner"}).expect(t, http.StatusOK, nil)
	s.act(t, tk.ID, ticket.ActionClose, nil).expect(t, http.StatusOK, nil)
	feed, _ := s.readFeed(t, url.Values{"ticket": {tk.ID}})
	if len(feed) != 5 {
		t.Fatalf("the feed holds %d events", len(feed))
	}

	of := func(path string) func(receipt) bool {
		return func(r receipt) bool { return r.path == path && r.event.Data.Ticket.ID == tk.ID }
	}
	toHook := rc.waitReceipts(t, len(feed), of("/hook"))
	toClosings := rc.waitReceipts(t, 2, of("/closings"))
	for _, r := range toHook {
		if err := verify(t, r, wh.Secret); err != nil {
			t.Errorf("a delivery of %s does not verify: %v", r.event.Type, err)
		}
	}
	for _, r := range toClosings {
		if err := verify(t, r, only.Secret); err != nil {
			t.Errorf("a delivery of %s to the other webhook does not verify with its secret: %v", r.event.Type, err)
		}
	}
	if len(toHook) != len(feed) {
		t.Fatalf("the webhook got %d deliveries, want %d", len(toHook), len(feed))
	}
	for i, r := range toHook {
		if r.id != feed[i].ID || r.event.ID != feed[i].ID || r.event.Cursor != feed[i].Cursor || r.event.Type != feed[i].Type {
			t.Errorf("delivery %d: webhook-id %s, event %s %s; the feed has %s %s", i, r.id, r.event.ID, r.event.Type, feed[i].ID, feed[i].Type)
		}
	}
	if got := each(toClosings, func(r receipt) string { return r.event.Type }); !slices.Equal(got, []string{"ticket.status_changed", "ticket.status_changed"}) {
		t.Errorf("the status webhook got %q", got)
	}
	if c := toHook[1].event.Data.Comment; c == nil || c.Visibility != ticket.VisibilityInternal {
		t.Errorf("the note's delivery has comment %+v", c)
	}

	// The delivery log.
	deliveries := listPages[deliveryView](t, admin, "/api/v1/webhooks/"+wh.ID+"/deliveries", 2, nil)
	if len(deliveries) != len(feed) {
		t.Fatalf("the log holds %d deliveries", len(deliveries))
	}
	for i, d := range deliveries {
		want := feed[len(feed)-1-i] // newest first
		if d.EventID != want.ID || d.Status != "succeeded" || len(d.Attempts) != 1 || d.Attempts[0].ResponseStatus == nil || *d.Attempts[0].ResponseStatus != 200 {
			t.Errorf("delivery %d: %+v, want %s succeeded at the first attempt", i, d, want.ID)
		}
	}

	// Redelivery: the same webhook-id again.
	before := len(rc.receipts())
	var again deliveryView
	admin.do(t, "POST", "/api/v1/webhooks/"+wh.ID+"/deliveries/"+deliveries[2].ID+"/redeliver", nil).expect(t, http.StatusAccepted, &again)
	if again.Status != "pending" {
		t.Errorf("a redelivery is %s", again.Status)
	}
	redelivered := rc.waitReceipts(t, before+1, nil)[before]
	if redelivered.id != deliveries[2].EventID || verify(t, redelivered, wh.Secret) != nil {
		t.Errorf("the redelivery has webhook-id %s, want %s", redelivered.id, deliveries[2].EventID)
	}

	// Rotation: both signatures while the old secret overlaps.
	var rotated webhookView
	admin.do(t, "POST", "/api/v1/webhooks/"+wh.ID+"/rotate-secret", nil).expect(t, http.StatusOK, &rotated)
	if rotated.Secret == wh.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatalf("rotated to %q", rotated.Secret)
	}
	next := s.create(t, "After the rotation "+word())
	r := rc.waitReceipts(t, 1, func(r receipt) bool { return r.path == "/hook" && r.event.Data.Ticket.ID == next.ID })[0]
	if n := len(strings.Fields(r.signature)); n != 2 {
		t.Errorf("during the rotation a delivery has %d signatures: %s", n, r.signature)
	}
	if verify(t, r, wh.Secret) != nil || verify(t, r, rotated.Secret) != nil {
		t.Errorf("during the rotation a delivery verifies with the old secret: %v, the new: %v", verify(t, r, wh.Secret), verify(t, r, rotated.Secret))
	}

	// Only admins.
	for _, key := range []auth.Role{auth.RoleAgent, auth.RoleAutomation, auth.RoleCustomer} {
		c := s.as(s.newKey(t, string(key)+"-"+word(), key, "someone@example.com"))
		c.do(t, "GET", "/api/v1/webhooks", nil).expectProblem(t, http.StatusForbidden, "/problems/forbidden")
		c.do(t, "POST", "/api/v1/webhooks", map[string]any{"url": rc.URL}).expectProblem(t, http.StatusForbidden, "/problems/forbidden")
	}
	// Bad input.
	for _, body := range []map[string]any{{"url": "ftp://example.com"}, {"url": ""}, {"url": rc.URL, "types": []string{"ticket.exploded"}}, {}} {
		admin.do(t, "POST", "/api/v1/webhooks", body).expectProblem(t, http.StatusUnprocessableEntity, "/problems/validation")
	}
	admin.do(t, "GET", "/api/v1/webhooks/"+uuid.NewString(), nil).expectProblem(t, http.StatusNotFound, "/problems/not-found")
}

// TestWebhookFailures: a receiver that is down for a while, then back, gets every event once per
// webhook-id, each ticket's in order, with the Retry-After it asked for respected; a receiver that
// answers 410 disables its webhook; a disabled webhook gets nothing until it is enabled, then
// everything it missed; a URL of a private address is refused unless allowed.
func TestWebhookFailures(t *testing.T) {
	s, admin := startWebhooks(t)
	rc := newReceiver(t)
	wh := admin.createWebhook(t, rc.URL+"/hook")

	// Down: 503 with Retry-After 1 s, under changes to three tickets.
	rc.answer(http.StatusServiceUnavailable, "1")
	for i := range 3 {
		tk := s.create(t, "Down "+word())
		s.comment(t, tk.ID, "one", ticket.VisibilityPublic)
		if i == 0 {
			s.act(t, tk.ID, ticket.ActionAnswer, nil).expect(t, http.StatusOK, nil)
		}
	}
	rc.waitReceipts(t, 6, nil) // a few refused attempts
	time.Sleep(1500 * time.Millisecond)
	rc.answer(http.StatusOK, "")
	feed, _ := s.readFeed(t, url.Values{})
	byID := map[string]httpapi.OutEvent{}
	for _, e := range feed {
		byID[e.ID] = e
	}
	waitFor(t, 30*time.Second, "every event to be taken", func() bool {
		taken := map[string]bool{}
		for _, r := range rc.receipts() {
			if r.path == "/hook" && r.status == http.StatusOK {
				taken[r.id] = true
			}
		}
		return len(taken) == len(feed)
	})
	got := rc.receipts()
	// Per ticket: in order; a retry comes no sooner than the Retry-After.
	lastTaken := map[string]int64{}
	lastTry := map[string]time.Time{}
	for _, r := range got {
		e, ok := byID[r.id]
		if !ok {
			t.Fatalf("a delivery of an event the feed does not have: %s", r.id)
		}
		tid := e.Data.Ticket.ID
		if seq := e.Data.Event.Seq; seq < lastTaken[tid] || (seq == lastTaken[tid] && r.status == http.StatusOK) {
			t.Errorf("ticket %s: event %d delivered after event %d was taken", tid, seq, lastTaken[tid])
		}
		if prev, ok := lastTry[r.id]; ok && r.at.Sub(prev) < 900*time.Millisecond {
			t.Errorf("event %s tried again after %v, within its Retry-After of 1 s", r.id, r.at.Sub(prev))
		}
		lastTry[r.id] = r.at
		if r.status == http.StatusOK {
			lastTaken[tid] = e.Data.Event.Seq
		}
	}
	log := listPages[deliveryView](t, admin, "/api/v1/webhooks/"+wh.ID+"/deliveries", 50, nil)
	for _, d := range log {
		if d.Status != "succeeded" || len(d.Attempts) < 1 {
			t.Errorf("delivery %s: %s after %d attempts", d.EventID, d.Status, len(d.Attempts))
		}
	}

	// Disabled: nothing; enabled: what it missed, in order.
	var disabled webhookView
	admin.do(t, "POST", "/api/v1/webhooks/"+wh.ID+"/disable", nil).expect(t, http.StatusOK, &disabled)
	if disabled.DisabledAt == nil {
		t.Fatal("disabled, disabled_at is null")
	}
	quiet := s.create(t, "While disabled "+word())
	time.Sleep(1500 * time.Millisecond)
	for _, r := range rc.receipts() {
		if r.event.Data.Ticket.ID == quiet.ID {
			t.Fatalf("a disabled webhook got %s", r.event.Type)
		}
	}
	admin.do(t, "POST", "/api/v1/webhooks/"+wh.ID+"/enable", nil).expect(t, http.StatusOK, nil)
	rc.waitReceipts(t, 1, func(r receipt) bool { return r.event.Data.Ticket.ID == quiet.ID })

	// 410 disables.
	rc.answer(http.StatusGone, "")
	gone := s.create(t, "Gone "+word())
	rc.waitReceipts(t, 1, func(r receipt) bool { return r.event.Data.Ticket.ID == gone.ID })
	waitFor(t, 10*time.Second, "the webhook to be disabled", func() bool {
		var w webhookView
		admin.do(t, "GET", "/api/v1/webhooks/"+wh.ID, nil).expect(t, http.StatusOK, &w)
		return w.DisabledAt != nil
	})
	s.act(t, gone.ID, ticket.ActionClose, nil).expect(t, http.StatusOK, nil)
	time.Sleep(1500 * time.Millisecond)
	if n := len(rc.waitReceipts(t, 1, func(r receipt) bool { return r.event.Data.Ticket.ID == gone.ID })); n != 1 {
		t.Errorf("after its 410 the webhook got %d deliveries", n)
	}
	admin.do(t, "DELETE", "/api/v1/webhooks/"+wh.ID, nil).expect(t, http.StatusNoContent, nil)
	admin.do(t, "GET", "/api/v1/webhooks/"+wh.ID, nil).expectProblem(t, http.StatusNotFound, "/problems/not-found")

	// Private addresses, refused where they are not allowed.
	cfg := testConfig(t)
	cfg.WebhookAllowPrivate = false
	strict := startSystem(t, withConfig(cfg), withoutWorker())
	strictAdmin := strict.as(strict.newKey(t, "admin-"+word(), auth.RoleAdmin, ""))
	for _, u := range []string{rc.URL + "/hook", "http://localhost:8080/x", "http://169.254.169.254/latest"} {
		p := strictAdmin.do(t, "POST", "/api/v1/webhooks", map[string]any{"url": u}).expectProblem(t, http.StatusUnprocessableEntity, "/problems/validation")
		if !strings.Contains(p.Detail, "private") {
			t.Errorf("%s refused with %q", u, p.Detail)
		}
	}
}
