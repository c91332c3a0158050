package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/webhookd/webhookd"
)

// This file encrypts endpoint signing secrets at rest. A secret must be
// readable by webhookd (it signs every request with it), so it cannot be
// hashed like an API key; instead it is sealed with AES-256-GCM under a key
// the operator configures (--encryption-keys), so that a copy of the database
// — a backup, a replica, a leaked dump — does not hand out the means to forge
// webhooks.
//
// The stored form names its key, v1:<key id>:<base64(nonce | ciphertext)>,
// so keys can be rotated: the first key of the keyring seals, every key
// opens, and ReencryptSecrets rewrites rows sealed with an older key (or
// stored in plaintext by a version before encryption) under the first one.
// The endpoint id and the column are authenticated data: a sealed value
// copied into another row or column does not open.

// sealedPrefix starts every sealed value. Plaintext secrets start with
// whsec_, so the two forms cannot be confused.
const sealedPrefix = "v1:"

// SecretKey is one key of a Keyring: an id the operator chooses (stored with
// every value it seals) and 32 bytes of AES-256 key.
type SecretKey struct {
	ID  string
	Key []byte
}

// Keyring seals endpoint secrets with its first key and opens them with any
// of its keys. It is safe for concurrent use.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
	ids     []string
}

// NewKeyring returns a keyring over keys; the first one seals.
func NewKeyring(keys ...SecretKey) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("no encryption key")
	}
	k := &Keyring{primary: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, key := range keys {
		if err := checkKeyID(key.ID); err != nil {
			return nil, err
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("key id %q appears twice", key.ID)
		}
		if len(key.Key) != 32 {
			return nil, fmt.Errorf("key %q: want 32 bytes (AES-256), got %d", key.ID, len(key.Key))
		}
		block, err := aes.NewCipher(key.Key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
		k.ids = append(k.ids, key.ID)
	}
	return k, nil
}

func checkKeyID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("key id %q: want 1 to 64 characters", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("key id %q: use only letters, digits, '-', '_' and '.'", id)
		}
	}
	return nil
}

