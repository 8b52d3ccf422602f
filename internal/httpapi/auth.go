package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/service"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// keyCacheTTL bounds how long a checked key is trusted without asking the database again. The
// database also tells every process of a revocation at once (ForgetKeys), so this only matters if
// that message is lost.
const keyCacheTTL = 10 * time.Second

// keyStaleTTL is how long a checked key is still trusted when the database cannot be asked again
// (down, failing over). A key cannot be revoked while the database is down, so trusting what was
// true moments before keeps the cache's reads, and the 503s of changes, going for the clients
// that were already working, instead of refusing every request with a 503 at once.
const keyStaleTTL = 5 * time.Minute

// unknownKeyTTL is how long a secret that no key has is answered 401 without asking the database
// again. It is short because the secret could become a key's (ForgetKeys also forgets them all).
const unknownKeyTTL = time.Minute

// authenticator checks API keys, remembering the ones it checked so that a request costs no
// database round trip, and limits the rate of each key. It also protects the database from
// guessing: an address that failed too often is answered 429 before any lookup, and secrets that
// no key has are remembered for a while.
type authenticator struct {
	keys     service.Keys
	rate     rate.Limit
	burst    int
	trusted  []netip.Prefix // proxies whose X-Forwarded-For names the client
	failures *failureLimits

	mu       sync.Mutex
	known    map[string]knownKey  // by the secret's hash
	unknown  map[string]time.Time // hashes that no key has, by when that was found
	limiters map[string]*rate.Limiter
}

type knownKey struct {
	key     auth.Key
	checked time.Time // zero once ForgetKeys asked for a check anew
}

// maxKnownKeys bounds the memory of checked keys, and that of unknown ones; past it the memory
// starts afresh.
const maxKnownKeys = 10000

// newAuthenticator returns the authenticator of a server with these options.
func newAuthenticator(keys service.Keys, o Options) *authenticator {
	if o.RateLimit <= 0 || o.RateBurst <= 0 {
		o.RateLimit, o.RateBurst = 100, 200
	}
	// The defaults of config (AUTH_FAILURE_RATE, AUTH_FAILURE_BURST).
	if o.AuthFailureRate <= 0 {
		o.AuthFailureRate = 1
	}
	if o.AuthFailureBurst <= 0 {
		o.AuthFailureBurst = 20
	}
	return &authenticator{
		keys: keys, rate: rate.Limit(o.RateLimit), burst: o.RateBurst, trusted: o.TrustedProxies,
		failures: newFailureLimits(o.AuthFailureRate, o.AuthFailureBurst),
		known:    map[string]knownKey{}, unknown: map[string]time.Time{},
	}
}

// forget makes every remembered key be checked anew on its next request, and forgets the secrets
// found unknown, one of which may just have become a key. A key that was valid stays remembered as
// such, though, so that its client is still not held back by the failures of others from its
// address (see principal); its check tells whether it still is.
func (a *authenticator) forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for hash, k := range a.known {
		k.checked = time.Time{}
		a.known[hash] = k
	}
	a.unknown = map[string]time.Time{}
}

// Answers of principal that need no database.
var (
	errUnknownKey   = requestError(codeUnauthorized, "the API key is not valid")
	errRevokedKey   = requestError(codeUnauthorized, "the API key was revoked")
	errTooManyFails = requestError(codeRateLimited, "too many failed authentications from this address; retry after the time in Retry-After")
)

// retryLater is a refusal past a limit, with how long to wait before trying again.
type retryLater struct {
	err  error
	wait time.Duration
}

func (e *retryLater) Error() string { return e.err.Error() }
func (e *retryLater) Unwrap() error { return e.err }

// principal returns who the secret belongs to, or why it does not count: codeUnauthorized for an
// unknown or revoked key, codeRateLimited (a *retryLater) when the client failed too often,
// EUNAVAILABLE when the keys cannot be read.
//
// A key known to be valid passes at once, whatever else its client's address sent: the failure
// budget is for secrets that may be guesses. Anything else takes one failure from the client's
// budget before any database work, and gives it back only if it turns out to be a valid key, so
// that a flood of bad keys makes a bounded number of lookups. The price is that a valid key not
// checked before, sent from an address that just spent its budget, gets 429 too until the budget
// refills: this process cannot tell it from a guess without the lookup that the limit exists to
// avoid.
func (a *authenticator) principal(ctx context.Context, client netip.Addr, secret string) (auth.Principal, error) {
	hash := string(auth.Hash(secret))
	a.mu.Lock()
	k, ok := a.known[hash]
	unknownAt, unknown := a.unknown[hash]
	a.mu.Unlock()
	if ok && k.key.RevokedAt == nil {
		return a.check(ctx, hash, k, ok)
	}
	if wait := a.failures.take(client, time.Now()); wait > 0 {
		return auth.Principal{}, &retryLater{err: errTooManyFails, wait: wait}
	}
	if unknown && time.Since(unknownAt) <= unknownKeyTTL {
		return auth.Principal{}, errUnknownKey
	}
	p, err := a.check(ctx, hash, k, ok)
	if err == nil {
		a.failures.giveBack(client, time.Now())
	}
	return p, err
}

