package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/internal/testenv"
)

func TestParseKeyring(t *testing.T) {
	t.Parallel()
	k1, _ := GenerateKeyEntry("k1")
	k2, _ := GenerateKeyEntry("2026-11.b")
	_, k1Key, _ := strings.Cut(k1, ":")
	cases := []struct {
		name    string
		in      string
		wantIDs []string
		wantErr string
	}{
		{"one key", k1, []string{"k1"}, ""},
		{"comma separated, first seals", k2 + "," + k1, []string{"2026-11.b", "k1"}, ""},
		{"a key file: comments and lines", "# webhookd keys\n" + k1 + "\n\n" + k2 + "\n", []string{"k1", "2026-11.b"}, ""},
		{"url-safe base64 without padding", "u:" + strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(k1Key), "="), []string{"u"}, ""},
		{"empty", "", nil, "no encryption key"},
		{"no id", k1Key, nil, "want id:base64key"},
		{"short key", "k:" + "AAAA", nil, "want 32 bytes"},
		{"not base64", "k:!!!!", nil, "not base64"},
		{"duplicate id", k1 + "," + k1, nil, "appears twice"},
		{"bad id", "a/b:" + k1Key, nil, "use only letters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKeyring(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseKeyring = %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), k1Key[:20]) {
					t.Fatalf("error %q shows key material", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(k.IDs(), ","); got != strings.Join(tc.wantIDs, ",") {
				t.Fatalf("ids = %s, want %v", got, tc.wantIDs)
			}
			if k.PrimaryID() != tc.wantIDs[0] {
				t.Fatalf("primary = %s, want %s", k.PrimaryID(), tc.wantIDs[0])
			}
		})
	}
}

func mustKeyring(t *testing.T, entries ...string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(strings.Join(entries, ","))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	oldEntry, _ := GenerateKeyEntry("old")
	newEntry, _ := GenerateKeyEntry("new")
	oldOnly, both := mustKeyring(t, oldEntry), mustKeyring(t, newEntry, oldEntry)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

	sealed := oldOnly.seal("ep_1", columnSecret, secret)
	if !strings.HasPrefix(sealed, "v1:old:") || strings.Contains(sealed, secret) {
		t.Fatalf("sealed = %q", sealed)
	}
	if again := oldOnly.seal("ep_1", columnSecret, secret); again == sealed {
		t.Fatal("two seals of one secret are equal: the nonce is not random")
	}
	cases := []struct {
		name     string
		keys     *Keyring
		id, col  string
		stored   string
		want     string
		wantErr  string
		wantCurr bool
	}{
		{"sealing key opens", oldOnly, "ep_1", columnSecret, sealed, secret, "", true},
		{"an older key in the ring opens", both, "ep_1", columnSecret, sealed, secret, "", false},
		{"plaintext of older versions passes", both, "ep_1", columnSecret, secret, secret, "", false},
		{"empty stays empty", both, "ep_1", columnSecret, "", "", "", true},
		{"missing key is named", mustKeyring(t, newEntry), "ep_1", columnSecret, sealed, "", `key "old", which is not in --encryption-keys`, false},
		{"another endpoint's value does not open", oldOnly, "ep_2", columnSecret, sealed, "", "does not open it", true},
		{"another column's value does not open", oldOnly, "ep_1", columnPreviousSecret, sealed, "", "does not open it", true},
		{"tampered", oldOnly, "ep_1", columnSecret, sealed[:len(sealed)-2] + "AA", "", "does not open it", true},
		{"malformed", oldOnly, "ep_1", columnSecret, "v1:old", "", "malformed", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.keys.open(tc.id, tc.col, tc.stored)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("open = %q, %v; want an error containing %q", got, err, tc.wantErr)
				}
				if webhookd.KindOf(err) != webhookd.KindInternal {
					t.Fatalf("kind = %v, want internal (the detail is logged, not shown)", webhookd.KindOf(err))
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("open = %q, %v; want %q", got, err, tc.want)
			}
			if c := tc.keys.current(tc.stored); c != tc.wantCurr {
				t.Fatalf("current = %v, want %v", c, tc.wantCurr)
			}
		})
	}
}

