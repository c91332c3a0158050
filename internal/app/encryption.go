package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/webhookd/webhookd/store"
)

// This file chooses the keys that encrypt endpoint secrets at rest.
//
// With --encryption-keys (WEBHOOKD_ENCRYPTION_KEYS) the operator's keys are
// used. Without it, a SQLite database keeps the zero-setup default: a key is
// generated once into a file beside the database (keyFileName, mode 0600)
// and read from there on later starts. A key next to the data protects less
// than one kept elsewhere, but still keeps secrets out of copies of the
// database file alone, and it is what one command with no flags can do.
// PostgreSQL has no such place — its data lives on another machine and many
// processes share it — so it refuses to start without keys (Validate).

// keyFileName is the key file of a SQLite database without --encryption-keys.
const keyFileName = "encryption-keys"

// reencryptBatch is how many endpoints a start re-encrypts per query.
const reencryptBatch = 500

// isPostgres reports whether databaseURL names PostgreSQL.
func isPostgres(databaseURL string) bool {
	u := strings.ToLower(databaseURL)
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// sqliteDir is the directory of the SQLite database file of dbURL, where its
// key file lives.
func sqliteDir(dbURL, dataDir string) string {
	path, _, _ := strings.Cut(dbURL, "?")
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			path = rest
			break
		}
	}
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return dataDir
	}
	return filepath.Dir(path)
}

// encryptionKeys returns the keyring of this process (see the file comment).
func encryptionKeys(ctx context.Context, cfg Config, dbURL string, logger *slog.Logger) (*store.Keyring, error) {
	if cfg.EncryptionKeys != nil {
		return cfg.EncryptionKeys, nil
	}
	if isPostgres(dbURL) {
		return nil, errors.New(missingKeysMessage)
	}
	path := filepath.Join(sqliteDir(dbURL, cfg.DataDir), keyFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return generateKeyFile(ctx, path, logger)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the encryption key file: %w", err)
	}
	keys, err := store.ParseKeyring(string(data))
	if err != nil {
		return nil, fmt.Errorf("encryption key file %s: %w", path, err)
	}
	return keys, nil
}

const missingKeysMessage = "--encryption-keys (WEBHOOKD_ENCRYPTION_KEYS): required with a PostgreSQL --database-url, " +
	"to encrypt endpoint secrets at rest; give every process the same keys, e.g. " +
	`WEBHOOKD_ENCRYPTION_KEYS="k1:$(openssl rand -base64 32)"`

// generateKeyFile writes a fresh key to path, readable by its owner only,
// and returns it. O_EXCL: two processes starting at once on one SQLite file
// cannot both write one; the loser reads the winner's.
func generateKeyFile(ctx context.Context, path string, logger *slog.Logger) (*store.Keyring, error) {
	id := "k" + time.Now().UTC().Format("20060102")
	entry, err := store.GenerateKeyEntry(id)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("encryption key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the encryption key file: %w", err)
		}
		return store.ParseKeyring(string(data))
	}
	if err != nil {
		return nil, fmt.Errorf("writing the encryption key file: %w", err)
	}
	content := "# webhookd: keys that encrypt endpoint secrets at rest, the first encrypts (see --encryption-keys).\n" +
		"# Back it up with the database: without it, stored secrets cannot be read.\n" + entry + "\n"
	if _, err := f.WriteString(content); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("writing the encryption key file: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("writing the encryption key file: %w", err)
	}
	logger.InfoContext(ctx, "generated an encryption key for endpoint secrets; back it up with the database", "file", path, "key", id)
	return store.ParseKeyring(entry)
}

// reencryptSecrets seals, on every start, whatever the first key did not:
// plaintext rows of older versions, and rows under a key being rotated out.
func reencryptSecrets(ctx context.Context, st store.Reencrypter, keys *store.Keyring, logger *slog.Logger) error {
	n, err := st.ReencryptSecrets(ctx, reencryptBatch)
	if err != nil {
		return fmt.Errorf("re-encrypting endpoint secrets: %w", err)
	}
	if n > 0 {
		logger.InfoContext(ctx, "re-encrypted endpoint secrets", "endpoints", n, "key", keys.PrimaryID())
	}
	return nil
}
