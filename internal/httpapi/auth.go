package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"ticketflow/internal/auth"
	"ticketflow/internal/ticket"
)

// Codes of the failures of authentication and of the limits put on each key.
const (
	codeUnauthorized = "unauthorized"
	codeForbidden    = "forbidden"
	codeRateLimited  = "rate_limited"
)

// Keys is where API keys are kept.
type Keys interface {
	// KeyByHash returns the key whose secret has the hash, revoked or not; ENOTFOUND when none.
	KeyByHash(ctx context.Context, hash []byte) (auth.Key, error)
	// CreateKey stores a new key with its secret's hash. Errors: EINVALID, ECONFLICT (name taken).
	CreateKey(ctx context.Context, n auth.NewKey, hash []byte) (auth.Key, error)
	// ListKeys returns every key, oldest first.
	ListKeys(ctx context.Context) ([]auth.Key, error)
	// RevokeKey revokes the key with this ID or name. Errors: ENOTFOUND.
	RevokeKey(ctx context.Context, idOrName string) (auth.Key, error)
}

// keyCacheTTL bounds how long a checked key is trusted without asking the database again. The
// database also tells every process of a revocation at once (ForgetKeys), so this only matters if
// that message is lost.
const keyCacheTTL = 10 * time.Second

// keyStaleTTL is how long a checked key is still trusted when the database cannot be asked again
// (down, failing over). A key cannot be revoked while the database is down, so trusting what was
// true moments before keeps the cache's reads, and the 503s of changes, going for the clients
// that were already working, instead of refusing every request with a 503 at once.
const keyStaleTTL = 5 * time.Minute

// authenticator checks API keys, remembering the ones it checked so that a request costs no
// database round trip, and limits the rate of each key.
type authenticator struct {
	keys  Keys
	rate  rate.Limit
	burst int

	mu       sync.Mutex
	known    map[string]knownKey // by the secret's hash
	limiters map[string]*rate.Limiter
}

type knownKey struct {
	key     auth.Key
	checked time.Time
}

// maxKnownKeys bounds the memory of checked keys; past it the memory starts afresh.
const maxKnownKeys = 10000

// newAuthenticator returns the authenticator of a server with these options.
func newAuthenticator(keys Keys, o Options) *authenticator {
	if o.RateLimit <= 0 || o.RateBurst <= 0 {
		o.RateLimit, o.RateBurst = 100, 200
	}
	a := &authenticator{keys: keys, rate: rate.Limit(o.RateLimit), burst: o.RateBurst}
	a.forget()
	return a
}

// forget drops every remembered key, so that the next request of each is checked anew.
func (a *authenticator) forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.known = map[string]knownKey{}
}

// principal returns who the secret belongs to, or why it does not count: EUNAUTHORIZED for an
// unknown or revoked key, EUNAVAILABLE when the keys cannot be read.
func (a *authenticator) principal(ctx context.Context, secret string) (auth.Principal, error) {
	hash := string(auth.Hash(secret))
	a.mu.Lock()
	k, ok := a.known[hash]
	a.mu.Unlock()
	if !ok || time.Since(k.checked) > keyCacheTTL {
		key, err := a.keys.KeyByHash(ctx, []byte(hash))
		switch code := ticket.ErrorCode(err); {
		case code == ticket.ENOTFOUND:
			return auth.Principal{}, requestError(codeUnauthorized, "the API key is not valid")
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
		return auth.Principal{}, requestError(codeUnauthorized, "the API key was revoked")
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
// within its rate limit, and records who it acts as.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" || !printableASCII(secret, 200) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ticketflow"`)
			s.writeError(w, r, requestError(codeUnauthorized, "an API key is required: Authorization: Bearer <key>"))
			return
		}
		p, err := s.auth.principal(r.Context(), secret)
		if err != nil {
			if ticket.ErrorCode(err) == codeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ticketflow", error="invalid_token"`)
			}
			s.writeError(w, r, err)
			return
		}
		if ok, wait := s.auth.allow(p.KeyID); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			s.writeError(w, r, requestError(codeRateLimited, "too many requests for this API key; retry after the time in Retry-After"))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
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
			return requestError(codeForbidden, "a key of role %s may not %s", p.Role, strings.ReplaceAll(string(op), "_", " "))
		}
		return h(w, r)
	}
}
