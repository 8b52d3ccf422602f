// Package postgres is ticketflow's PostgreSQL store: the durable, queryable record of tickets,
// their comments and their audit trail.
//
// The ticket's workflow is the only writer, and it writes through Persist, which is idempotent so
// that Temporal may retry it freely. Everything else reads. Driver errors stop at this package's
// boundary: a missing ticket is a ticket.ENOTFOUND *ticket.Error, input that the schema refuses
// is ticket.EINVALID, and anything else (a dropped connection, a cancelled context) comes back
// wrapped with what was being done, for callers to treat as retryable.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// DB is ticketflow's PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
	// idempotencyTTL is SetIdempotencyTTL's setting, in nanoseconds; 0 for the default.
	idempotencyTTL atomic.Int64
}

// Open connects to the database at dsn (a postgres:// URL or key=value string, with pool
// settings such as pool_max_conns if wanted) and pings it, so that a wrong address or password
// fails at startup rather than on the first request.
func Open(ctx context.Context, dsn string) (*DB, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db := &DB{pool: pool}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// PoolStat reports the connection pool's counters: how often a query waited for a connection
// and for how long, which is what says whether the pool is large enough.
func (db *DB) PoolStat() *pgxpool.Stat {
	return db.pool.Stat()
}

// Close waits for the queries in flight to finish and closes every connection.
func (db *DB) Close() {
	db.pool.Close()
}

// Ping reports whether the database answers, for readiness checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// translate turns a failed statement into a domain error. A constraint violation (SQLSTATE class
// 23) or a data exception (class 22) is EINVALID, since retrying such a write can never succeed:
// it is always a bug in the caller, as the domain validates everything before it reaches here.
// Any other failure is the database not answering as it should (a dropped connection, a server
// down, restarting or failing over), which a retry can cure: ETIMEOUT when the caller's time ran
// out, EUNAVAILABLE otherwise. The driver's error stays in the chain behind the domain error, for
// the log, while the message a client reads names no address or driver.
func translate(ctx context.Context, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var domain *ticket.Error
	var pgErr *pgconn.PgError
	if errors.As(err, &domain) {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	if errors.As(err, &pgErr) && (pgErr.Code[:2] == "22" || pgErr.Code[:2] == "23") {
		if pgErr.ConstraintName != "" {
			return ticket.Errorf(ticket.EINVALID, "postgres: %s: constraint %s violated", what, pgErr.ConstraintName)
		}
		return ticket.Errorf(ticket.EINVALID, "postgres: %s: %s", what, pgErr.Message)
	}
	cause := fmt.Errorf("postgres: %s: %w", what, err)
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ticket.Errorf(ticket.ETIMEOUT, "the request was not completed in time; retry it"), cause)
	}
	return fmt.Errorf("%w: %w", ticket.Errorf(ticket.EUNAVAILABLE, "the database is unavailable; retry later"), cause)
}
