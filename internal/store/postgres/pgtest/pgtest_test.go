package pgtest_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
)

// TestNew checks the promise to every test that uses the package: a database of its own, ready
// to use, and gone once the test is over.
func TestNew(t *testing.T) {
	var names []string
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			db := pgtest.New(t)
			if err := db.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
			// New does not tell its database's name; DSN makes one the same way and does.
			names = append(names, databaseName(t, pgtest.DSN(t)))
		})
	}
	if len(names) != 2 {
		return // the subtests said why
	}
	if names[0] == names[1] || !strings.HasPrefix(names[0], "tf_test_") {
		t.Errorf("got databases %q, want two distinct tf_test_ names", names)
	}

	admin, err := pgx.Connect(t.Context(), os.Getenv(pgtest.EnvDSN))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	for _, name := range names {
		var exists bool
		err := admin.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
		if err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s outlived its test", name)
		}
	}
}

func databaseName(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}
