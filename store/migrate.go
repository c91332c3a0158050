package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	atlasschema "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent/migrate/migrations"
	"github.com/webhookd/webhookd/internal/version"
)

// This file brings a database's schema up to date at start: it applies the
// versioned migrations embedded from ent/migrate/migrations (written by
// `make generate`) with Atlas' executor, one file per transaction, and
// records each in the table atlas_schema_revisions. A database created by a
// webhookd from before versioned migrations (Ent's Schema.Create, no
// revision table) is first checked against the first migration and, when it
// matches, recorded as being at that version ("baselined").

// migrationLockKey is the PostgreSQL advisory lock that serialises schema
// migration between webhookd processes starting at once ("whook" in ASCII).
// Releases before versioned migrations took the same lock around
// Schema.Create, so old and new processes starting together take turns too.
const migrationLockKey = 0x77686f6f6b

// revisionTable records the migrations applied to a database, one row per
// version; its name and columns are those of the Atlas CLI's, so that an
// operator's `atlas migrate status` would read it.
const revisionTable = "atlas_schema_revisions"

// legacyProbeTable is a table every webhookd schema has had: a database
// holding it but no revisionTable was made by Schema.Create.
const legacyProbeTable = "accounts"

// migrateOptions are the knobs tests turn; webhookd uses the zero value.
type migrateOptions struct {
	// dir replaces the embedded migrations of the dialect (tests add a
	// migration to the real ones).
	dir atlasmigrate.Dir
	// toVersion stops after that version is applied; empty means all.
	toVersion string
}

// Migrate brings the schema of the database named by cfg to the newest
// migration webhookd embeds, as Open does, without opening a Store. With
// toVersion set it stops once that version is applied, leaving the database
// as a webhookd of that version made it (the upgrade tests start there).
func Migrate(ctx context.Context, cfg Config, toVersion string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	kind, _ := backendOf(cfg.DatabaseURL)
	db, err := openDB(kind, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return classifyUnreachable(err)
	}
	return migrate(ctx, kind, db, loggerOf(cfg), migrateOptions{toVersion: toVersion})
}

// migrate applies the pending migrations. Several webhookd processes sharing
// a database may start together; each migration runs in a transaction that
// first takes a lock (PostgreSQL: the advisory lock; SQLite: the database's
// write lock, BEGIN IMMEDIATE), reads which versions are applied and applies
// the next one, so the processes take turns and none applies a file twice.
func migrate(ctx context.Context, kind backend, db *sql.DB, logger *slog.Logger, opts migrateOptions) error {
	dir := opts.dir
	if dir == nil {
		d, err := migrations.Dir(kind.entDialect())
		if err != nil {
			return fmt.Errorf("migrating database: %w", err)
		}
		dir = d
	}
	if opts.toVersion != "" {
		files, err := dir.Files()
		if err != nil {
			return fmt.Errorf("migrating database: %w", err)
		}
		if !slices.ContainsFunc(files, func(f atlasmigrate.File) bool { return f.Version() == opts.toVersion }) {
			return webhookd.Invalid("version", "no migration has version %q", opts.toVersion)
		}
	}
	for {
		applied, err := migrateStep(ctx, kind, db, dir, logger, opts.toVersion)
		if err != nil {
			return classify(err, "migrating database")
		}
		if applied == "" || applied == opts.toVersion {
			return nil
		}
	}
}

