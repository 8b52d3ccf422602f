package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// listen calls changed each time PostgreSQL notifies channel, until ctx is done, on a connection
// of its own. It also calls changed whenever it (re)connects, because notifications sent while it
// was not listening are otherwise missed. It returns only when ctx is done.
func (db *DB) listen(ctx context.Context, channel string, changed func()) {
	for ctx.Err() == nil {
		if err := db.listenOnce(ctx, channel, changed); err != nil && ctx.Err() == nil {
			changed()
			select {
			case <-ctx.Done():
			case <-time.After(listenRetry):
			}
		}
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, changed func()) error {
	pooled, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection stays in LISTEN state: take it out of the pool and close it when done.
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	changed()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		changed()
	}
}

// listenRetry is the pause before listening again after the connection was lost.
const listenRetry = time.Second
