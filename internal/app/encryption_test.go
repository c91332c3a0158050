package app

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEncryptionKeyFile covers the zero-setup default: without
// --encryption-keys a SQLite database gets a key file beside it, owner-only,
// generated once and read back on later starts.
func TestEncryptionKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "webhookd.db")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := Config{DataDir: filepath.Join(dir, "unused")}

	first, err := encryptionKeys(t.Context(), cfg, dbURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, keyFileName)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", mode)
	}
	if !strings.Contains(logs.String(), "generated an encryption key") || !strings.Contains(logs.String(), path) {
		t.Fatalf("the generation was not logged with the file: %s", logs.String())
	}
	content, _ := os.ReadFile(path)

	logs.Reset()
	second, err := encryptionKeys(t.Context(), cfg, dbURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, content) || logs.Len() != 0 {
		t.Fatalf("a second start changed the key file or generated again: %s", logs.String())
	}
	if first.PrimaryID() != second.PrimaryID() {
		t.Fatalf("key ids %s and %s differ", first.PrimaryID(), second.PrimaryID())
	}

	// Configured keys win; PostgreSQL has no file fallback.
	cfg.EncryptionKeys = "op:" + strings.Repeat("A", 43) + "="
	if k, err := encryptionKeys(t.Context(), cfg, dbURL, logger); err != nil || k.PrimaryID() != "op" {
		t.Fatalf("with --encryption-keys: %v, %v", k, err)
	}
	cfg.EncryptionKeys = ""
	if _, err := encryptionKeys(t.Context(), cfg, "postgres://db/webhookd", logger); err == nil || !strings.Contains(err.Error(), "--encryption-keys") {
		t.Fatalf("PostgreSQL without keys: %v", err)
	}
}

func TestSQLiteDir(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"sqlite:///var/lib/webhookd/webhookd.db", "/var/lib/webhookd"},
		{"sqlite://webhookd.db", "."},
		{"file:data/webhookd.db?_pragma=x", "data"},
		{"file::memory:", "datadir"},
	} {
		if got := sqliteDir(tc.url, "datadir"); got != tc.want {
			t.Errorf("sqliteDir(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}
