package store

import (
	"cmp"
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the pure-Go "sqlite" database/sql driver

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
)

// Config says which database to open.
type Config struct {
	// DatabaseURL is the --database-url setting:
	//   - sqlite:///abs/path/file.db, sqlite://relative/file.db or a file:
	//     URI open a SQLite file (created when missing);
	//   - postgres://… or postgresql://… open PostgreSQL (a libpq URL as
	//     pgx understands it, e.g. ?sslmode=disable).
	DatabaseURL string
	// Logger receives start-up messages; nil discards them.
	Logger *slog.Logger
	// Secrets seals endpoint signing secrets at rest (see Keyring). Nil
	// means a random key that lives as long as the Store: secrets written
	// cannot be read after Close or by another process. Only tests want
	// that; webhookd always passes the operator's keys.
	Secrets *Keyring
	// MaxConns bounds the PostgreSQL connections this process opens (0
	// means DefaultMaxConns). SQLite always uses one.
	MaxConns int
}

// DefaultMaxConns is Config.MaxConns when unset: more than a process's
// database work needs at once (API calls, two publish batches, the
// engine's loads and records), fewer than would let a few processes use up
// PostgreSQL's default 100 connections.
const DefaultMaxConns = 32

// Validate reports a missing or unsupported database URL, naming the setting.
func (c Config) Validate() error {
	if c.DatabaseURL == "" {
		return webhookd.Invalid("database-url", "is required (sqlite:///path/file.db or postgres://…)")
	}
	kind, err := backendOf(c.DatabaseURL)
	if err != nil {
		return err
	}
	switch kind {
	case backendSQLite:
		path, query := sqlitePath(c.DatabaseURL)
		if path == "" || path == "file:" {
			return webhookd.Invalid("database-url", "names no SQLite file")
		}
		if _, err := url.ParseQuery(query); err != nil {
			return webhookd.Invalid("database-url", "malformed query: %v", err)
		}
	case backendPostgres:
		// pgx's own parser, so that what it would refuse at connect time is
		// refused before webhookd starts; its errors hide the password.
		if _, err := pgx.ParseConfig(c.DatabaseURL); err != nil {
			return webhookd.Invalid("database-url", "%v", err)
		}
	}
	if c.MaxConns < 0 {
		return webhookd.Invalid("database-max-conns", "must not be negative")
	}
	return nil
}

type backend int

const (
	backendSQLite backend = iota + 1
	backendPostgres
)

func backendOf(databaseURL string) (backend, error) {
	scheme, _, ok := strings.Cut(databaseURL, ":")
	if !ok {
		scheme = ""
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "file":
		return backendSQLite, nil
	case "postgres", "postgresql":
		return backendPostgres, nil
	}
	return 0, webhookd.Invalid("database-url", "unsupported scheme %q: want sqlite://, file: or postgres://", scheme)
}

// Open connects to the database named by cfg, brings its schema up to date
// and returns a Store over it. Close it when done.
func Open(ctx context.Context, cfg Config) (Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := loggerOf(cfg)
	kind, _ := backendOf(cfg.DatabaseURL)
	db, err := openDB(kind, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, classifyUnreachable(err)
	}
	if err := migrate(ctx, kind, db, logger, migrateOptions{}); err != nil {
		_ = db.Close()
		return nil, err
	}
	driverDialect := kind.entDialect()
	client := ent.NewClient(ent.Driver(entsql.OpenDB(driverDialect, db)))
	logger.InfoContext(ctx, "database ready", "backend", driverDialect)
	secrets := cfg.Secrets
	if secrets == nil {
		entry, _ := GenerateKeyEntry("ephemeral")
		secrets, _ = ParseKeyring(entry)
	}
	s := &entStore{client: client, db: db, dialect: driverDialect, secrets: secrets, logger: logger}
	switch kind {
	case backendSQLite:
		s.paths = portablePaths{client: client, publisher: newSQLitePublishBatcher(client)}
	case backendPostgres:
		counts := &subscriberCounts{}
		s.paths = &postgresPaths{client: client, db: db, subscribers: counts, publisher: newPublishBatcher(db, counts)}
	}
	return s, nil
}

func loggerOf(cfg Config) *slog.Logger {
	if cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return cfg.Logger
}

