package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

const keyColumns = `id::text, name, role, subject, created_at, revoked_at`

func scanKey(row pgx.CollectableRow) (auth.Key, error) {
	var k auth.Key
	err := row.Scan(&k.ID, &k.Name, &k.Role, &k.Subject, &k.CreatedAt, &k.RevokedAt)
	k.CreatedAt = k.CreatedAt.UTC()
	if k.RevokedAt != nil {
		at := k.RevokedAt.UTC()
		k.RevokedAt = &at
	}
	return k, err
}

// CreateKey stores a new key with the hash of its secret. A name already taken is ECONFLICT.
func (db *DB) CreateKey(ctx context.Context, n auth.NewKey, hash []byte) (auth.Key, error) {
	if err := n.Validate(); err != nil {
		return auth.Key{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return auth.Key{}, fmt.Errorf("postgres: key id: %w", err)
	}
	rows, _ := db.pool.Query(ctx, `
INSERT INTO api_keys (id, name, role, subject, key_hash) VALUES ($1, $2, $3, $4, $5)
RETURNING `+keyColumns, id, n.Name, n.Role, n.Subject, hash)
	k, err := pgx.CollectOneRow(rows, scanKey)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "api_keys_name_key" {
		return auth.Key{}, ticket.Errorf(ticket.ECONFLICT, "a key named %q exists already", n.Name)
	}
	if err != nil {
		return auth.Key{}, translate(ctx, err, "create key %q", n.Name)
	}
	return k, nil
}

// KeyByHash returns the key whose secret has the hash, revoked or not; ENOTFOUND when none has.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (auth.Key, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE key_hash = $1`, hash)
	k, err := pgx.CollectOneRow(rows, scanKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Key{}, ticket.Errorf(ticket.ENOTFOUND, "no such key")
	}
	if err != nil {
		return auth.Key{}, translate(ctx, err, "read key")
	}
	return k, nil
}

// ListKeys returns every key, oldest first.
func (db *DB) ListKeys(ctx context.Context) ([]auth.Key, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	keys, err := pgx.CollectRows(rows, scanKey)
	if err != nil {
		return nil, translate(ctx, err, "list keys")
	}
	return keys, nil
}

// RevokeKey revokes the key with this ID or name and returns it. Revoking a revoked key keeps its
// first revocation time. ENOTFOUND when there is no such key.
func (db *DB) RevokeKey(ctx context.Context, idOrName string) (auth.Key, error) {
	rows, _ := db.pool.Query(ctx, `
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE id::text = $1 OR name = $1
RETURNING `+keyColumns, idOrName)
	k, err := pgx.CollectOneRow(rows, scanKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Key{}, ticket.Errorf(ticket.ENOTFOUND, "no key with id or name %q", idOrName)
	}
	if err != nil {
		return auth.Key{}, translate(ctx, err, "revoke key %q", idOrName)
	}
	return k, nil
}

// ListenKeyChanges calls changed each time a key is changed (revoked) by any process, until ctx
// is done; see listen.
func (db *DB) ListenKeyChanges(ctx context.Context, changed func()) {
	db.listen(ctx, "api_keys_changed", changed)
}
