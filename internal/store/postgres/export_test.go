package postgres

// MigrateDown undoes every migration, so that tests can prove the down files work.
func MigrateDown(dsn string) error {
	m, err := newMigrator(dsn)
	if err != nil {
		return err
	}
	defer closeMigrator(m)
	return m.Down()
}

// MigrateTo migrates up or down to the version, so that tests can write rows of an older schema
// and prove what the next migration makes of them.
func MigrateTo(dsn string, version uint) error {
	m, err := newMigrator(dsn)
	if err != nil {
		return err
	}
	defer closeMigrator(m)
	return m.Migrate(version)
}

// ListTicketsQuery is the statement ListTickets runs, so that tests can ask for its plan.
var ListTicketsQuery = listTicketsQuery

// SearchTicketsQuery is the statement SearchTickets runs, so that tests can ask for its plan.
var SearchTicketsQuery = searchTicketsQuery