// openDB opens the database of cfg, without connecting yet.
func openDB(kind backend, cfg Config) (*sql.DB, error) {
	if kind == backendPostgres {
		return openPostgres(cfg.DatabaseURL, cmp.Or(cfg.MaxConns, DefaultMaxConns))
	}
	return openSQLite(cfg.DatabaseURL)
}

func classifyUnreachable(err error) error {
	return webhookd.Unavailable("database unreachable", err)
}

// openSQLite opens a SQLite file through modernc.org/sqlite, which needs no
// cgo, so the default build is one static binary.
func openSQLite(databaseURL string) (*sql.DB, error) {
	path, query := sqlitePath(databaseURL)
	if path == "" || path == "file:" {
		return nil, webhookd.Invalid("database-url", "names no SQLite file")
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, webhookd.Invalid("database-url", "malformed query: %v", err)
	}
	// Our pragmas come first so that ones given in the URL, run later, win.
	pragmas := []string{
		"foreign_keys(1)",     // enforce the schema's ON DELETE CASCADE
		"journal_mode(WAL)",   // readers do not block the writer
		"busy_timeout(10000)", // wait for another process's lock instead of failing
		"synchronous(NORMAL)", // durable enough with WAL, much faster than FULL
	}
	params["_pragma"] = append(pragmas, params["_pragma"]...)
	if params.Get("_time_format") == "" {
		// A fixed-width-ish UTC format that compares correctly as text, so
		// time-range filters in SQL mean what they say.
		params.Set("_time_format", "sqlite")
	}
	if params.Get("_txlock") == "" {
		// Take the write lock at BEGIN: a deferred transaction that upgrades
		// from reader to writer can fail with SQLITE_BUSY regardless of
		// busy_timeout when another process writes.
		params.Set("_txlock", "immediate")
	}
	db, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, webhookd.Invalid("database-url", "cannot open SQLite: %v", err)
	}
	// SQLite has one writer at a time. With a single connection, concurrent
	// callers queue in database/sql instead of contending for the file lock
	// and surfacing SQLITE_BUSY, and a transaction never waits on another
	// connection of the same process. The embedded mode serves one process
	// of modest load; PostgreSQL is the answer beyond that.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// sqlitePath splits a SQLite URL into the file (or file: URI) and the query.
func sqlitePath(databaseURL string) (path, query string) {
	path, query, _ = strings.Cut(databaseURL, "?")
	if rest, ok := strings.CutPrefix(path, "sqlite://"); ok {
		path = rest // "/abs/file.db" from sqlite:///abs/file.db, "rel.db" from sqlite://rel.db
	} else if strings.HasPrefix(strings.ToLower(path), "sqlite:") {
		path = path[len("sqlite:"):]
	}
	return path, query
}

func openPostgres(databaseURL string, maxConns int) (*sql.DB, error) {
	db, err := sql.Open("pgx", withConnectTimeout(databaseURL))
	if err != nil {
		return nil, webhookd.Invalid("database-url", "malformed PostgreSQL URL")
	}
	// database/sql keeps only 2 idle connections by default, so a busy
	// process would reconnect (TLS, auth, a new backend process) on most
	// queries. The idle pool holds as many connections as may be open, or
	// every burst closes and reopens the surplus: with 10, make bench spent
	// most of its time in connection setup. The bound on open connections
	// makes callers queue for one rather than open more: without it, every
	// request waiting while PostgreSQL restarts dials at once when it is
	// back, and the reconnection storm delays its recovery.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// defaultConnectTimeout bounds a new PostgreSQL connection (connect_timeout
// in seconds) unless the URL sets its own. Without it, a database host that
// drops packets would hold every API call and worker for the operating
// system's TCP timeout, minutes, instead of answering UNAVAILABLE.
const defaultConnectTimeout = "3"

// withConnectTimeout adds connect_timeout to a postgres:// URL without one.
func withConnectTimeout(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL // sql.Open reports it
	}
	q := u.Query()
	if q.Get("connect_timeout") != "" {
		return databaseURL
	}
	q.Set("connect_timeout", defaultConnectTimeout)
	u.RawQuery = q.Encode()
	return u.String()
}
