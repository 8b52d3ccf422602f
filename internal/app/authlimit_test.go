package app_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// guesses numbers the bad keys, so that each is one the server has not seen.
var guesses atomic.Int64

// floodBadKeys sends n unknown keys from the client (with its extra headers) and returns how
// many were answered 401 and 429; it checks each 429 as a client would: problem+json of type
// rate-limited with a Retry-After in whole seconds (and every response against the OpenAPI
// document, as every request of these tests).
func floodBadKeys(t *testing.T, s *system, n int, header ...string) (unauthorized, limited int) {
	t.Helper()
	for i := range n {
		r := s.as(fmt.Sprintf("tfk_guess_%d", guesses.Add(1))).do(t, "GET", "/api/v1/tickets", nil, header...)
		switch r.status {
		case http.StatusUnauthorized:
			r.expectProblem(t, http.StatusUnauthorized, "/problems/unauthorized")
			unauthorized++
		case http.StatusTooManyRequests:
			p := r.expectProblem(t, http.StatusTooManyRequests, "/problems/rate-limited")
			if !strings.Contains(p.Detail, "failed authentications") {
				t.Errorf("429 detail %q does not say why", p.Detail)
			}
			if wait, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || wait < 1 {
				t.Errorf("Retry-After %q, want whole seconds", r.header.Get("Retry-After"))
			}
			limited++
		default:
			t.Fatalf("bad key %d: status %d, want 401 or 429; body %s", i, r.status, r.body)
		}
	}
	return unauthorized, limited
}

// TestAuthFailureLimit floods the API with unknown keys from one client: past the failure budget
// they are 429 with Retry-After, without asking the database; X-Forwarded-For from a client that
// is no trusted proxy changes nothing; and the client's valid agent key, used before, still works.
func TestAuthFailureLimit(t *testing.T) {
	const burst, flood = 5, 100
	cfg := testConfig(t)
	cfg.AuthFailureRate, cfg.AuthFailureBurst = 0.01, burst // no refill to speak of during the test
	s := startSystem(t, withConfig(cfg))
	s.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, nil)

	unauthorized, limited := floodBadKeys(t, s, flood)
	if unauthorized != burst || limited != flood-burst {
		t.Errorf("%d bad keys: %d answered 401 and %d 429, want %d and %d", flood, unauthorized, limited, burst, flood-burst)
	}
	if _, limited := floodBadKeys(t, s, 3, "X-Forwarded-For", "203.0.113.9"); limited != 3 {
		t.Errorf("X-Forwarded-For from an untrusted peer let %d of 3 bad keys past the spent budget", 3-limited)
	}

	// The agent key checked before is let in from the flooded client, for reads and changes.
	s.do(t, "GET", "/api/v1/tickets", nil).expect(t, http.StatusOK, nil)
	tk := s.create(t, "works during a flood")
	s.act(t, tk.ID, ticket.ActionAnswer, nil).expect(t, http.StatusOK, nil)
}

// TestAuthFailureLimitBehindProxy puts the API behind a trusted proxy (the test itself, on the
// loopback): each client named in X-Forwarded-For has a failure budget of its own.
func TestAuthFailureLimitBehindProxy(t *testing.T) {
	const burst = 3
	cfg := testConfig(t)
	cfg.AuthFailureRate, cfg.AuthFailureBurst = 0.01, burst
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	s := startSystem(t, withConfig(cfg))

	if unauthorized, _ := floodBadKeys(t, s, 10, "X-Forwarded-For", "203.0.113.9"); unauthorized != burst {
		t.Errorf("client 203.0.113.9: %d bad keys answered 401, want %d", unauthorized, burst)
	}
	// What a client writes left of the address the proxy added does not get it a new budget.
	if _, limited := floodBadKeys(t, s, 1, "X-Forwarded-For", "198.51.100.1, 203.0.113.9"); limited != 1 {
		t.Error("a forged X-Forwarded-For entry got the client a new budget")
	}
	if unauthorized, _ := floodBadKeys(t, s, 1, "X-Forwarded-For", "203.0.113.10"); unauthorized != 1 {
		t.Error("another client behind the proxy shares the first one's budget")
	}
	// A valid key never checked before, from another client behind the proxy, gets in.
	s.do(t, "GET", "/api/v1/tickets", nil, "X-Forwarded-For", "203.0.113.11").expect(t, http.StatusOK, nil)
}
