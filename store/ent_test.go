package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/store/storetest"
)

func openForTest(t *testing.T, databaseURL string) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{DatabaseURL: databaseURL})
	if err != nil {
		t.Fatalf("Open(%s): %v", databaseURL, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return openForTest(t, "sqlite://"+filepath.Join(t.TempDir(), "webhookd.db"))
	})
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return openForTest(t, testenv.PostgresURL(t))
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url     string
		wantErr bool
	}{
		{"sqlite:///var/lib/webhookd/webhookd.db", false},
		{"sqlite://webhookd.db", false},
		{"file:webhookd.db?cache=shared", false},
		{"postgres://u@db:5432/webhookd", false},
		{"postgresql://u@db/webhookd?sslmode=disable", false},
		{"", true},
		{"mysql://u@db/webhookd", true},
		{"webhookd.db", true},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			t.Parallel()
			err := store.Config{DatabaseURL: c.url}.Validate()
			if (err != nil) != c.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, c.wantErr)
			}
			if err == nil {
				return
			}
			if webhookd.KindOf(err) != webhookd.KindInvalid || !strings.Contains(err.Error(), "database-url") {
				t.Errorf("Validate() = %v; want an invalid-argument error naming database-url", err)
			}
		})
	}
}

func TestOpenSQLiteURLForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, url := range map[string]string{
		"Absolute":    "sqlite://" + filepath.Join(dir, "abs.db"),
		"FileURI":     "file:" + filepath.Join(dir, "uri.db"),
		"ExtraPragma": "sqlite://" + filepath.Join(dir, "pragma.db") + "?_pragma=cache_size(-4000)",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := openForTest(t, url)
			if err := s.Ping(context.Background()); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}

func TestOpenUnreachablePostgresIsUnavailable(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback refuses connections at once.
	_, err := store.Open(context.Background(), store.Config{DatabaseURL: "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"})
	if webhookd.KindOf(err) != webhookd.KindUnavailable {
		t.Fatalf("Open = %v; want kind unavailable", err)
	}
	var domain *webhookd.Error
	if !errors.As(err, &domain) || strings.Contains(domain.Message, "127.0.0.1") {
		t.Errorf("message %q leaks connection detail", domain.Message)
	}
}