// check returns the principal of the key with the hash, asking the database unless k, the key
// remembered (when ok) for the hash, was checked within keyCacheTTL.
func (a *authenticator) check(ctx context.Context, hash string, k knownKey, ok bool) (auth.Principal, error) {
	if !ok || time.Since(k.checked) > keyCacheTTL {
		key, err := a.keys.KeyByHash(ctx, []byte(hash))
		switch code := ticket.ErrorCode(err); {
		case code == ticket.ENOTFOUND:
			a.rememberUnknown(hash)
			return auth.Principal{}, errUnknownKey
		case err != nil && (!ok || time.Since(k.checked) > keyStaleTTL):
			return auth.Principal{}, fmt.Errorf("%w: %w", ticket.Errorf(ticket.EUNAVAILABLE, "the API key cannot be checked now; retry later"), err)
		case err != nil:
			// Trust what was checked moments ago (see keyStaleTTL); ask again next time.
		default:
			k = knownKey{key: key, checked: time.Now()}
			a.remember(hash, k)
		}
	}
	if k.key.RevokedAt != nil {
		return auth.Principal{}, errRevokedKey
	}
	return auth.PrincipalOf(k.key), nil
}

// remember keeps a checked key, starting afresh past maxKnownKeys.
func (a *authenticator) remember(hash string, k knownKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.known) >= maxKnownKeys {
		a.known = map[string]knownKey{}
	}
	a.known[hash] = k
}

// rememberUnknown keeps a hash that no key has, starting afresh past maxKnownKeys: forgetting
// costs only lookups, which the failure budgets bound anyway.
func (a *authenticator) rememberUnknown(hash string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.known, hash) // a key that is gone from the database
	if len(a.unknown) >= maxKnownKeys {
		a.unknown = map[string]time.Time{}
	}
	a.unknown[hash] = time.Now()
}

// allow reports whether the key may make a request now, and if not, when it may try again.
func (a *authenticator) allow(keyID string) (bool, time.Duration) {
	a.mu.Lock()
	if a.limiters == nil {
		a.limiters = map[string]*rate.Limiter{}
	}
	l := a.limiters[keyID]
	if l == nil {
		l = rate.NewLimiter(a.rate, a.burst)
		a.limiters[keyID] = l
	}
	a.mu.Unlock()
	r := l.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}

type principalKey struct{}

// ForgetKeys makes the server check every key anew on its next request; the application calls it
// when the database says a key changed, which is how a revocation takes effect at once.
func (s *Server) ForgetKeys() { s.auth.forget() }

// authenticate lets a request in only with a valid API key (Authorization: Bearer <key>) that is
// within its rate limit, and records who it acts as. A request without a key at all is answered
// 401 and not counted as a failed authentication: it costs no lookup.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" || !printableASCII(secret, 200) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ticketflow"`)
			s.writeError(w, r, requestError(codeUnauthorized, "an API key is required: Authorization: Bearer <key>"))
			return
		}
		p, err := s.auth.principal(r.Context(), clientAddr(r, s.auth.trusted), secret)
		if err != nil {
			var later *retryLater
			switch {
			case errors.As(err, &later):
				w.Header().Set("Retry-After", retryAfter(later.wait))
			case errorCode(err) == codeUnauthorized:
				w.Header().Set("WWW-Authenticate", `Bearer realm="ticketflow", error="invalid_token"`)
			}
			s.writeError(w, r, err)
			return
		}
		if ok, wait := s.auth.allow(p.KeyID); !ok {
			w.Header().Set("Retry-After", retryAfter(wait))
			s.writeError(w, r, requestError(codeRateLimited, "too many requests for this API key; retry after the time in Retry-After"))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// retryAfter is the Retry-After of a wait: whole seconds, rounded up, at least one.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// principal returns who the request acts as; authenticate has put it there.
func principal(r *http.Request) auth.Principal {
	p, _ := r.Context().Value(principalKey{}).(auth.Principal)
	return p
}

// require refuses, with 403, a request whose key's role may not do op.
func require(op auth.Operation, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if p := principal(r); !p.Can(op) {
			return ticket.Errorf(ticket.EFORBIDDEN, "a key of role %s may not %s", p.Role, strings.ReplaceAll(string(op), "_", " "))
		}
		return h(w, r)
	}
}
