package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
)

func TestMigrate(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t) // already migrated up once

	steps := []struct {
		name       string
		run        func(string) error
		wantTables bool
	}{
		{"up again is no change", postgres.Migrate, true},
		{"down drops every table", postgres.MigrateDown, false},
		{"up after down", postgres.Migrate, true},
		{"up once more", postgres.Migrate, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.run(dsn); err != nil {
				t.Fatalf("got error %v", err)
			}
			for _, table := range []string{"tickets", "comments", "ticket_events"} {
				if got := tableExists(t, dsn, table); got != s.wantTables {
					t.Errorf("table %s exists = %v, want %v", table, got, s.wantTables)
				}
			}
		})
	}
}

func TestMigrateBadDSN(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"host=localhost user=u password=secret dbname=d",
		"mysql://u:secret@localhost/d",
		"postgres://u:secret@[::1/d",
	} {
		t.Run(dsn, func(t *testing.T) {
			err := postgres.Migrate(dsn)
			if err == nil {
				t.Fatal("got no error")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error %q leaks the password", err)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(t.Context(), "postgres://u:secret@127.0.0.1:1/d?connect_timeout=2")
	if err == nil {
		t.Fatal("got no error")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error %q leaks the password", err)
	}
}

func tableExists(t *testing.T, dsn, table string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}
