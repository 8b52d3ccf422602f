package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/service"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// flakyKeys is a key store that holds one key and can be taken down.
type flakyKeys struct {
	service.Keys
	key   auth.Key
	hash  string
	down  bool
	calls int
}

func (f *flakyKeys) KeyByHash(_ context.Context, hash []byte) (auth.Key, error) {
	f.calls++
	if f.down {
		return auth.Key{}, errors.New("dial tcp: connection refused")
	}
	if string(hash) != f.hash {
		return auth.Key{}, ticket.Errorf(ticket.ENOTFOUND, "no such key")
	}
	return f.key, nil
}

// TestKeysTrustedWhileStoreIsDown checks what an API key is worth while the key store cannot be
// read: a key checked within keyStaleTTL still lets its client in (so that cached reads go on
// during a PostgreSQL outage), one checked longer ago or never gets a 503, and an unknown key is
// refused as soon as the store answers again.
func TestKeysTrustedWhileStoreIsDown(t *testing.T) {
	const secret = "tf_secret"
	keys := &flakyKeys{key: auth.Key{ID: "k1", Name: "agent-1", Role: auth.RoleAgent}, hash: string(auth.Hash(secret))}
	a := newAuthenticator(keys, Options{RateLimit: 100, RateBurst: 100})
	ctx := context.Background()
	client := netip.MustParseAddr("192.0.2.1")

	if p, err := a.principal(ctx, client, secret); err != nil || p.Name != "agent-1" {
		t.Fatalf("principal with the store up = (%+v, %v), want agent-1", p, err)
	}
	keys.down = true
	age := func(d time.Duration) {
		h := string(auth.Hash(secret))
		k := a.known[h]
		k.checked = time.Now().Add(-d)
		a.known[h] = k
	}

	age(keyCacheTTL + time.Second) // due for a check, which fails
	before := keys.calls
	if p, err := a.principal(ctx, client, secret); err != nil || p.Name != "agent-1" {
		t.Errorf("principal of a key checked %v ago, store down = (%+v, %v), want agent-1", keyCacheTTL, p, err)
	}
	if keys.calls != before+1 {
		t.Errorf("the store was asked %d times, want once: a key past keyCacheTTL is checked again", keys.calls-before)
	}

	age(keyStaleTTL + time.Second)
	if _, err := a.principal(ctx, client, secret); ticket.ErrorCode(err) != ticket.EUNAVAILABLE {
		t.Errorf("principal of a key checked %v ago, store down: %v, want EUNAVAILABLE", keyStaleTTL, err)
	}
	if _, err := a.principal(ctx, client, "tf_never_seen"); ticket.ErrorCode(err) != ticket.EUNAVAILABLE {
		t.Errorf("principal of a key never checked, store down: %v, want EUNAVAILABLE", err)
	}

	keys.down = false
	if _, err := a.principal(ctx, client, "tf_never_seen"); errorCode(err) != codeUnauthorized {
		t.Errorf("principal of an unknown key, store up: %v, want %s", err, codeUnauthorized)
	}
}

// countingKeys is a key store that counts its lookups.
type countingKeys struct {
	service.Keys
	mu      sync.Mutex
	keys    map[string]auth.Key // by the secret's hash
	lookups int
}

func newCountingKeys() *countingKeys { return &countingKeys{keys: map[string]auth.Key{}} }

func (c *countingKeys) add(secret string, k auth.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys[string(auth.Hash(secret))] = k
}

func (c *countingKeys) KeyByHash(_ context.Context, hash []byte) (auth.Key, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
	k, ok := c.keys[string(hash)]
	if !ok {
		return auth.Key{}, ticket.Errorf(ticket.ENOTFOUND, "no such key")
	}
	return k, nil
}

func (c *countingKeys) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups
}

// authServer is just enough of a Server to run authenticate in front of a handler that answers 200.
func authServer(keys service.Keys, o Options) (*Server, http.Handler) {
	s := &Server{log: slog.New(slog.DiscardHandler), auth: newAuthenticator(keys, o)}
	return s, s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
}