// ParseKeyring reads the --encryption-keys form: entries id:base64key
// separated by commas or whitespace (newlines in a key file), the first
// sealing. The key is 32 bytes in standard or URL-safe base64, padded or not.
// Lines starting with # are comments.
func ParseKeyring(s string) (*Keyring, error) {
	var keys []SecretKey
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, entry := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			n++
			id, encoded, ok := strings.Cut(entry, ":")
			if !ok {
				// Not even a prefix of the entry: it may be key material.
				return nil, fmt.Errorf("entry %d: want id:base64key", n)
			}
			key, err := decodeKey(encoded)
			if err != nil {
				return nil, fmt.Errorf("key %q: %v", id, err)
			}
			keys = append(keys, SecretKey{ID: id, Key: key})
		}
	}
	return NewKeyring(keys...)
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("want 32 bytes of key (44 characters of base64), got %d bytes", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// GenerateKeyEntry returns a fresh key in the --encryption-keys form,
// id:base64key, for id.
func GenerateKeyEntry(id string) (string, error) {
	if err := checkKeyID(id); err != nil {
		return "", err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	return id + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// PrimaryID is the id of the key that seals.
func (k *Keyring) PrimaryID() string { return k.primary }

// IDs lists the key ids, the sealing one first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// secretAAD binds a sealed value to its row and column.
func secretAAD(endpointID, column string) []byte {
	return []byte("webhookd endpoint secret\x00" + endpointID + "\x00" + column)
}

// seal returns the stored form of plaintext; "" (no secret) stays "".
func (k *Keyring) seal(endpointID, column, plaintext string) string {
	if plaintext == "" {
		return ""
	}
	aead := k.aeads[k.primary]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(buf)
	sealed := aead.Seal(buf, buf, []byte(plaintext), secretAAD(endpointID, column))
	return sealedPrefix + k.primary + ":" + base64.RawStdEncoding.EncodeToString(sealed)
}

// open returns the plaintext of a stored value. Values stored in plaintext
// by versions before encryption are returned as they are.
func (k *Keyring) open(endpointID, column, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	id, encoded, ok := strings.Cut(rest, ":")
	if !ok {
		return "", webhookd.Internal("stored secret of endpoint "+endpointID+" is malformed", nil)
	}
	aead, ok := k.aeads[id]
	if !ok {
		return "", webhookd.Internal("opening the secret of endpoint "+endpointID,
			fmt.Errorf("it is encrypted with key %q, which is not in --encryption-keys (WEBHOOKD_ENCRYPTION_KEYS): keep that key until every process has re-encrypted", id))
	}
	sealed, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil || len(sealed) < aead.NonceSize()+aead.Overhead() {
		return "", webhookd.Internal("stored secret of endpoint "+endpointID+" is malformed", err)
	}
	nonce, ciphertext := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, ciphertext, secretAAD(endpointID, column))
	if err != nil {
		return "", webhookd.Internal("opening the secret of endpoint "+endpointID,
			fmt.Errorf("key %q does not open it (wrong key material for that id, or the value was altered)", id))
	}
	return string(plain), nil
}

// current reports whether stored is sealed with the primary key (or empty),
// i.e. needs no re-encryption.
func (k *Keyring) current(stored string) bool {
	return stored == "" || strings.HasPrefix(stored, sealedPrefix+k.primary+":")
}

// Columns of the endpoints table that hold secrets, as authenticated data.
const (
	columnSecret         = "secret"
	columnPreviousSecret = "previous_secret"
)

// sealEndpointSecrets returns the stored forms of e's two secrets.
func (s *entStore) sealEndpointSecrets(e *webhookd.Endpoint) (secret, previous string) {
	return s.secrets.seal(e.ID, columnSecret, e.Secret), s.secrets.seal(e.ID, columnPreviousSecret, e.PreviousSecret)
}

// openEndpointSecrets replaces e's stored secrets with their plaintexts.
func (s *entStore) openEndpointSecrets(e *webhookd.Endpoint) error {
	secret, err := s.secrets.open(e.ID, columnSecret, e.Secret)
	if err != nil {
		return err
	}
	previous, err := s.secrets.open(e.ID, columnPreviousSecret, e.PreviousSecret)
	if err != nil {
		return err
	}
	e.Secret, e.PreviousSecret = secret, previous
	return nil
}

// openWorkSecrets opens the endpoint secrets of a loaded batch. The delivery
// engine must not stall on one endpoint it cannot open (a process started
// with the wrong keys): that endpoint's secrets are left empty, so its
// attempts fail ("endpoint has no signing secret") and are retried on the
// schedule, and the cause is returned for logging.
func (s *entStore) openWorkSecrets(works map[string]*DeliveryWork) error {
	var errs []error
	opened := make(map[*webhookd.Endpoint]bool, len(works))
	for _, w := range works {
		if opened[w.Endpoint] {
			continue
		}
		opened[w.Endpoint] = true
		if err := s.openEndpointSecrets(w.Endpoint); err != nil {
			w.Endpoint.Secret, w.Endpoint.PreviousSecret = "", ""
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ReencryptSecrets implements Store.
func (s *entStore) ReencryptSecrets(ctx context.Context, batchSize int) (int, error) {
	if batchSize < 1 {
		batchSize = 500
	}
	total, after := 0, ""
	for {
		rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT id, secret, previous_secret FROM endpoints WHERE id > ? ORDER BY id LIMIT ?`), after, batchSize)
		if err != nil {
			return total, classify(err, "re-encrypting secrets")
		}
		type row struct{ id, secret, previous string }
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.secret, &r.previous); err != nil {
				rows.Close()
				return total, classify(err, "re-encrypting secrets")
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, classify(err, "re-encrypting secrets")
		}
		for _, r := range batch {
			if s.secrets.current(r.secret) && s.secrets.current(r.previous) {
				continue
			}
			secret, err := s.secrets.open(r.id, columnSecret, r.secret)
			if err != nil {
				return total, err
			}
			previous, err := s.secrets.open(r.id, columnPreviousSecret, r.previous)
			if err != nil {
				return total, err
			}
			// Guarded by the values read, so a concurrent rotation (or
			// another process re-encrypting) wins and is not overwritten.
			res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE endpoints SET secret = ?, previous_secret = ? WHERE id = ? AND secret = ? AND previous_secret = ?`),
				s.secrets.seal(r.id, columnSecret, secret), s.secrets.seal(r.id, columnPreviousSecret, previous), r.id, r.secret, r.previous)
			if err != nil {
				return total, classify(err, "re-encrypting secrets")
			}
			if n, _ := res.RowsAffected(); n > 0 {
				total++
			}
		}
		if len(batch) < batchSize {
			return total, nil
		}
		after = batch[len(batch)-1].id
	}
}

// rebind turns ? placeholders into the database's own.
func (s *entStore) rebind(query string) string { return s.paths.rebind(query) }
