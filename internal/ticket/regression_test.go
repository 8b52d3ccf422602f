package ticket_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Check is what the workflow's update validator calls; it must refuse exactly what Apply refuses
// for the same command, or an update is accepted and then fails (or is refused though Apply
// would take it). Both must judge the normalized command.
func TestCheckAgreesWithApplyOnRawCommand(t *testing.T) {
	tests := []struct {
		name string
		cmd  ticket.Command
	}{
		{"whitespace-only body", ticket.Command{Action: "comment", Comment: "   ", CommentID: "c"}},
		{"body of 20000 plus padding", ticket.Command{Action: "comment", Comment: strings.Repeat("x", 20000) + "\n", CommentID: "c"}},
		{"reason of 500 plus padding", ticket.Command{Action: "close", Reason: strings.Repeat("x", 500) + " "}},
		{"whitespace-only comment without id", ticket.Command{Action: "answer", Comment: " "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticketIn(t, ticket.StatusOpen)
			checkErr := tk.Check(tt.cmd)
			_, applyErr := tk.Apply(tt.cmd, rawNow)
			if ticket.ErrorCode(checkErr) != ticket.ErrorCode(applyErr) {
				t.Errorf("Check: %v; Apply: %v", checkErr, applyErr)
			}
		})
	}
}

// A nil *Error stored in an error interface is non-nil; the helpers must not panic on it.
func TestErrorHelpersOnTypedNil(t *testing.T) {
	var e *ticket.Error
	var err error = e
	for name, f := range map[string]func(){
		"ErrorCode":    func() { ticket.ErrorCode(err) },
		"ErrorMessage": func() { ticket.ErrorMessage(err) },
		"ErrorFields":  func() { ticket.ErrorFields(err) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panicked: %v", name, r)
				}
			}()
			f()
		})
	}
}

// ParseCursor must refuse any string that Encode cannot have made.
func TestParseCursorStrict(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, in := range map[string]string{
		"trailing data":       b64(`{"s":1}garbage`),
		"two values":          b64(`{"s":1}{"s":2}`),
		"negative seq":        b64(`{"s":-1}`),
		"upper-case key":      b64(`{"S":1}`),
		"id without its time": b64(`{"i":"x"}`),
		"both kinds at once":  b64(`{"t":"2026-11-26T10:00:00Z","i":"x","s":3}`),
	} {
		t.Run(name, func(t *testing.T) {
			if c, err := ticket.ParseCursor(in); !errors.Is(err, ticket.ErrBadCursor) {
				t.Errorf("ParseCursor(%q) = %+v, %v; want ErrBadCursor", in, c, err)
			}
		})
	}
}

// A whitespace-only reason is no reason: Apply and Reject both leave it out.
func TestRejectBlankReason(t *testing.T) {
	ch := ticketIn(t, ticket.StatusClosed).Reject(ticket.Command{Action: "close", Reason: "  "}, nil, rawNow)
	if r, ok := ch.Events[0].Data["reason"]; ok {
		t.Errorf(`Data["reason"] = %q, want no reason`, r)
	}
}