// migrateStep applies the first pending migration in a transaction of its
// own and returns its version, or "" when none is pending.
func migrateStep(ctx context.Context, kind backend, db *sql.DB, dir atlasmigrate.Dir, logger *slog.Logger, toVersion string) (applied string, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if kind == backendSQLite {
		// A migration that changes a SQLite table copies it into a new one
		// and drops the old: with foreign keys enforced, the drop would
		// cascade into the rows that refer to it. Enforcement can only be
		// switched outside a transaction; the check before COMMIT (below)
		// stands in for it, as SQLite's documentation on ALTER TABLE says.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return "", err
		}
		defer func() {
			if _, err2 := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); err2 != nil {
				err = errors.Join(err, err2)
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if kind == backendPostgres {
		// Held until COMMIT or ROLLBACK.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return "", err
		}
	}
	drv, err := atlasDriver(kind, tx)
	if err != nil {
		return "", err
	}
	revisions := &revisionStore{tx: tx, kind: kind}
	hasRevisions, err := tableExists(ctx, kind, tx, revisionTable)
	if err != nil {
		return "", err
	}
	var execOpts []atlasmigrate.ExecutorOption
	if !hasRevisions {
		legacy, err := tableExists(ctx, kind, tx, legacyProbeTable)
		if err != nil {
			return "", err
		}
		if legacy {
			first, err := firstMigration(dir)
			if err != nil {
				return "", err
			}
			if err := checkBaseline(ctx, kind, tx, drv, first, logger); err != nil {
				return "", err
			}
			logger.InfoContext(ctx, "database was created before versioned migrations: recording it at the first migration",
				"version", first.Version())
			execOpts = append(execOpts, atlasmigrate.WithBaselineVersion(first.Version()))
		} else {
			// No webhookd table: whatever else the database (or another
			// schema of it) holds is not ours to judge.
			execOpts = append(execOpts, atlasmigrate.WithAllowDirty(true))
		}
		if _, err := tx.ExecContext(ctx, revisions.createTable()); err != nil {
			return "", fmt.Errorf("creating %s: %w", revisionTable, err)
		}
	}
	execOpts = append(execOpts, atlasmigrate.WithOperatorVersion("webhookd "+version.String()))
	ex, err := atlasmigrate.NewExecutor(drv, dir, revisions, execOpts...)
	if err != nil {
		return "", err
	}
	pending, err := ex.Pending(ctx)
	switch {
	case errors.Is(err, atlasmigrate.ErrNoPendingFiles):
		if err := warnIfNewer(ctx, dir, revisions, logger); err != nil {
			return "", err
		}
		return "", tx.Commit() // a baseline revision may have been written
	case err != nil:
		return "", err
	}
	next := pending[0]
	if toVersion != "" && next.Version() > toVersion {
		return "", tx.Commit()
	}
	if err := ex.Execute(ctx, next); err != nil {
		return "", err
	}
	if kind == backendSQLite {
		if err := checkForeignKeys(ctx, tx); err != nil {
			return "", fmt.Errorf("migration %s: %w", next.Name(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	logger.InfoContext(ctx, "applied database migration", "version", next.Version(), "description", next.Desc())
	return next.Version(), nil
}

// warnIfNewer logs when the database has migrations this webhookd does not
// embed: a newer release migrated it. It still starts, as processes of the
// old release do during a rolling upgrade, but an operator rolling back
// should know that the schema is not the one this release was tested on.
func warnIfNewer(ctx context.Context, dir atlasmigrate.Dir, revisions *revisionStore, logger *slog.Logger) error {
	revs, err := revisions.ReadRevisions(ctx)
	if err != nil || len(revs) == 0 {
		return err
	}
	files, err := dir.Files()
	if err != nil || len(files) == 0 {
		return err
	}
	if last, known := revs[len(revs)-1].Version, files[len(files)-1].Version(); last > known {
		logger.WarnContext(ctx, "the database was migrated by a newer webhookd", "database_version", last, "newest_known", known)
	}
	return nil
}

// checkForeignKeys fails when a row of the database refers to a row that
// does not exist, which SQLite did not check while enforcement was off.
func checkForeignKeys(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("a row of %s (rowid %d) refers to a missing row of %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}

func (b backend) entDialect() string {
	if b == backendPostgres {
		return dialect.Postgres
	}
	return dialect.SQLite
}

func atlasDriver(kind backend, tx *sql.Tx) (atlasmigrate.Driver, error) {
	if kind == backendPostgres {
		return postgres.Open(tx)
	}
	return sqlite.Open(tx)
}

// tableExists reports whether the connection's current schema has table.
func tableExists(ctx context.Context, kind backend, tx *sql.Tx, table string) (bool, error) {
	var n int
	var err error
	if kind == backendPostgres {
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1", table).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n)
	}
	return n > 0, err
}

func firstMigration(dir atlasmigrate.Dir) (atlasmigrate.File, error) {
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no migration files")
	}
	return files[0], nil
}

// checkBaseline compares the schema of a database made by Schema.Create with
// the one the first migration makes, and fails unless the database has
// everything that migration creates: marking it as migrated when a column
// is missing would make the next migrations, and webhookd, fail later and
// less clearly. What the database has beyond it (Schema.Create never
// dropped a column or index that the schema lost) is logged and left.
func checkBaseline(ctx context.Context, kind backend, tx *sql.Tx, drv atlasmigrate.Driver, first atlasmigrate.File, logger *slog.Logger) error {
	current, err := drv.InspectSchema(ctx, "", nil)
	if err != nil {
		return err
	}
	want, err := replayFirst(ctx, kind, tx, first)
	if err != nil {
		return fmt.Errorf("replaying %s to compare: %w", first.Name(), err)
	}
	// Neither the revision table nor the schema names are part of the comparison.
	want.Name, want.Attrs = current.Name, current.Attrs
	for _, t := range want.Tables {
		t.Schema = want
	}
	changes, err := drv.SchemaDiff(current, want)
	if err != nil {
		return err
	}
	var missing, extra []string
	for _, c := range changes {
		describeChange(c, &missing, &extra)
	}
	if len(extra) > 0 {
		logger.WarnContext(ctx, "the database has more than the first migration creates; left as it is", "extra", strings.Join(extra, "; "))
	}
	if len(missing) > 0 {
		return fmt.Errorf("the database has webhookd's tables but no %s, and its schema differs from migration %s: %s; "+
			"start the last webhookd release before versioned migrations on it once, which brings it up to date, then this one",
			revisionTable, first.Name(), strings.Join(missing, "; "))
	}
	return nil
}

// describeChange sorts one change that would take the database to the first
// migration's schema into what the database lacks and what it has beyond.
func describeChange(c atlasschema.Change, missing, extra *[]string) {
	switch c := c.(type) {
	case *atlasschema.AddTable:
		*missing = append(*missing, "table "+c.T.Name)
	case *atlasschema.DropTable:
		*extra = append(*extra, "table "+c.T.Name)
	case *atlasschema.ModifyTable:
		for _, tc := range c.Changes {
			switch tc := tc.(type) {
			case *atlasschema.DropColumn:
				*extra = append(*extra, fmt.Sprintf("column %s.%s", c.T.Name, tc.C.Name))
			case *atlasschema.DropIndex:
				*extra = append(*extra, fmt.Sprintf("index %s", tc.I.Name))
			case *atlasschema.AddColumn:
				*missing = append(*missing, fmt.Sprintf("column %s.%s", c.T.Name, tc.C.Name))
			case *atlasschema.ModifyColumn:
				*missing = append(*missing, fmt.Sprintf("column %s.%s differs", c.T.Name, tc.To.Name))
			case *atlasschema.AddIndex:
				*missing = append(*missing, fmt.Sprintf("index %s", tc.I.Name))
			case *atlasschema.ModifyIndex:
				*missing = append(*missing, fmt.Sprintf("index %s differs", tc.To.Name))
			case *atlasschema.AddForeignKey:
				*missing = append(*missing, fmt.Sprintf("foreign key %s", tc.F.Symbol))
			case *atlasschema.ModifyForeignKey:
				*missing = append(*missing, fmt.Sprintf("foreign key %s differs", tc.To.Symbol))
			case *atlasschema.DropForeignKey:
				*extra = append(*extra, fmt.Sprintf("foreign key %s", tc.F.Symbol))
			default:
				*missing = append(*missing, fmt.Sprintf("table %s: %T", c.T.Name, tc))
			}
		}
	default:
		*missing = append(*missing, fmt.Sprintf("%T", c))
	}
}

// replayFirst returns the schema that the first migration creates, made
// where it cannot touch the database's own tables and then thrown away: on
// PostgreSQL in a schema of its own inside a savepoint rolled back after,
// on SQLite in a private in-memory database.
func replayFirst(ctx context.Context, kind backend, tx *sql.Tx, first atlasmigrate.File) (*atlasschema.Schema, error) {
	stmts, err := first.Stmts()
	if err != nil {
		return nil, err
	}
	if kind == backendPostgres {
		const scratch = "webhookd_baseline_check"
		if _, err := tx.ExecContext(ctx, "SAVEPOINT baseline_check"); err != nil {
			return nil, err
		}
		defer func() { _, _ = tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT baseline_check") }()
		if _, err := tx.ExecContext(ctx, "CREATE SCHEMA "+scratch); err != nil {
			// Atlas does not inspect temporary tables, so there is no way
			// around the privilege; it is needed once, for this upgrade.
			return nil, fmt.Errorf("creating the scratch schema %s (this needs the CREATE privilege on the database, once): %w", scratch, err)
		}
		if _, err := tx.ExecContext(ctx, "SET LOCAL search_path TO "+scratch); err != nil {
			return nil, err
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return nil, err
			}
		}
		drv, err := postgres.Open(tx)
		if err != nil {
			return nil, err
		}
		return drv.InspectSchema(ctx, scratch, nil)
	}
	mem, err := sql.Open("sqlite", "file:webhookd-baseline-check?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	mem.SetMaxOpenConns(1) // the in-memory database lives as long as its connection
	for _, s := range stmts {
		if _, err := mem.ExecContext(ctx, s); err != nil {
			return nil, err
		}
	}
	drv, err := sqlite.Open(mem)
	if err != nil {
		return nil, err
	}
	return drv.InspectSchema(ctx, "", nil)
}
