package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// seedColumns are the columns that seed fills; the others keep their defaults.
var seedColumns = []string{"id", "title", "description", "status", "priority", "requester",
	"version", "created_at", "updated_at", "closed_at", "close_reason", "assignee"}

// seedAgents is how many agents the seeded tickets are assigned to, round robin; benchAgent is
// the one whose queue the assignee listing reads.
const (
	seedAgents = 100
	benchAgent = "agent-7@example.com"
)

// seedAssignee is the agent of the i-th seeded ticket.
func seedAssignee(i int) string { return fmt.Sprintf("agent-%d@example.com", i%seedAgents) }

// seed tops the tickets table up to rows rows, straight into PostgreSQL with COPY: the listing is
// measured on a table of a given size, and going through the workflows would take hours for a
// million tickets and measure something else. The rows are spread over the four statuses and the
// past year, newest last, as a real table's would be, and over seedAgents agents. It returns how
// many rows the table holds.
func seed(ctx context.Context, pool *pgxpool.Pool, rows int, now time.Time) (int, error) {
	var have int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tickets`).Scan(&have); err != nil {
		return 0, fmt.Errorf("seed: count: %w", err)
	}
	missing := rows - have
	if missing <= 0 {
		return have, assignSeeded(ctx, pool)
	}
	const span = 365 * 24 * time.Hour
	step := span / time.Duration(missing)
	closeReason := "resolved"
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == missing {
			return nil, nil
		}
		created := now.Add(-span + time.Duration(i)*step).UTC().Truncate(time.Microsecond)
		status := ticket.Statuses[i%len(ticket.Statuses)]
		var closedAt *time.Time
		var reason *string
		version := int64(1)
		if status != ticket.StatusOpen {
			version = 2
		}
		if status == ticket.StatusClosed {
			closedAt, reason = &created, &closeReason
		}
		i++
		return []any{uuid.New(), fmt.Sprintf("Seeded ticket %d", i), "Seeded by make bench.",
			string(status), string(ticket.Priorities[(i/4)%len(ticket.Priorities)]), "seed@example.com",
			version, created, created, closedAt, reason, seedAssignee(i)}, nil
	})
	n, err := pool.CopyFrom(ctx, pgx.Identifier{"tickets"}, seedColumns, src)
	if err != nil {
		return 0, fmt.Errorf("seed: copy: %w", err)
	}
	return have + int(n), analyze(ctx, pool)
}

// assignSeeded gives the seeded rows of a table seeded before tickets had assignees theirs, once.
func assignSeeded(ctx context.Context, pool *pgxpool.Pool) error {
	tag, err := pool.Exec(ctx, `UPDATE tickets SET assignee = 'agent-' || (abs(hashtext(id::text)) % $1) || '@example.com'
		WHERE assignee IS NULL AND requester = 'seed@example.com'`, seedAgents)
	if err != nil {
		return fmt.Errorf("seed: assign: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	return analyze(ctx, pool)
}

// analyze runs VACUUM ANALYZE on the tickets.
func analyze(ctx context.Context, pool *pgxpool.Pool) error {
	// VACUUM ANALYZE now rather than have autovacuum wake up for the new rows in the middle of a
	// measured phase; it also gives the planner the table's real size.
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) tickets`); err != nil {
		return fmt.Errorf("seed: vacuum: %w", err)
	}
	return nil
}
