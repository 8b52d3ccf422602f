package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/ticketflow/ticketflow/internal/idempotency"
	"github.com/ticketflow/ticketflow/internal/service"
)

// replayedHeader marks a response that repeats the first outcome of an Idempotency-Key.
const replayedHeader = "Idempotent-Replayed"

// keptHeaders are the response headers that a replay repeats.
var keptHeaders = []string{"Content-Type", "Location", "ETag"}

// claimKey carries the IDs that an Idempotency-Key claimed down to the handler.
type claimKey struct{}

// idempotent makes a POST safe to retry. With an Idempotency-Key, the first request claims the key
// and the IDs of its effect; a retry with the same body gets the first outcome back unchanged, or,
// while the first is still in flight or its outcome is unknown, drives the very same change again,
// which Temporal applies once. The same key with another body is refused.
func (s *Server) idempotent(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r)
		}
		if !printableASCII(key, 255) {
			return requestError(codeBadRequest, "Idempotency-Key must be 1 to 255 printable ASCII characters")
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			return requestError(codeTooLarge, "the request body is larger than %d bytes", maxBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))

		// Keys are scoped per API key too: one client can never see another's outcome.
		scope := principal(r).KeyID + " " + r.Method + " " + r.URL.Path
		claimed, err := s.svc.Claim(r.Context(), scope, key, fingerprint(r, body))
		switch {
		case errors.Is(err, service.ErrKeyReused):
			return requestError(codeKeyReused, "%v", err)
		case err != nil:
			return err
		case claimed.Response != nil:
			replay(w, *claimed.Response)
			return nil
		}

		ctx := context.WithValue(r.Context(), claimKey{}, claimed.IDs)
		buf := newBufferedResponse()
		if err := h(buf, r.WithContext(ctx)); err != nil {
			s.writeError(buf, r, err)
		}
		// A 5xx leaves the outcome unknown: the next retry must drive the change again.
		if buf.status < 500 {
			if err := s.svc.Complete(r.Context(), scope, key, buf.response()); err != nil {
				s.log.WarnContext(r.Context(), "store idempotent response", "error", err)
			}
		}
		buf.copyTo(w)
		return nil
	}
}

// fingerprint identifies a request by what decides its outcome: its body and preconditions.
func fingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	for _, part := range []string{r.Header.Get("Content-Type"), r.Header.Get("If-Match")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return h.Sum(nil)
}

// claimedIDs returns the IDs that the request's Idempotency-Key claimed; none without a key.
func claimedIDs(r *http.Request) service.IDs {
	ids, _ := r.Context().Value(claimKey{}).(service.IDs)
	return ids
}

func replay(w http.ResponseWriter, resp idempotency.Response) {
	for name, value := range resp.Header {
		w.Header().Set(name, value)
	}
	w.Header().Set(replayedHeader, "true")
	w.WriteHeader(resp.Status)
	if _, err := w.Write(resp.Body); err != nil {
		logWriteFailure(err)
	}
}

// printableASCII reports whether s is 1..max printable ASCII characters.
func printableASCII(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// bufferedResponse holds a response until it is stored for replays.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) response() idempotency.Response {
	resp := idempotency.Response{Status: b.status, Header: map[string]string{}, Body: b.body.Bytes()}
	for _, name := range keptHeaders {
		if v := b.header.Get(name); v != "" {
			resp.Header[name] = v
		}
	}
	return resp
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for name, values := range b.header {
		w.Header()[name] = values
	}
	w.Header().Set("Content-Length", strconv.Itoa(b.body.Len()))
	w.WriteHeader(b.status)
	if _, err := w.Write(b.body.Bytes()); err != nil {
		logWriteFailure(err)
	}
}
