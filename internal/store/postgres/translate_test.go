package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestTranslate checks how a failed statement reaches a client: a domain error as it is, a
// statement the database refuses as invalid input, a deadline as ETIMEOUT, and the database not
// answering as EUNAVAILABLE (a 503 that says to retry, never a 500 that says retrying is
// pointless), each with the cause kept for the log but out of the message a client reads.
func TestTranslate(t *testing.T) {
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	notFound := ticket.Errorf(ticket.ENOTFOUND, "no ticket")
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		code string
	}{
		{"a domain error", context.Background(), notFound, ticket.ENOTFOUND},
		{"a constraint violated", context.Background(), &pgconn.PgError{Code: "23505", ConstraintName: "tickets_pkey"}, ticket.EINVALID},
		{"a deadline in the chain", context.Background(), fmt.Errorf("query: %w", context.DeadlineExceeded), ticket.ETIMEOUT},
		{"the caller's time gone", expired, errors.New("conn closed"), ticket.ETIMEOUT},
		{"the database down", context.Background(), errors.New("dial tcp 127.0.0.1:5432: connection refused"), ticket.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate(tt.ctx, tt.err, "read ticket %s", "x")
			if code := ticket.ErrorCode(got); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
			if tt.code == ticket.EINVALID {
				return // the database's own words about the input are the message
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("%v lost its cause %v", got, tt.err)
			}
			if msg := ticket.ErrorMessage(got); tt.err != notFound && strings.Contains(msg, tt.err.Error()) {
				t.Errorf("the client would read %q, which shows the cause", msg)
			}
		})
	}
}
