package ticket_test

import (
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

func TestCursorRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		c    ticket.Cursor
	}{
		{"ticket or comment key", ticket.Cursor{At: now, ID: ticketID}},
		{"key at a whole second", ticket.Cursor{At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ID: "x"}},
		{"event seq", ticket.Cursor{Seq: 42}},
		{"largest seq", ticket.Cursor{Seq: math.MaxInt64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.c.Encode()
			if s == "" || strings.ContainsAny(s, "+/=") {
				t.Errorf("Encode = %q, want a non-empty URL-safe string without padding", s)
			}
			got, err := ticket.ParseCursor(s)
			if err != nil {
				t.Fatalf("ParseCursor(%q): %v", s, err)
			}
			if got == nil || !got.At.Equal(tt.c.At) || got.ID != tt.c.ID || got.Seq != tt.c.Seq {
				t.Errorf("ParseCursor(Encode(%+v)) = %+v", tt.c, got)
			}
			if got.Encode() != s {
				t.Errorf("re-encoding gives %q, want %q", got.Encode(), s)
			}
		})
	}
	t.Run("empty string is the first page", func(t *testing.T) {
		c, err := ticket.ParseCursor("")
		if c != nil || err != nil {
			t.Errorf(`ParseCursor("") = %+v, %v; want nil, nil`, c, err)
		}
	})
}

func TestParseCursorRejects(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		in   string
	}{
		{"garbage", "not a cursor!"},
		{"bad base64 characters", "eyJzIjo*fQ"},
		{"standard base64 with padding", base64.StdEncoding.EncodeToString([]byte(`{"s":1}`))},
		{"base64 of non-JSON", b64("hello")},
		{"truncated JSON", b64(`{"s":1`)},
		{"empty object", b64(`{}`)},
		{"null", b64(`null`)},
		{"array", b64(`[1]`)},
		{"string", b64(`"s"`)},
		{"unknown field", b64(`{"s":1,"x":2}`)},
		{"only an unknown field", b64(`{"offset":100}`)},
		{"zero seq", b64(`{"s":0}`)},
		{"empty id", b64(`{"t":"2026-11-26T10:00:00Z","i":""}`)},
		{"time only", b64(`{"t":"2026-11-26T10:00:00Z"}`)},
		{"seq as string", b64(`{"s":"1"}`)},
		{"fractional seq", b64(`{"s":1.5}`)},
		{"bad time", b64(`{"t":"yesterday","i":"x"}`)},
		{"SQL", b64(`{"i":"x"}'; DROP TABLE tickets; --`)[:10]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ticket.ParseCursor(tt.in)
			if !errors.Is(err, ticket.ErrBadCursor) || c != nil {
				t.Errorf("ParseCursor(%q) = %+v, %v; want nil, ErrBadCursor", tt.in, c, err)
			}
		})
	}
}
