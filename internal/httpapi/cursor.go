package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// cursorSigner binds a listing's cursors to the listing that made them. A cursor is the position
// (ticket.Cursor) and a MAC over the position and the listing's scope: its path, its ticket, its
// filters and who may see what in it. A cursor of another listing, one altered or one made by hand
// is then refused, instead of being read as a position in a listing it does not belong to.
type cursorSigner struct {
	key []byte
}

// cursorMACSize is how much of the HMAC-SHA256 a cursor carries: 128 bits cannot be guessed.
const cursorMACSize = 16

// newCursorSigner signs with key; without one, with a random key of this process only, which is
// right for a single process (tests) but not for several behind one address.
func newCursorSigner(key []byte) cursorSigner {
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key) // never fails (crypto/rand)
	}
	return cursorSigner{key: key}
}

// encode returns the opaque cursor that continues the listing of scope after pos; nil for none.
func (c cursorSigner) encode(scope string, pos *ticket.Cursor) *string {
	if pos == nil {
		return nil
	}
	payload := pos.Encode()
	s := payload + "." + base64.RawURLEncoding.EncodeToString(c.mac(scope, payload))
	return &s
}

// decode returns the position of a cursor that encode made for scope; nil for "", the start.
func (c cursorSigner) decode(scope, s string) (*ticket.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	payload, sig, ok := strings.Cut(s, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(mac, c.mac(scope, payload)) {
		return nil, ticket.ErrBadCursor
	}
	return ticket.ParseCursor(payload)
}

func (c cursorSigner) mac(scope, payload string) []byte {
	h := hmac.New(sha256.New, c.key)
	// The scope never holds a NUL, so no scope and payload pair reads as another.
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return h.Sum(nil)[:cursorMACSize]
}

// The feed's cursors (events.go) are positions in the one order of every ticket's events, each
// event's the same on every path that sends it, whatever the reader's filters: so they are
// signed for the feed alone. The position is written in decimal, 19 digits with leading zeros,
// so that cursors compare as strings as their positions do.
const feedScope = "events"

// position returns the cursor of the feed at pos.
func (c cursorSigner) position(pos int64) string {
	payload := fmt.Sprintf("%019d", pos)
	return payload + "." + base64.RawURLEncoding.EncodeToString(c.mac(feedScope, payload))
}

// parsePosition returns the position of a cursor that position made; 0, the start, for "".
func (c cursorSigner) parsePosition(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	payload, sig, ok := strings.Cut(s, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || len(payload) != 19 || !hmac.Equal(mac, c.mac(feedScope, payload)) {
		return 0, ticket.ErrBadCursor
	}
	pos, err := strconv.ParseInt(payload, 10, 64)
	if err != nil || pos < 0 {
		return 0, ticket.ErrBadCursor
	}
	return pos, nil
}