// send makes a request with the secret from the peer address, with X-Forwarded-For headers if any.
func send(h http.Handler, peer, secret string, xff ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/api/v1/tickets", nil)
	r.RemoteAddr = peer
	r.Header.Set("Authorization", "Bearer "+secret)
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// expectTooManyFailures fails the test unless w is the 429 of a spent failure budget.
func expectTooManyFailures(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429; body %s", w.Code, w.Body)
	}
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q, want whole seconds", w.Header().Get("Retry-After"))
	}
	var p Problem
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Type != "/problems/rate-limited" ||
		!strings.Contains(p.Detail, "failed authentications from this address") {
		t.Errorf("problem %s (%v), want /problems/rate-limited naming failed authentications", w.Body, err)
	}
}

// TestFailedAuthenticationsAreLimited floods the authenticator with bad keys from one address:
// at most the budget of them reach the key store, the rest are 429 with Retry-After, the same
// bad key is not looked up twice, a valid key checked before still gets in from that address, and
// other addresses are not affected. X-Forwarded-For does not let a client out of its budget.
func TestFailedAuthenticationsAreLimited(t *testing.T) {
	const burst, flood = 20, 1000
	keys := newCountingKeys()
	keys.add("tfk_valid", auth.Key{ID: "k1", Name: "agent-1", Role: auth.RoleAgent})
	keys.add("tfk_valid_too", auth.Key{ID: "k2", Name: "agent-2", Role: auth.RoleAgent})
	s, h := authServer(keys, Options{RateLimit: 100000, RateBurst: 100000, AuthFailureRate: 1, AuthFailureBurst: burst})
	const attacker, bystander = "192.0.2.1:40000", "198.51.100.7:40000"

	if w := send(h, attacker, "tfk_valid"); w.Code != http.StatusOK {
		t.Fatalf("a valid key: %d %s", w.Code, w.Body)
	}
	start, before := time.Now(), keys.count()
	var unauthorized, limited int
	for i := range flood {
		w := send(h, attacker, fmt.Sprintf("tfk_guess_%d", i))
		switch w.Code {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests:
			if limited == 0 {
				expectTooManyFailures(t, w)
			}
			limited++
		default:
			t.Fatalf("guess %d: status %d %s", i, w.Code, w.Body)
		}
	}
	// The budget refills at one a second while the flood runs.
	allowed := burst + int(time.Since(start).Seconds()) + 1
	if lookups := keys.count() - before; lookups > allowed || unauthorized > allowed || limited < flood-allowed {
		t.Errorf("%d bad keys made %d lookups (%d answered 401, %d 429), want at most %d", flood, lookups, unauthorized, limited, allowed)
	}

	before = keys.count()
	expectTooManyFailures(t, send(h, attacker, "tfk_guess_0"))
	// A client cannot name itself another address: the peer is no trusted proxy.
	expectTooManyFailures(t, send(h, attacker, "tfk_guess_x", "203.0.113.9"))
	// The price of the limit: a valid key never seen before cannot be told from a guess without
	// a lookup, so from a flooded address it waits too.
	expectTooManyFailures(t, send(h, attacker, "tfk_valid_too"))
	if w := send(h, attacker, "tfk_valid"); w.Code != http.StatusOK {
		t.Errorf("a valid key checked before, from the flooded address: %d %s, want 200", w.Code, w.Body)
	}
	if n := keys.count() - before; n != 0 {
		t.Errorf("a flooded address made %d lookups, want none", n)
	}

	// tfk_guess_0 was looked up in the flood, and is remembered as unknown.
	if w := send(h, bystander, "tfk_guess_0"); w.Code != http.StatusUnauthorized || keys.count() != before {
		t.Errorf("a bad key seen before, from another address: %d %s after %d lookups, want 401 after none",
			w.Code, w.Body, keys.count()-before)
	}
	if w := send(h, bystander, "tfk_valid_too"); w.Code != http.StatusOK {
		t.Errorf("a valid key from another address: %d %s, want 200", w.Code, w.Body)
	}
	// After a key changed somewhere (ForgetKeys), a valid key is checked anew, still without
	// waiting for its address's budget: it is remembered as having been valid.
	s.ForgetKeys()
	before = keys.count()
	if w := send(h, attacker, "tfk_valid"); w.Code != http.StatusOK || keys.count() != before+1 {
		t.Errorf("a valid key after ForgetKeys, from the flooded address: %d %s after %d lookups, want 200 after 1",
			w.Code, w.Body, keys.count()-before)
	}
}

