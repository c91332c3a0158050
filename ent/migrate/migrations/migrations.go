// Package migrations holds webhookd's versioned schema migrations, one
// directory of Atlas migration files per database (sqlite/, postgres/), and
// embeds them in the binary so that webhookd applies them at start without
// any file or tool beside it.
//
// The files are written by `make generate` (ent/migrate/gen), which replays
// the existing files on a throwaway database and writes the difference to
// package ent's schema as a new file; they are never edited by hand, and
// atlas.sum guards them: a file changed after the fact no longer matches its
// sum, and webhookd refuses to start rather than apply it.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"

	"ariga.io/atlas/sql/migrate"
)

//go:embed sqlite/*.sql sqlite/atlas.sum postgres/*.sql postgres/atlas.sum
var files embed.FS

// dirName maps an Ent dialect name (entgo.io/ent/dialect.SQLite,
// dialect.Postgres) to its directory.
func dirName(dialect string) (string, error) {
	switch dialect {
	case "sqlite3":
		return "sqlite", nil
	case "postgres":
		return "postgres", nil
	}
	return "", fmt.Errorf("migrations: no migrations for dialect %q", dialect)
}

// Dir returns the embedded migrations of dialect (an Ent dialect name) as an
// Atlas migration directory, atlas.sum included. Each call returns a copy of
// its own: a caller may add files to it (tests do) without affecting others.
func Dir(dialect string) (*migrate.MemDir, error) {
	name, err := dirName(dialect)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(files, name)
	if err != nil {
		return nil, err
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		b, err := files.ReadFile(name + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	return dir, nil
}