// TestSecretsAtRest reads the endpoints table directly: no secret is there in
// plaintext on either backend, every read path opens it, rows written in
// plaintext by older versions are still read and get sealed by
// ReencryptSecrets, and a key rotation leaves nothing under the old key.
func TestSecretsAtRest(t *testing.T) {
	t.Parallel()
	backends := map[string]func(t *testing.T) string{
		"SQLite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "s.db") },
		"Postgres": func(t *testing.T) string { return testenv.PostgresURL(t) },
	}
	for name, databaseURL := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testSecretsAtRest(t, databaseURL(t))
		})
	}
}

func testSecretsAtRest(t *testing.T, databaseURL string) {
	ctx := context.Background()
	oldEntry, _ := GenerateKeyEntry("old")
	newEntry, _ := GenerateKeyEntry("new")
	open := func(keys *Keyring) *entStore {
		t.Helper()
		st, err := Open(ctx, Config{DatabaseURL: databaseURL, Secrets: keys})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st.(*entStore)
	}
	raw := func(s *entStore, id string) (secret, previous string) {
		t.Helper()
		if err := s.db.QueryRowContext(ctx, s.rebind("SELECT secret, previous_secret FROM endpoints WHERE id = ?"), id).Scan(&secret, &previous); err != nil {
			t.Fatal(err)
		}
		return secret, previous
	}
	s := open(mustKeyring(t, oldEntry))
	ids := webhookd.NewIDGenerator(nil)
	now := time.Now()
	acct := &webhookd.Account{ID: ids.New(webhookd.PrefixAccount), CreateTime: now, UpdateTime: now}
	if err := s.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	newEndpoint := func(secret, previous string) *webhookd.Endpoint {
		t.Helper()
		ep := &webhookd.Endpoint{ID: ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: "https://example.com",
			EventTypes: []string{"a.b"}, Secret: secret, PreviousSecret: previous, CreateTime: now, UpdateTime: now}
		if previous != "" {
			ep.PreviousSecretExpireTime = now.Add(time.Hour)
		}
		if err := s.CreateEndpoint(ctx, ep, 0); err != nil {
			t.Fatal(err)
		}
		return ep
	}
	secret, previous := webhookd.NewEndpointSecret(), webhookd.NewEndpointSecret()
	ep := newEndpoint(secret, previous)

	// At rest: sealed with the first key, no plaintext anywhere in the row.
	gotSecret, gotPrevious := raw(s, ep.ID)
	for _, v := range []string{gotSecret, gotPrevious} {
		if !strings.HasPrefix(v, "v1:old:") || strings.Contains(v, secret) || strings.Contains(v, previous) ||
			strings.Contains(v, strings.TrimPrefix(secret, webhookd.EndpointSecretPrefix)) {
			t.Fatalf("stored secret column = %q: not sealed with key old", v)
		}
	}
	// Every read path opens it.
	wantOpen := func(s *entStore, id, secret, previous string) {
		t.Helper()
		got, err := s.GetEndpoint(ctx, acct.ID, id)
		if err != nil || got.Secret != secret || got.PreviousSecret != previous {
			t.Fatalf("GetEndpoint = %+v, %v; want the plaintext secrets", got, err)
		}
		list, err := s.ListEndpoints(ctx, acct.ID, Page{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			if e.ID == id && (e.Secret != secret || e.PreviousSecret != previous) {
				t.Fatalf("ListEndpoints gave %q, %q", e.Secret, e.PreviousSecret)
			}
		}
		ev := &webhookd.Event{ID: ids.New(webhookd.PrefixEvent), AccountID: acct.ID, Type: "a.b", Data: []byte(`{}`), CreateTime: time.Now()}
		_, deliveries, _, err := s.PublishEvent(ctx, ev, ids.New)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deliveries {
			if d.EndpointID != id {
				continue
			}
			works, err := s.LoadDeliveryWorks(ctx, []string{d.ID})
			w := works[d.ID]
			if err != nil || w == nil || w.Endpoint.Secret != secret || w.Endpoint.PreviousSecret != previous {
				t.Fatalf("LoadDeliveryWorks = %+v, %v; want the plaintext secrets", w, err)
			}
			return
		}
		t.Fatalf("no delivery to %s", id)
	}
	wantOpen(s, ep.ID, secret, previous)

	// A rotation seals too (it writes both columns).
	rotated := *ep
	rotated.Secret, rotated.PreviousSecret = webhookd.NewEndpointSecret(), secret
	if _, err := s.RotateEndpointSecret(ctx, acct.ID, ep.ID, rotated.Secret, time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v, p := raw(s, ep.ID); strings.Contains(v+p, rotated.Secret) || strings.Contains(v+p, secret) || !strings.HasPrefix(v, "v1:old:") {
		t.Fatalf("after update, stored %q, %q", v, p)
	}
	wantOpen(s, ep.ID, rotated.Secret, secret)

	// A row as a version before encryption wrote it: plaintext.
	legacy := newEndpoint(webhookd.NewEndpointSecret(), "")
	legacySecret := legacy.Secret
	if _, err := s.db.ExecContext(ctx, s.rebind("UPDATE endpoints SET secret = ? WHERE id = ?"), legacySecret, legacy.ID); err != nil {
		t.Fatal(err)
	}
	wantOpen(s, legacy.ID, legacySecret, "")

	// Rotation: the new key first, the old one still there to open.
	rotating := open(mustKeyring(t, newEntry, oldEntry))
	wantOpen(rotating, ep.ID, rotated.Secret, secret)
	n, err := rotating.ReencryptSecrets(ctx, 1) // batches of one: paging is exercised
	if err != nil || n != 2 {
		t.Fatalf("ReencryptSecrets = %d, %v; want 2 endpoints rewritten", n, err)
	}
	if n, err := rotating.ReencryptSecrets(ctx, 1); err != nil || n != 0 {
		t.Fatalf("second ReencryptSecrets = %d, %v; want nothing left", n, err)
	}
	for _, id := range []string{ep.ID, legacy.ID} {
		v, p := raw(rotating, id)
		if !strings.HasPrefix(v, "v1:new:") || (p != "" && !strings.HasPrefix(p, "v1:new:")) {
			t.Fatalf("after re-encryption, stored %q, %q", v, p)
		}
	}

	// The old key can go; without the new one nothing opens, and the error
	// names the missing key.
	wantOpen(open(mustKeyring(t, newEntry)), legacy.ID, legacySecret, "")
	_, err = open(mustKeyring(t, oldEntry)).GetEndpoint(ctx, acct.ID, ep.ID)
	if err == nil || !strings.Contains(err.Error(), `key "new"`) {
		t.Fatalf("GetEndpoint without the sealing key = %v; want an error naming key new", err)
	}
	if _, err := open(mustKeyring(t, oldEntry)).ReencryptSecrets(ctx, 10); err == nil || !strings.Contains(err.Error(), `key "new"`) {
		t.Fatalf("ReencryptSecrets without the sealing key = %v; want an error naming key new", err)
	}
}

// BenchmarkOpenSecret is the cost the delivery engine pays per loaded
// endpoint: one AES-GCM open of a short value, far below a database round
// trip, so no cache of plaintexts is kept.
func BenchmarkOpenSecret(b *testing.B) {
	entry, _ := GenerateKeyEntry("k")
	k, _ := ParseKeyring(entry)
	sealed := k.seal("ep_01m8ckzxbb4p7q81k98r6p6q6h", columnSecret, webhookd.NewEndpointSecret())
	for b.Loop() {
		if _, err := k.open("ep_01m8ckzxbb4p7q81k98r6p6q6h", columnSecret, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
