// Command gen writes webhookd's next versioned migration: for each database
// (SQLite, PostgreSQL) it replays the files already in
// ent/migrate/migrations/<dialect> on an empty dev database, compares the
// result with package ent's schema, and writes the difference as a new
// migration file, updating atlas.sum. An unchanged schema writes nothing, so
// `make generate` run twice leaves the tree as it was (CI checks that).
//
// The dev database is an in-memory SQLite, and for PostgreSQL a throwaway
// cluster that gen starts and removes (PostgreSQL's binaries must be
// installed, as `make test` needs them anyway), or the empty database named
// by WEBHOOKD_MIGRATE_DEV_URL. Run it from the repository root:
//
//	go run ./ent/migrate/gen -name add_endpoint_labels
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the pure-Go "sqlite" database/sql driver

	entmigrate "github.com/webhookd/webhookd/ent/migrate"
	"github.com/webhookd/webhookd/internal/testenv"
)

// devURLVar names an empty PostgreSQL database to use instead of a cluster
// of gen's own. gen creates and drops tables in it.
const devURLVar = "WEBHOOKD_MIGRATE_DEV_URL"

func main() {
	root := flag.String("dir", "ent/migrate/migrations", "the migrations directory, holding sqlite/ and postgres/")
	name := flag.String("name", "schema_change", "what the new migration does, in snake_case: the file is <timestamp>_<name>.sql")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, *root, *name, logger); err != nil {
		logger.Error("generating migrations", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, name string, logger *slog.Logger) error {
	sqliteDB, err := sql.Open("sqlite", "file:webhookd-dev?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		return err
	}
	defer sqliteDB.Close()
	// An in-memory database lives as long as its one connection.
	sqliteDB.SetMaxOpenConns(1)
	sqliteDB.SetConnMaxLifetime(0)
	// One version for both databases, so that a migration is known by one
	// number whichever database it runs on.
	version := time.Now().UTC().Format("20060102150405")
	if err := diff(ctx, filepath.Join(root, "sqlite"), version, name, dialect.SQLite, sqliteDB, logger); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}

	devURL := os.Getenv(devURLVar)
	if devURL == "" {
		pg, err := testenv.NewPostgresServer()
		if err != nil {
			return fmt.Errorf("postgres: starting a dev cluster (or set %s): %w", devURLVar, err)
		}
		defer pg.Close()
		devURL = pg.URL
	}
	pgDB, err := sql.Open("pgx", devURL)
	if err != nil {
		return err
	}
	defer pgDB.Close()
	if err := diff(ctx, filepath.Join(root, "postgres"), version, name, dialect.Postgres, pgDB, logger); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// diff writes the migration that takes a database from the state of dir's
// files to package ent's schema, if there is a difference.
func diff(ctx context.Context, path, version, name, entDialect string, dev *sql.DB, logger *slog.Logger) error {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	dir, err := atlasmigrate.NewLocalDir(path)
	if err != nil {
		return err
	}
	before, err := dir.Files()
	if err != nil {
		return err
	}
	m, err := schema.NewMigrate(entsql.OpenDB(entDialect, dev),
		schema.WithDir(dir),
		// The current state is what the files make of an empty database,
		// not what some database happens to hold.
		schema.WithMigrationMode(schema.ModeReplay),
		// Atlas' own file format (with atlas.sum), which webhookd's executor reads.
		schema.WithFormatter(versionFormatter{version}),
		// Unlike Schema.Create, a versioned migration may drop what the
		// schema no longer has: the file is reviewed before it lands.
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	)
	if err != nil {
		return err
	}
	err = m.NamedDiff(ctx, name, entmigrate.Tables...)
	if errors.Is(err, atlasmigrate.ErrNoPlan) {
		logger.Info("schema unchanged: no new migration", "dir", path)
		return nil
	}
	if err != nil {
		return err
	}
	after, err := dir.Files()
	if err != nil {
		return err
	}
	for _, f := range after[len(before):] {
		logger.Info("wrote migration", "file", filepath.Join(path, f.Name()))
	}
	return nil
}

// versionFormatter is Atlas' default file format with a version chosen by
// gen rather than the time each file happens to be written.
type versionFormatter struct{ version string }

func (f versionFormatter) Format(plan *atlasmigrate.Plan) ([]atlasmigrate.File, error) {
	p := *plan
	p.Version = f.version
	return atlasmigrate.DefaultFormatter.Format(&p)
}
