package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// PostgresBinVar names the directory of PostgreSQL's initdb, pg_ctl and
// postgres, for tests that run a cluster of their own. Unset, the newest
// /usr/lib/postgresql/*/bin (Debian's layout) is used, then $PATH.
const PostgresBinVar = "WEBHOOKD_TEST_POSTGRES_BIN"

// PostgresServer is a private PostgreSQL cluster on a free loopback port,
// for a test that stops and restarts the database under a running webhookd.
// The shared server of PostgresURL must never be stopped, so such tests
// start one of these instead. It is removed when the test ends.
type PostgresServer struct {
	// URL connects to the cluster's postgres database as the superuser,
	// e.g. postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable.
	URL  string
	Port int

	bin, dir, data string
	asPostgres     bool // running as root: the tools run as the postgres user
}

// ErrNoPostgresBinaries is returned by NewPostgresServer where PostgreSQL's
// initdb and pg_ctl cannot be found.
var ErrNoPostgresBinaries = errors.New("no PostgreSQL binaries (initdb, pg_ctl): install PostgreSQL or set " + PostgresBinVar)

// StartPostgresServer initialises and starts a private cluster. Without
// PostgreSQL's binaries it skips t, or fails it in CI.
func StartPostgresServer(t testing.TB) *PostgresServer {
	t.Helper()
	s, err := NewPostgresServer()
	if errors.Is(err, ErrNoPostgresBinaries) {
		msg := "no PostgreSQL binaries (initdb, pg_ctl): this test runs a PostgreSQL cluster of its own; " +
			"install PostgreSQL or set " + PostgresBinVar + " (make test does both)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so integration tests must not be skipped)")
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// NewPostgresServer initialises and starts a private cluster outside a test,
// for tools that need a throwaway database (the migration generator's dev
// database). Close stops it and removes its files.
func NewPostgresServer() (_ *PostgresServer, err error) {
	bin := postgresBin()
	if bin == "" {
		return nil, ErrNoPostgresBinaries
	}
	s := &PostgresServer{bin: bin, asPostgres: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "webhookd-pg-")
	if err != nil {
		return nil, err
	}
	s.dir, s.data = dir, filepath.Join(dir, "data")
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.asPostgres {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, but there is no postgres user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := s.run(filepath.Join(bin, "initdb"), "-D", s.data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if s.Port, err = freePort(); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"max_connections = 100\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n", s.Port, dir)
	if err := appendFile(filepath.Join(s.data, "postgresql.conf"), conf); err != nil {
		return nil, err
	}
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the cluster, if it runs, and removes its files.
func (s *PostgresServer) Close() {
	if _, err := os.Stat(filepath.Join(s.data, "postmaster.pid")); err == nil {
		_ = s.pgCtl("-m", "immediate", "stop")
	}
	_ = os.RemoveAll(s.dir)
}

// Start starts the stopped cluster and waits until it accepts connections.
func (s *PostgresServer) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

func (s *PostgresServer) start() error {
	if err := s.pgCtl("-l", filepath.Join(s.dir, "server.log"), "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("pg_ctl start: %w\n%s", err, log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", s.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	for db.PingContext(ctx) != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("PostgreSQL on port %d did not answer within 30s", s.Port)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// Stop shuts the cluster down the way an operator's restart does: "fast"
// mode ends every session (clients see SQLSTATE 57P01) and refuses new ones.
func (s *PostgresServer) Stop(t testing.TB) {
	t.Helper()
	if err := s.pgCtl("-m", "fast", "-t", "60", "stop"); err != nil {
		t.Fatalf("pg_ctl stop: %v", err)
	}
}

func (s *PostgresServer) pgCtl(args ...string) error {
	out, err := s.run(filepath.Join(s.bin, "pg_ctl"), append([]string{"-D", s.data, "-w"}, args...)...)
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// run runs a PostgreSQL tool, as the postgres user when running as root.
func (s *PostgresServer) run(name string, args ...string) ([]byte, error) {
	if s.asPostgres {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir // a directory the postgres user may enter
	return cmd.CombinedOutput()
}

// postgresBin finds the directory of initdb and pg_ctl, or returns "".
func postgresBin() string {
	if dir := os.Getenv(PostgresBinVar); dir != "" {
		return dir
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) }) // newest first
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(initdb)
	}
	return ""
}

// versionOf reads the major version of /usr/lib/postgresql/<major>/bin.
func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
