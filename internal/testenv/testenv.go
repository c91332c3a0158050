// Package testenv gives integration tests the real servers they need:
// a fresh PostgreSQL database per test and the address of a Redis server.
//
// The servers are named by environment variables, which `make test` and CI
// set after starting the servers on loopback:
//
//	WEBHOOKD_TEST_POSTGRES_URL  a PostgreSQL URL whose user may CREATE DATABASE,
//	                            e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//	WEBHOOKD_TEST_REDIS_URL     a Redis URL, e.g. redis://127.0.0.1:6379/0
//	WEBHOOKD_TEST_REDIS_SERVER  the path of a redis-server binary, for tests
//	                            that start, flush, kill and restart their own
//
// Where a variable is unset a test that needs it is skipped, so that
// `go test ./...` works on a laptop with nothing installed. In CI (env CI
// non-empty) it fails instead: there a missing server is a broken pipeline,
// and a skipped integration test would let untested code land looking green.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

const (
	// PostgresURLVar names the PostgreSQL server integration tests use.
	PostgresURLVar = "WEBHOOKD_TEST_POSTGRES_URL"
	// RedisURLVar names the Redis server integration tests use.
	RedisURLVar = "WEBHOOKD_TEST_REDIS_URL"
	// RedisServerVar names the redis-server binary of tests that run their own.
	RedisServerVar = "WEBHOOKD_TEST_REDIS_SERVER"
)

// requireEnv returns the value of name, or skips t (fails it in CI) when unset.
func requireEnv(t testing.TB, name, what string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	msg := name + " is not set: this test needs a " + what +
		" server; run `make test`, which starts one on loopback and sets the variable"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so integration tests must not be skipped)")
	}
	t.Skip(msg)
	return ""
}

// PostgresURL creates an empty database, unique to t, on the server named by
// WEBHOOKD_TEST_POSTGRES_URL and returns its URL. The database is dropped
// when t ends, so tests may run in parallel without seeing each other's rows.
func PostgresURL(t testing.TB) string {
	t.Helper()
	serverURL := requireEnv(t, PostgresURLVar, "PostgreSQL")
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLVar, err)
	}
	name := uniqueName(t, "webhookd_test_", 63) // PostgreSQL's identifier limit

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLVar, err)
	}
	defer admin.Close()
	quoted := pgx.Identifier{name}.Sanitize()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+quoted); err != nil {
		t.Fatalf("creating test database on %s: %v", PostgresURLVar, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := sql.Open("pgx", serverURL)
		if err != nil {
			t.Errorf("dropping test database: %v", err)
			return
		}
		defer admin.Close()
		// FORCE ends connections a test forgot to close (PostgreSQL 13+).
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})

	u.Path = "/" + name
	return u.String()
}

// RedisURL returns the Redis server named by WEBHOOKD_TEST_REDIS_URL.
//
// Tests share that server and its database number: none may FLUSHDB. Each
// test isolates itself by putting RedisKeyPrefix(t) in front of every key
// it makes (inside any {hash tag}, so Cluster slots stay as designed).
func RedisURL(t testing.TB) string {
	t.Helper()
	return requireEnv(t, RedisURLVar, "Redis")
}

// RedisServer returns the redis-server binary named by
// WEBHOOKD_TEST_REDIS_SERVER, for tests that need a Redis of their own: one
// they may flush, kill and restart without disturbing the shared server.
func RedisServer(t testing.TB) string {
	t.Helper()
	path := requireEnv(t, RedisServerVar, "private Redis")
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s=%s: not an executable file (%v)", RedisServerVar, path, err)
	}
	return path
}

// RedisKeyPrefix returns a key prefix unique to t, such as
// "test:testscheduler_claim_3f9a1c2b:", for tests sharing one Redis server.
func RedisKeyPrefix(t testing.TB) string {
	t.Helper()
	return "test:" + uniqueName(t, "", 80) + ":"
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// uniqueName is prefix, a readable trace of t's name and random hex, at most
// max bytes long, made of [a-z0-9_] only.
func uniqueName(t testing.TB, prefix string, max int) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random name: %v", err)
	}
	suffix := "_" + hex.EncodeToString(b[:])
	readable := unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if room := max - len(prefix) - len(suffix); len(readable) > room {
		readable = readable[:room]
	}
	return prefix + readable + suffix
}
