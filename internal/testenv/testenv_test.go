package testenv

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestPostgresURLMakesAndDropsADatabase(t *testing.T) {
	var dbURL string
	t.Run("User", func(t *testing.T) {
		dbURL = PostgresURL(t)
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var name string
		if err := db.QueryRowContext(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatalf("connecting to the test database: %v", err)
		}
		if !strings.HasPrefix(name, "webhookd_test_") {
			t.Errorf("connected to %q, want a webhookd_test_ database", name)
		}
	})
	if dbURL == "" {
		t.Skip("no PostgreSQL server")
	}
	u, _ := url.Parse(dbURL)
	admin, err := sql.Open("pgx", os.Getenv(PostgresURLVar))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", strings.TrimPrefix(u.Path, "/")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test ended", u.Path)
	}
}

func TestUniqueName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z0-9_]+$`)
	seen := map[string]bool{}
	for range 20 {
		name := uniqueName(t, "webhookd_test_", 63)
		if len(name) > 63 || !valid.MatchString(name) || seen[name] {
			t.Fatalf("uniqueName = %q: want <= 63 bytes of [a-z0-9_], never repeated", name)
		}
		seen[name] = true
	}
	t.Run(strings.Repeat("Very Long/Name-", 10), func(t *testing.T) {
		if name := uniqueName(t, "webhookd_test_", 63); len(name) > 63 || !valid.MatchString(name) {
			t.Errorf("uniqueName = %q", name)
		}
	})
}

func TestRedisKeyPrefixIsUnique(t *testing.T) {
	t.Parallel()
	if a, b := RedisKeyPrefix(t), RedisKeyPrefix(t); a == b || !strings.HasPrefix(a, "test:") || !strings.HasSuffix(a, ":") {
		t.Errorf("RedisKeyPrefix = %q, %q; want distinct test:…: prefixes", a, b)
	}
}