// TestConcurrentFloodIsBounded sends bad keys from one address all at once: the budget is taken
// before the lookup, so requests in flight together cannot overrun it.
func TestConcurrentFloodIsBounded(t *testing.T) {
	const burst, workers, each = 10, 50, 20
	keys := newCountingKeys()
	_, h := authServer(keys, Options{AuthFailureRate: 1, AuthFailureBurst: burst})
	start := time.Now()
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				send(h, "192.0.2.1:1", fmt.Sprintf("tfk_guess_%d_%d", g, i))
			}
		})
	}
	wg.Wait()
	if allowed := burst + int(time.Since(start).Seconds()) + 1; keys.count() > allowed {
		t.Errorf("%d concurrent bad keys made %d lookups, want at most %d", workers*each, keys.count(), allowed)
	}
}

// TestUnknownKeysRemembered checks the memory of secrets that no key has: the same one is looked
// up once, and counts as a failure each time; it is looked up again after unknownKeyTTL; and
// ForgetKeys forgets it, since it may just have become a key.
func TestUnknownKeysRemembered(t *testing.T) {
	const burst = 3
	keys := newCountingKeys()
	s, h := authServer(keys, Options{AuthFailureRate: 0.001, AuthFailureBurst: burst})
	const secret = "tfk_not_yet"
	for i := range burst {
		if w := send(h, "192.0.2.1:1", secret); w.Code != http.StatusUnauthorized {
			t.Fatalf("try %d: %d %s, want 401", i, w.Code, w.Body)
		}
	}
	if keys.count() != 1 {
		t.Errorf("one unknown key sent %d times made %d lookups, want 1", burst, keys.count())
	}
	expectTooManyFailures(t, send(h, "192.0.2.1:1", secret))

	hash := string(auth.Hash(secret))
	s.auth.unknown[hash] = time.Now().Add(-unknownKeyTTL - time.Second)
	if w := send(h, "198.51.100.7:1", secret); w.Code != http.StatusUnauthorized || keys.count() != 2 {
		t.Errorf("an unknown key past unknownKeyTTL: %d after %d lookups, want 401 after 2", w.Code, keys.count())
	}

	keys.add(secret, auth.Key{ID: "k1", Name: "agent-1", Role: auth.RoleAgent})
	s.ForgetKeys()
	if w := send(h, "198.51.100.7:1", secret); w.Code != http.StatusOK {
		t.Errorf("a key created after it was found unknown, after ForgetKeys: %d %s, want 200", w.Code, w.Body)
	}
}

// TestRevokedKeyIsAFailure checks that presenting a revoked key spends the failure budget.
func TestRevokedKeyIsAFailure(t *testing.T) {
	const burst = 3
	keys := newCountingKeys()
	revoked := time.Now()
	keys.add("tfk_revoked", auth.Key{ID: "k1", Name: "gone", Role: auth.RoleAgent, RevokedAt: &revoked})
	_, h := authServer(keys, Options{AuthFailureRate: 0.001, AuthFailureBurst: burst})
	for i := range burst {
		if w := send(h, "192.0.2.1:1", "tfk_revoked"); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "revoked") {
			t.Fatalf("try %d: %d %s, want 401 revoked", i, w.Code, w.Body)
		}
	}
	expectTooManyFailures(t, send(h, "192.0.2.1:1", "tfk_revoked"))
}

