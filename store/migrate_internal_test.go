package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	atlasschema "ariga.io/atlas/sql/schema"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/migrate/migrations"
	"github.com/webhookd/webhookd/internal/testenv"
)

var discardLogger = slog.New(slog.DiscardHandler)

// migrationBackends name a fresh, empty database of each kind.
var migrationBackends = []struct {
	name string
	kind backend
	url  func(t *testing.T) string
}{
	{"SQLite", backendSQLite, func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "w.db") }},
	{"Postgres", backendPostgres, func(t *testing.T) string { return testenv.PostgresURL(t) }},
}

func openRaw(t *testing.T, kind backend, databaseURL string) *sql.DB {
	t.Helper()
	db, err := openDB(kind, Config{DatabaseURL: databaseURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// schemaCreateMu serialises Schema.Create, which writes Ent's package-level
// table descriptions (ent/migrate.Tables) as it runs: parallel subtests
// calling it at once race on them.
var schemaCreateMu sync.Mutex

// createWithSchemaCreate makes the schema of ent/schema with Ent's
// Schema.Create, as webhookds before versioned migrations did.
func createWithSchemaCreate(t *testing.T, kind backend, db *sql.DB) {
	t.Helper()
	schemaCreateMu.Lock()
	defer schemaCreateMu.Unlock()
	client := ent.NewClient(ent.Driver(entsql.OpenDB(kind.entDialect(), db)))
	if err := client.Schema.Create(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// createLegacy makes the database the last webhookd before versioned
// migrations left: the first migration's schema, which is what its
// Schema.Create made (TestMigrationsMatchSchemaCreate showed it while the
// two were one schema), without a revision table. Schema.Create of today's
// ent/schema would make the newest schema instead, once there is more than
// one migration.
func createLegacy(t *testing.T, kind backend, db *sql.DB) {
	t.Helper()
	first, err := firstMigration(embeddedDir(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := first.Stmts()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// inspect reads the tables of db's current schema, the revision table left out.
func inspect(t *testing.T, kind backend, db *sql.DB) (atlasmigrate.Driver, *atlasschema.Schema) {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	drv, err := atlasDriver(kind, tx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := drv.InspectSchema(t.Context(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Tables = filterTables(s.Tables, func(tb *atlasschema.Table) bool { return tb.Name != revisionTable })
	return drv, s
}

func filterTables(ts []*atlasschema.Table, keep func(*atlasschema.Table) bool) []*atlasschema.Table {
	var out []*atlasschema.Table
	for _, tb := range ts {
		if keep(tb) {
			out = append(out, tb)
		}
	}
	return out
}

func revisions(t *testing.T, kind backend, db *sql.DB) []*atlasmigrate.Revision {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	revs, err := (&revisionStore{tx: tx, kind: kind}).ReadRevisions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return revs
}

func embeddedDir(t *testing.T, kind backend) *atlasmigrate.MemDir {
	t.Helper()
	dir, err := migrations.Dir(kind.entDialect())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func fileVersions(t *testing.T, dir atlasmigrate.Dir) []string {
	t.Helper()
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, f := range files {
		vs = append(vs, f.Version())
	}
	return vs
}

// TestMigrationsMatchSchemaCreate checks that the migrations build the same
// schema that Ent's Schema.Create builds from ent/schema. While there was one
// migration, that showed that a database made by a webhookd before
// versioned migrations is at the first one; since, it shows that the files
// say what ent/schema says, as Schema.Create understood it.
func TestMigrationsMatchSchemaCreate(t *testing.T) {
	t.Parallel()
	for _, b := range migrationBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			migrated := openRaw(t, b.kind, b.url(t))
			if err := migrate(t.Context(), b.kind, migrated, discardLogger, migrateOptions{}); err != nil {
				t.Fatal(err)
			}
			created := openRaw(t, b.kind, b.url(t))
			createWithSchemaCreate(t, b.kind, created)
			drv, want := inspect(t, b.kind, created)
			_, got := inspect(t, b.kind, migrated)
			if len(got.Tables) == 0 {
				t.Fatal("the migrations created no table")
			}
			changes, err := drv.SchemaDiff(got, want)
			if err != nil {
				t.Fatal(err)
			}
			var missing, extra []string
			for _, c := range changes {
				describeChange(c, &missing, &extra)
			}
			if len(changes) > 0 {
				t.Fatalf("the migrations' schema differs from Schema.Create's: lacks %v, has more %v", missing, extra)
			}
		})
	}
}

// TestMigrateBaselinesSchemaCreateDatabase upgrades databases that a
// webhookd before versioned migrations made: one that matches the first
// migration is recorded at it, its rows kept; one with more is too; one
// lacking a column is refused with a message naming it.
func TestMigrateBaselinesSchemaCreateDatabase(t *testing.T) {
	t.Parallel()
	for _, b := range migrationBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name    string
				alter   string // run after Schema.Create
				wantErr string
			}{
				{name: "as made"},
				{name: "an extra column", alter: "ALTER TABLE accounts ADD COLUMN legacy_note text NULL"},
				{name: "a missing column", alter: "ALTER TABLE endpoints DROP COLUMN revision", wantErr: "column endpoints.revision"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					db := openRaw(t, b.kind, b.url(t))
					createLegacy(t, b.kind, db)
					if _, err := db.ExecContext(t.Context(), rebindFor(b.kind, "INSERT INTO accounts (id, display_name, create_time, update_time) VALUES (?, ?, ?, ?)"),
						"acct_legacy", "Legacy Realty", time.Now().UTC(), time.Now().UTC()); err != nil {
						t.Fatal(err)
					}
					if tt.alter != "" {
						if _, err := db.ExecContext(t.Context(), tt.alter); err != nil {
							t.Fatal(err)
						}
					}
					err := migrate(t.Context(), b.kind, db, discardLogger, migrateOptions{})
					if tt.wantErr != "" {
						if err == nil || !strings.Contains(errors.Unwrap(err).Error(), tt.wantErr) {
							t.Fatalf("migrate = %v, want an error naming %q", err, tt.wantErr)
						}
						if has, _ := tableExistsDB(t, b.kind, db, revisionTable); has {
							t.Fatalf("a refused database got a %s table", revisionTable)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					revs := revisions(t, b.kind, db)
					versions := fileVersions(t, embeddedDir(t, b.kind))
					if len(revs) != len(versions) || revs[0].Version != versions[0] || revs[0].Type != atlasmigrate.RevisionTypeBaseline {
						t.Fatalf("revisions %+v, want a baseline at %s then the rest of %v", revs, versions[0], versions)
					}
					var name string
					if err := db.QueryRowContext(t.Context(), "SELECT display_name FROM accounts WHERE id = 'acct_legacy'").Scan(&name); err != nil || name != "Legacy Realty" {
						t.Fatalf("the account after the upgrade: %q, %v", name, err)
					}
					// Started again, there is nothing left to do.
					if err := migrate(t.Context(), b.kind, db, discardLogger, migrateOptions{}); err != nil {
						t.Fatal(err)
					}
					if again := revisions(t, b.kind, db); len(again) != len(revs) {
						t.Fatalf("a second start wrote revisions: %+v", again)
					}
				})
			}
		})
	}
}

func tableExistsDB(t *testing.T, kind backend, db *sql.DB, table string) (bool, error) {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	return tableExists(t.Context(), kind, tx, table)
}

func rebindFor(kind backend, query string) string {
	return (&revisionStore{kind: kind}).bind(query)
}

// laterMigration is a test-only migration after the real ones. On SQLite it
// rebuilds accounts, which every other table refers to with ON DELETE
// CASCADE, the way Atlas writes any change SQLite's ALTER TABLE cannot make:
// create a copy, fill it, drop the old table, rename. With foreign keys
// enforced during the drop, every delivery would go with it.
var laterMigration = map[backend]string{
	backendSQLite: "-- Modify \"accounts\" table\n" +
		"PRAGMA foreign_keys = off;\n" +
		"CREATE TABLE `new_accounts` (`id` text NOT NULL, `display_name` text NOT NULL DEFAULT (''), `test_only_note` text NOT NULL DEFAULT (''), `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, PRIMARY KEY (`id`));\n" +
		"INSERT INTO `new_accounts` (`id`, `display_name`, `create_time`, `update_time`) SELECT `id`, `display_name`, `create_time`, `update_time` FROM `accounts`;\n" +
		"DROP TABLE `accounts`;\n" +
		"ALTER TABLE `new_accounts` RENAME TO `accounts`;\n" +
		"PRAGMA foreign_keys = on;\n",
	backendPostgres: "-- Modify \"accounts\" table\n" +
		"ALTER TABLE \"accounts\" ADD COLUMN \"test_only_note\" character varying NOT NULL DEFAULT '';\n",
}

// withLaterMigration returns the embedded migrations plus laterMigration,
// atlas.sum updated, and the version of the added file.
func withLaterMigration(t *testing.T, kind backend) (*atlasmigrate.MemDir, string) {
	t.Helper()
	dir := embeddedDir(t, kind)
	const version = "29991231235959"
	if err := dir.WriteFile(version+"_test_later.sql", []byte(laterMigration[kind])); err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := atlasmigrate.NewHashFile(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := atlasmigrate.WriteSumFile(dir, sum); err != nil {
		t.Fatal(err)
	}
	return dir, version
}

// insertRows writes an account with an endpoint, an event and a delivery
// in the schema of the first migration.
func insertRows(t *testing.T, kind backend, db *sql.DB) {
	t.Helper()
	now := time.Now().UTC()
	for _, row := range []struct {
		query string
		args  []any
	}{
		{"INSERT INTO accounts (id, display_name, create_time, update_time) VALUES (?, ?, ?, ?)",
			[]any{"acct_1", "Acme Realty", now, now}},
		{"INSERT INTO endpoints (id, url, event_types, secret, create_time, update_time, account_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
			[]any{"ep_1", "https://example.com/hook", `["property.created"]`, "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", now, now, "acct_1"}},
		{"INSERT INTO events (id, type, data, create_time, account_id) VALUES (?, ?, ?, ?, ?)",
			[]any{"evt_1", "property.created", []byte(`{"id":"prop_1"}`), now, "acct_1"}},
		{"INSERT INTO deliveries (id, event_type, create_time, update_time, account_id, endpoint_id, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
			[]any{"dlv_1", "property.created", now, now, "acct_1", "ep_1", "evt_1"}},
	} {
		if _, err := db.ExecContext(t.Context(), rebindFor(kind, row.query), row.args...); err != nil {
			t.Fatalf("%s: %v", row.query, err)
		}
	}
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrateLaterMigrationKeepsData starts from a database at the first
// migration with rows in it and applies a later migration that rebuilds the
// table all others refer to: the rows stay, and the revisions record both.
func TestMigrateLaterMigrationKeepsData(t *testing.T) {
	t.Parallel()
	for _, b := range migrationBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dir, later := withLaterMigration(t, b.kind)
			versions := fileVersions(t, dir)
			db := openRaw(t, b.kind, b.url(t))
			if err := migrate(t.Context(), b.kind, db, discardLogger, migrateOptions{dir: dir, toVersion: versions[0]}); err != nil {
				t.Fatal(err)
			}
			if revs := revisions(t, b.kind, db); len(revs) != 1 || revs[0].Version != versions[0] {
				t.Fatalf("migrating to %s wrote revisions %+v", versions[0], revs)
			}
			insertRows(t, b.kind, db)
			if err := migrate(t.Context(), b.kind, db, discardLogger, migrateOptions{dir: dir}); err != nil {
				t.Fatal(err)
			}
			revs := revisions(t, b.kind, db)
			if len(revs) != len(versions) || revs[len(revs)-1].Version != later || revs[len(revs)-1].Applied != revs[len(revs)-1].Total {
				t.Fatalf("revisions %+v, want all of %v applied", revs, versions)
			}
			for _, table := range []string{"accounts", "endpoints", "events", "deliveries"} {
				if n := countRows(t, db, table); n != 1 {
					t.Errorf("%s has %d rows after the migration, want 1", table, n)
				}
			}
			var note string
			if err := db.QueryRowContext(t.Context(), "SELECT test_only_note FROM accounts").Scan(&note); err != nil {
				t.Fatalf("the later migration's column: %v", err)
			}
			// Foreign keys are enforced again afterwards.
			if _, err := db.ExecContext(t.Context(), rebindFor(b.kind, "INSERT INTO events (id, type, data, create_time, account_id) VALUES (?, ?, ?, ?, ?)"),
				"evt_orphan", "property.created", []byte(`{}`), time.Now().UTC(), "acct_missing"); err == nil {
				t.Fatal("an event of a missing account was accepted after the migration")
			}
		})
	}
}

// TestMigrateConcurrentStarts starts several webhookds on one new database
// at once: each migration is applied once, and every start succeeds.
func TestMigrateConcurrentStarts(t *testing.T) {
	t.Parallel()
	for _, b := range migrationBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dir, _ := withLaterMigration(t, b.kind)
			databaseURL := b.url(t)
			const starts = 4
			dbs := make([]*sql.DB, starts)
			for i := range dbs {
				dbs[i] = openRaw(t, b.kind, databaseURL)
			}
			var wg sync.WaitGroup
			errs := make([]error, starts)
			for i, db := range dbs {
				wg.Go(func() {
					// Each start gets a copy: a MemDir is not safe for concurrent use.
					d, _ := withLaterMigration(t, b.kind)
					errs[i] = migrate(context.Background(), b.kind, db, discardLogger, migrateOptions{dir: d})
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("start %d: %v", i, err)
				}
			}
			if revs := revisions(t, b.kind, dbs[0]); len(revs) != len(fileVersions(t, dir)) {
				t.Fatalf("revisions %+v, want one per file", revs)
			}
		})
	}
}

// TestMigrateRefusesEditedMigration: a migration file changed after it was
// generated no longer matches atlas.sum, and webhookd does not start on it.
func TestMigrateRefusesEditedMigration(t *testing.T) {
	t.Parallel()
	dir := embeddedDir(t, backendSQLite)
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.WriteFile(files[0].Name(), append(files[0].Bytes(), "CREATE TABLE `sneaked_in` (`id` text);\n"...)); err != nil {
		t.Fatal(err)
	}
	db := openRaw(t, backendSQLite, "sqlite://"+filepath.Join(t.TempDir(), "w.db"))
	err = migrate(t.Context(), backendSQLite, db, discardLogger, migrateOptions{dir: dir})
	if !errors.Is(err, atlasmigrate.ErrChecksumMismatch) {
		t.Fatalf("migrate = %v, want %v", err, atlasmigrate.ErrChecksumMismatch)
	}
}

// TestMigrateToUnknownVersion: a version no file has is refused before
// anything is applied, rather than taken as "all".
func TestMigrateToUnknownVersion(t *testing.T) {
	t.Parallel()
	db := openRaw(t, backendSQLite, "sqlite://"+filepath.Join(t.TempDir(), "w.db"))
	err := migrate(t.Context(), backendSQLite, db, discardLogger, migrateOptions{toVersion: "20000101000000"})
	var invalid *webhookd.Error
	if !errors.As(err, &invalid) || invalid.Kind != webhookd.KindInvalid {
		t.Fatalf("migrate = %v, want Invalid", err)
	}
	if has, _ := tableExistsDB(t, backendSQLite, db, legacyProbeTable); has {
		t.Fatal("tables were created for an unknown version")
	}
}
