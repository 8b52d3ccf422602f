package postgres

import (
	"context"
	"crypto/rand"
	"errors"

	"github.com/jackc/pgx/v5"
)

// Secret returns the installation's secret of this name, making it on first use: every process
// offers a random one and the first to arrive wins, so all of them read back the same value.
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	offer := make([]byte, 32)
	rand.Read(offer) // never fails (crypto/rand)
	var value []byte
	var err error
	// A statement that lost the race to a process still committing sees neither its own row nor
	// the winner's (its snapshot is older); the next statement sees the winner's.
	for range 2 {
		err = db.pool.QueryRow(ctx, `
WITH offered AS (
    INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value
)
SELECT value FROM offered UNION ALL SELECT value FROM secrets WHERE name = $1
LIMIT 1`, name, offer).Scan(&value)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return nil, translate(ctx, err, "read secret %q", name)
	}
	return value, nil
}
