package postgres

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// scheme
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/ticketflow/ticketflow/migrations"
)

// Migrate brings the database at dsn, a postgres:// URL, up to the newest schema in package
// migrations. The binaries call it on start, so a database that is already up to date is a
// success, not an error. golang-migrate holds an advisory lock while it works, so replicas that
// start together do not race.
func Migrate(dsn string) error {
	m, err := newMigrator(dsn)
	if err != nil {
		return err
	}
	defer closeMigrator(m)
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("postgres: migrate up: %w", err)
	}
	return nil
}

// newMigrator returns a golang-migrate instance over the embedded migrations and the database at
// dsn. The caller must close it with closeMigrator.
func newMigrator(dsn string) (*migrate.Migrate, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: read migrations: %w", err)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// The error of url.Parse quotes the DSN, password included: leave it out.
		return nil, errors.New("postgres: migrate: the DSN must be a postgres:// URL")
	}
	// The pgx v5 driver of golang-migrate registers itself under its own scheme; the rest of
	// the URL is what pgx reads.
	u.Scheme = "pgx5"
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return m, nil
}

// closeMigrator closes m's source and database. Their errors cannot change the outcome of a
// migration that has finished, so they are dropped.
func closeMigrator(m *migrate.Migrate) {
	_, _ = m.Close()
}
