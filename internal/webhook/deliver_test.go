package webhook_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/webhook"
)

// TestDeliver delivers to real receivers: the headers verify as a receiver verifies them, a
// redirect is not followed, Retry-After is read on 429 and 503, and a private address is refused
// unless allowed, at the dial as well as when the URL is checked.
func TestDeliver(t *testing.T) {
	secret := webhook.NewSecret()
	key, _ := webhook.Key(secret)
	var got *http.Request
	var gotBody []byte
	followed := false
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		got, gotBody = r, must(io.ReadAll(r.Body))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/slow-down", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" && got != nil {
			followed = true
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	c := webhook.NewClient(true)
	body := []byte(`{"id":"e1"}`)
	now := time.Now()
	a := c.Deliver(t.Context(), srv.URL+"/ok", "e1", body, [][]byte{key}, now)
	if !a.Succeeded() || a.Status != http.StatusNoContent || a.Error != "" {
		t.Fatalf("delivery: %+v", a)
	}
	if err := webhook.Verify(got.Header.Get("webhook-id"), got.Header.Get("webhook-timestamp"),
		got.Header.Get("webhook-signature"), gotBody, secret, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("the receiver cannot verify it: %v", err)
	}
	if got.Header.Get("webhook-id") != "e1" || got.Header.Get("Content-Type") != "application/json" || string(gotBody) != string(body) {
		t.Errorf("received %v %s", got.Header, gotBody)
	}

	if a := c.Deliver(t.Context(), srv.URL+"/redirect", "e1", body, [][]byte{key}, now); a.Succeeded() || a.Status != http.StatusFound || followed {
		t.Errorf("a redirect: %+v, followed %v", a, followed)
	}
	if a := c.Deliver(t.Context(), srv.URL+"/busy", "e1", body, [][]byte{key}, now); a.Status != 503 || a.RetryAfter != 7*time.Second {
		t.Errorf("503 with Retry-After 7: %+v", a)
	}
	if a := c.Deliver(t.Context(), srv.URL+"/slow-down", "e1", body, [][]byte{key}, now); a.Status != 429 || a.RetryAfter < 80*time.Second || a.RetryAfter > 100*time.Second {
		t.Errorf("429 with a Retry-After date: %+v", a)
	}
	if a := c.Deliver(t.Context(), srv.URL+"/gone", "e1", body, [][]byte{key}, now); !a.Gone() || a.Succeeded() {
		t.Errorf("410: %+v", a)
	}

	// Private addresses.
	guarded := webhook.NewClient(false)
	if a := guarded.Deliver(t.Context(), srv.URL+"/ok", "e1", body, [][]byte{key}, now); a.Status != 0 || !strings.Contains(a.Error, webhook.ErrPrivate.Error()) {
		t.Errorf("a delivery to %s: %+v, want refused at the dial", srv.URL, a)
	}
	for _, u := range []string{srv.URL + "/ok", "http://localhost:9/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/latest/meta-data"} {
		if err := guarded.CheckURL(t.Context(), u); !errors.Is(err, webhook.ErrPrivate) {
			t.Errorf("%s: %v, want refused as private", u, err)
		}
		if err := c.CheckURL(t.Context(), u); err != nil {
			t.Errorf("%s, private addresses allowed: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://example.com/x", "/relative", "http://user:pw@example.com/x", "http:///x", "http://example.com/x#frag", "not a url"} {
		if err := c.CheckURL(t.Context(), u); err == nil {
			t.Errorf("%s is taken", u)
		}
	}
}

func TestPrivate(t *testing.T) {
	for addr, private := range map[string]bool{
		"127.0.0.1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "0.0.0.0": true, "::1": true, "fe80::1": true, "fc00::1": true, "::ffff:127.0.0.1": true,
		"64:ff9b::a00:1": true, "224.0.0.1": true,
		"93.184.216.34": false, "8.8.8.8": false, "2606:4700:4700::1111": false,
	} {
		if got := webhook.Private(netip.MustParseAddr(addr)); got != private {
			t.Errorf("%s: private %v, want %v", addr, got, private)
		}
	}
}

func TestNextAttempt(t *testing.T) {
	from := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	// Each attempt made on time: the next is the schedule's, plus up to a tenth of its wait.
	due := from
	for n, wait := range webhook.Schedule[1:] {
		at := due.Add(time.Duration(n) * time.Millisecond) // attempts take a moment
		next, ok := webhook.NextAttempt(from, at, 0)
		if !ok || next.Before(due.Add(wait)) || next.After(due.Add(wait+wait/10)) {
			t.Errorf("after attempt %d at %v: %v (%v), want %v plus up to a tenth", n+1, at.Sub(from), next.Sub(from), ok, due.Add(wait).Sub(from))
		}
		due = due.Add(wait)
	}
	if _, ok := webhook.NextAttempt(from, due, 0); ok {
		t.Error("an attempt after the last")
	}
	// Retry-After: as told, and as often as told, without using the schedule up.
	at := from
	for range 100 {
		next, ok := webhook.NextAttempt(from, at, 2*time.Second)
		if !ok || next != at.Add(2*time.Second) {
			t.Fatalf("with Retry-After 2 s at %v: %v (%v)", at.Sub(from), next.Sub(at), ok)
		}
		at = next
	}
	if next, _ := webhook.NextAttempt(from, from.Add(time.Hour), 1000*time.Hour); next != from.Add(25*time.Hour) {
		t.Errorf("with Retry-After 1000 h: %v, want a day at most", next.Sub(from))
	}
	if _, ok := webhook.NextAttempt(from, due, time.Second); ok {
		t.Error("Retry-After after the last attempt")
	}
	// A receiver that went on failing without Retry-After, after asking for many retries: the
	// schedule's next attempt, not the end of it.
	if next, ok := webhook.NextAttempt(from, from.Add(3*time.Minute), 0); !ok || next.Before(from.Add(5*time.Second+5*time.Minute)) {
		t.Errorf("after many Retry-After retries: %v (%v)", next.Sub(from), ok)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
