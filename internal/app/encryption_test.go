package app

import (
	"bytes"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
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
	if cfg.EncryptionKeys, err = store.ParseKeyring("op:" + strings.Repeat("A", 43) + "="); err != nil {
		t.Fatal(err)
	}
	if k, err := encryptionKeys(t.Context(), cfg, dbURL, logger); err != nil || k.PrimaryID() != "op" {
		t.Fatalf("with --encryption-keys: %v, %v", k, err)
	}
	cfg.EncryptionKeys = nil
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

// TestStartReencrypts is what a start does with the secrets already stored:
// plaintext rows of an older version and rows under a key being rotated out
// are re-encrypted under the first key; a start without a key that sealed a
// row fails, naming that key.
func TestStartReencrypts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dbPath := filepath.Join(t.TempDir(), "webhookd.db")
	dbURL := "sqlite://" + dbPath
	k1, _ := store.GenerateKeyEntry("k1")
	k2, _ := store.GenerateKeyEntry("k2")
	start := func(keys string) (store.Store, error) {
		t.Helper()
		configured, err := store.ParseKeyring(keys)
		if err != nil {
			t.Fatal(err)
		}
		keyring, err := encryptionKeys(ctx, Config{EncryptionKeys: configured}, dbURL, logger)
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(ctx, store.Config{DatabaseURL: dbURL, Secrets: keyring})
		if err != nil {
			t.Fatal(err)
		}
		if err := reencryptSecrets(ctx, st, keyring, logger); err != nil {
			_ = st.Close()
			return nil, err
		}
		return st, nil
	}
	raw := func(id string) string {
		t.Helper()
		db, err := sql.Open("sqlite", dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var secret string
		if err := db.QueryRowContext(ctx, "SELECT secret FROM endpoints WHERE id = ?", id).Scan(&secret); err != nil {
			t.Fatal(err)
		}
		return secret
	}

	st, err := start(k1)
	if err != nil {
		t.Fatal(err)
	}
	ids := webhookd.NewIDGenerator(nil)
	now := time.Now()
	acct := &webhookd.Account{ID: ids.New(webhookd.PrefixAccount), CreateTime: now, UpdateTime: now}
	sealed := &webhookd.Endpoint{ID: ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: "https://example.com",
		Secret: webhookd.NewEndpointSecret(), CreateTime: now, UpdateTime: now}
	legacy := &webhookd.Endpoint{ID: ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: "https://example.com",
		Secret: webhookd.NewEndpointSecret(), CreateTime: now, UpdateTime: now}
	for _, err := range []error{st.CreateAccount(ctx, acct), st.CreateEndpoint(ctx, sealed, 0), st.CreateEndpoint(ctx, legacy, 0)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close()
	// As a version before encryption left it.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE endpoints SET secret = ? WHERE id = ?", legacy.Secret, legacy.ID); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	st, err = start(k2 + "," + k1)
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range []*webhookd.Endpoint{sealed, legacy} {
		if got := raw(ep.ID); !strings.HasPrefix(got, "v1:k2:") {
			t.Fatalf("after a start with k2 first, %s is stored as %q", ep.ID, got)
		}
		got, err := st.GetEndpoint(ctx, acct.ID, ep.ID)
		if err != nil || got.Secret != ep.Secret {
			t.Fatalf("GetEndpoint(%s) = %v, %v", ep.ID, got, err)
		}
	}
	_ = st.Close()

	if _, err := start(k1); err == nil || !strings.Contains(err.Error(), `key "k2"`) {
		t.Fatalf("a start without k2 = %v; want an error naming k2", err)
	}
}
