// Package migrations holds ticketflow's PostgreSQL schema as numbered golang-migrate files
// (NNNNNN_name.up.sql and .down.sql), embedded so that every binary and test can migrate a
// database without the source tree at hand.
package migrations

import "embed"

// FS holds the migration files, at its root, for golang-migrate's iofs source.
//
//go:embed *.sql
var FS embed.FS
