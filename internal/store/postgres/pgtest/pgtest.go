// Package pgtest gives tests a PostgreSQL database of their own: freshly created, migrated to
// the newest schema, and dropped when the test ends. Tests run against the real database, not a
// mock, and in parallel without seeing each other's rows.
//
// It needs TEST_DATABASE_DSN, a postgres:// URL of a role that may create databases; `make test`
// starts the test stack and sets it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ticketflow/ticketflow/internal/store/postgres"
)

// EnvDSN names the environment variable that points the tests at a PostgreSQL server.
const EnvDSN = "TEST_DATABASE_DSN"

// New returns a *postgres.DB on a fresh, migrated database of its own, closed and dropped when
// the test ends.
func New(tb testing.TB) *postgres.DB {
	tb.Helper()
	dsn := DSN(tb)
	db, err := postgres.Open(tb.Context(), dsn)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	// Cleanups run last-registered first, so the pool is closed before DSN's cleanup drops the
	// database.
	tb.Cleanup(db.Close)
	return db
}

// DSN creates a fresh, migrated database of its own, dropped when the test ends, and returns
// its DSN, for tests that open their own connections or run the migrations themselves.
func DSN(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv(EnvDSN)
	if admin == "" {
		// A test that skips passes in CI without having run; without a database is a failure.
		tb.Fatal(EnvDSN + " is not set: run the tests with `make test`, which starts the test stack")
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatal(EnvDSN + " must be a postgres:// URL") // not quoted: it may hold a password
	}

	b := make([]byte, 8)
	rand.Read(b) // never fails: crypto/rand crashes the program rather than return an error
	name := "tf_test_" + hex.EncodeToString(b)
	exec(tb.Context(), tb, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	tb.Cleanup(func() {
		// The test's context is cancelled before cleanups run: give the drop its own. FORCE
		// ends connections that the test left open, which would otherwise block it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// An autovacuum worker of the database runs as a role that the test's may not end
		// (SQLSTATE 42501); it is done within moments, so the drop is tried again.
		drop := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
		for attempt := 1; ; attempt++ {
			err := run(ctx, admin, drop)
			var pgErr *pgconn.PgError
			if err == nil || attempt == 10 || !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				if err != nil {
					tb.Fatalf("pgtest: %s: %v", drop, err)
				}
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	u.Path = "/" + name
	dsn := u.String()
	if err := postgres.Migrate(dsn); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// exec runs one statement on its own connection to the server's administrative database.
func exec(ctx context.Context, tb testing.TB, dsn, sql string) {
	tb.Helper()
	if err := run(ctx, dsn, sql); err != nil {
		tb.Fatalf("pgtest: %s: %v", sql, err)
	}
}

func run(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", EnvDSN, err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}
