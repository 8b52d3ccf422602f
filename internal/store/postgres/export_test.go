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
