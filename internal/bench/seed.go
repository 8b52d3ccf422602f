package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// seedColumns are the columns that seed fills; the others keep their defaults.
var seedColumns = []string{"id", "title", "description", "status", "priority", "requester",
	"version", "created_at", "updated_at", "closed_at", "close_reason", "assignee", "comments_count"}

// seedAgents is how many agents the seeded tickets are assigned to, round robin; benchAgent is
// the one whose queue the assignee listing reads.
const (
	seedAgents = 100
	benchAgent = "agent-7@example.com"
)

// seedAssignee is the agent of the i-th seeded ticket.
func seedAssignee(i int) string { return fmt.Sprintf("agent-%d@example.com", i%seedAgents) }

// The seeded text: each ticket's title, description and one comment are words drawn from a
// vocabulary of seedWords, a few of them real ones, so that the two words of searchQuery are
// in about one ticket in ten thousand, as a specific search would be.
const (
	seedWords   = 2000
	searchQuery = "printer invoice"
	// seededText marks the rows of this seeding; rows seeded before it had no words to search.
	seededText = "Seeded by make bench:"
)

var realWords = strings.Fields("printer invoice refund login password outage laptop vpn email billing " +
	"shipping delivery broken slow crash error upgrade license account payment")

// seedText returns n words for the k-th text of the i-th ticket.
func seedText(i, k, n int) string {
	words := make([]string, n)
	h := uint64(i)*0x9E3779B97F4A7C15 + uint64(k)*0xBF58476D1CE4E5B9
	for j := range words {
		h ^= h >> 31
		h *= 0x94D049BB133111EB
		w := int(h>>33) % seedWords
		if w < len(realWords) {
			words[j] = realWords[w]
		} else {
			words[j] = fmt.Sprintf("w%04d", w)
		}
	}
	return strings.Join(words, " ")
}

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
	if tag, err := pool.Exec(ctx, `DELETE FROM tickets WHERE requester = 'seed@example.com' AND description NOT LIKE $1`,
		seededText+"%"); err != nil {
		return 0, fmt.Errorf("seed: drop rows seeded without words: %w", err)
	} else {
		have -= int(tag.RowsAffected())
	}
	missing := rows - have
	if missing <= 0 {
		return have, assignSeeded(ctx, pool)
	}
	const span = 365 * 24 * time.Hour
	step := span / time.Duration(missing)
	closeReason := "resolved"
	i := 0
	ids := make([]uuid.UUID, 0, missing)
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
		id := uuid.New()
		ids = append(ids, id)
		return []any{id, seedText(have+i, 0, 3), seededText + " " + seedText(have+i, 1, 10),
			string(status), string(ticket.Priorities[(i/4)%len(ticket.Priorities)]), "seed@example.com",
			version, created, created, closedAt, reason, seedAssignee(i), 1}, nil
	})
	n, err := pool.CopyFrom(ctx, pgx.Identifier{"tickets"}, seedColumns, src)
	if err != nil {
		return 0, fmt.Errorf("seed: copy: %w", err)
	}
	j := 0
	comments := pgx.CopyFromFunc(func() ([]any, error) {
		if j == len(ids) {
			return nil, nil
		}
		j++
		return []any{uuid.New(), ids[j-1], seedText(have+j, 2, 10), "agent@example.com", now}, nil
	})
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"comments"}, []string{"id", "ticket_id", "body", "author", "created_at"},
		comments); err != nil {
		return 0, fmt.Errorf("seed: copy comments: %w", err)
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