// TestFailureBudgetDefaults checks that options left at zero take config's defaults.
func TestFailureBudgetDefaults(t *testing.T) {
	f := newAuthenticator(newCountingKeys(), Options{}).failures
	if f.rate != 1 || f.burst != 20 {
		t.Errorf("failure budget %v/s, burst %v; want config's defaults 1/s, burst 20", f.rate, f.burst)
	}
}

// TestFailureLimitsMemory checks that the failure budgets of many addresses take bounded memory:
// past maxFailureAddrs new addresses share one budget, and budgets left alone long enough to be
// full again are dropped. It also checks that an IPv6 client's budget is that of its /64.
func TestFailureLimitsMemory(t *testing.T) {
	f := newFailureLimits(1, 2) // full again two seconds after it is spent
	t0 := time.Now()
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	for i := range maxFailureAddrs {
		if wait := f.take(addr(i), t0); wait != 0 {
			t.Fatalf("address %d: wait %v on its first failure", i, wait)
		}
	}
	// The overflow: a hundred more addresses share one budget of two.
	taken := 0
	for i := maxFailureAddrs; i < maxFailureAddrs+100; i++ {
		if f.take(addr(i), t0) == 0 {
			taken++
		}
	}
	if taken != 2 || len(f.current) != maxFailureAddrs {
		t.Errorf("past maxFailureAddrs: %d of 100 new addresses failed freely, %d budgets kept; want 2 and %d", taken, len(f.current), maxFailureAddrs)
	}
	// One address stays busy; the others are left alone, and gone after two generations.
	f.take(addr(0), t0.Add(2*time.Second))
	f.take(addr(0), t0.Add(4*time.Second))
	if n := len(f.current) + len(f.previous); n != 1 {
		t.Errorf("%d budgets kept after the others were left alone for two generations, want 1", n)
	}

	g := newFailureLimits(1, 2)
	a, b, c := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8:0:1::1")
	if g.take(a, t0) != 0 || g.take(b, t0) != 0 || g.take(a, t0) == 0 {
		t.Error("two addresses of one IPv6 /64 do not share a budget")
	}
	if g.take(c, t0) != 0 {
		t.Error("another IPv6 /64 shares the budget")
	}
	if wait := g.take(a, t0.Add(500*time.Millisecond)); wait != 500*time.Millisecond {
		t.Errorf("wait %v half a second after the budget of 1/s was spent, want 500ms", wait)
	}
	if g.take(a, t0.Add(time.Second)) != 0 {
		t.Error("the budget did not refill after a second")
	}
}

func TestRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1200 * time.Millisecond: "2", 20 * time.Second: "20"} {
		if got := retryAfter(wait); got != want {
			t.Errorf("retryAfter(%v) = %s, want %s", wait, got, want)
		}
	}
}

// TestFailureBudgetBehindProxies checks that behind a trusted proxy each client named in
// X-Forwarded-For has a budget of its own, and that what a client writes there itself does not
// change which budget it spends.
func TestFailureBudgetBehindProxies(t *testing.T) {
	const burst = 3
	keys := newCountingKeys()
	_, h := authServer(keys, Options{AuthFailureRate: 0.001, AuthFailureBurst: burst,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	const proxy = "10.0.0.1:443"
	for i := range burst {
		if w := send(h, proxy, fmt.Sprintf("tfk_guess_%d", i), "203.0.113.9"); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, w.Code, w.Body)
		}
	}
	expectTooManyFailures(t, send(h, proxy, "tfk_guess_more", "203.0.113.9"))
	// A forged entry left of the address the proxy added is not read.
	expectTooManyFailures(t, send(h, proxy, "tfk_guess_more", "198.51.100.1, 203.0.113.9"))
	// Another client behind the same proxy, and the proxy itself, have budgets of their own.
	if w := send(h, proxy, "tfk_guess_more", "203.0.113.10"); w.Code != http.StatusUnauthorized {
		t.Errorf("another client behind the proxy: %d %s, want 401", w.Code, w.Body)
	}
	if w := send(h, proxy, "tfk_guess_more"); w.Code != http.StatusUnauthorized {
		t.Errorf("the proxy itself: %d %s, want 401", w.Code, w.Body)
	}
}
