package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestTranslate checks how a failed call to Temporal reaches the API: a refusal as its domain
// error, and anything that leaves the outcome unknown as ETIMEOUT or EUNAVAILABLE (a 504 or 503,
// which tell the client to retry with the same key), never as an error without a code, which
// the API would answer with a 500.
func TestTranslate(t *testing.T) {
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string // the code; "" for an error left as it is
	}{
		{"a refusal of the workflow", context.Background(),
			toApplicationError(ticket.Errorf(ticket.EINVALIDTRANSITION, "no")), ticket.EINVALIDTRANSITION},
		{"the server unreachable", context.Background(), serviceerror.NewUnavailable("connection refused"), ticket.EUNAVAILABLE},
		{"the server's deadline", context.Background(), serviceerror.NewDeadlineExceeded("deadline"), ticket.ETIMEOUT},
		{"the request's deadline", context.Background(), fmt.Errorf("poll: %w", context.DeadlineExceeded), ticket.ETIMEOUT},
		{"the request gone", expired, errors.New("rpc error: canceled"), ticket.ETIMEOUT},
		{"the update poll timed out", context.Background(),
			client.NewWorkflowUpdateServiceTimeoutOrCanceledError(serviceerror.NewCanceled("canceled")), ticket.ETIMEOUT},
		{"an update lost in a restart", context.Background(), serviceerror.NewNotFound("update not found"), ticket.EUNAVAILABLE},
		{"the namespace not loaded yet", context.Background(), serviceerror.NewNamespaceNotFound("default"), ticket.EUNAVAILABLE},
		{"the server busy", context.Background(), serviceerror.NewResourceExhausted(0, "busy"), ticket.EUNAVAILABLE},
		{"the server failing", context.Background(), serviceerror.NewInternal("boom"), ticket.EUNAVAILABLE},
		{"a bug of ours", context.Background(), temporal.NewApplicationError("cannot decode", "decode"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate(tt.ctx, tt.err)
			if tt.want == "" {
				if got != tt.err {
					t.Errorf("translate(%v) = %v, want the error as it is", tt.err, got)
				}
				return
			}
			if code := ticket.ErrorCode(got); code != tt.want {
				t.Errorf("translate(%v) has code %q, want %q", tt.err, code, tt.want)
			}
			if tt.want == ticket.ETIMEOUT || tt.want == ticket.EUNAVAILABLE {
				// The log needs the cause; the client must not see it.
				if !errors.Is(got, tt.err) {
					t.Errorf("translate(%v) = %v, which lost the cause", tt.err, got)
				}
				if msg := ticket.ErrorMessage(got); strings.Contains(msg, tt.err.Error()) {
					t.Errorf("the client would read %q, which shows the cause", msg)
				}
			}
		})
	}
}
