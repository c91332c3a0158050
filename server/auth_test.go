package server

import (
	"context"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// keyStore answers APIKeyByTokenHash from a map and records what it was
// asked; every other Store method is left nil (unused by authentication).
type keyStore struct {
	store.Store
	keys  map[string]*webhookd.APIKey // by token hash
	asked [][]byte
}

func (s *keyStore) APIKeyByTokenHash(_ context.Context, hash []byte) (*webhookd.APIKey, error) {
	s.asked = append(s.asked, hash)
	if k, ok := s.keys[string(hash)]; ok {
		return k, nil
	}
	return nil, webhookd.NotFound("api key", "")
}

// TestAuthenticate covers how tokens become principals: the admin token and
// stored keys are matched by SHA-256 hash compared in constant time (only
// the hash reaches the store), revoked keys and near misses are refused, and
// a key the store returns for a different hash — a database comparing
// loosely — is refused too.
func TestAuthenticate(t *testing.T) {
	t.Parallel()
	const (
		adminToken    = "whk_admin-token-0123456789abcdef"
		customerToken = "whk_customer-token-0123456789abcd"
		revokedToken  = "whk_revoked-token-0123456789abcde"
		looseToken    = "whk_loose-token-0123456789abcdefg"
	)
	customer := &webhookd.APIKey{ID: "key_c", AccountID: "acct_1", TokenHash: webhookd.HashAPIToken(customerToken)}
	revoked := &webhookd.APIKey{ID: "key_r", AccountID: "acct_1", TokenHash: webhookd.HashAPIToken(revokedToken), RevokeTime: time.Now()}
	cases := []struct {
		name  string
		token string
		want  *Principal // nil: unauthenticated
	}{
		{"admin token", adminToken, &Principal{Internal: true}},
		{"admin token, last byte changed", adminToken[:len(adminToken)-1] + "g", nil},
		{"admin token, one byte short", adminToken[:len(adminToken)-1], nil},
		{"customer key", customerToken, &Principal{KeyID: "key_c", AccountID: "acct_1"}},
		{"customer key, first byte changed", "x" + customerToken[1:], nil},
		{"revoked key", revokedToken, nil},
		{"store returns a key of another hash", looseToken, nil},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &keyStore{keys: map[string]*webhookd.APIKey{
				string(customer.TokenHash): customer,
				string(revoked.TokenHash):  revoked,
				// As if the database matched this token's hash to another key.
				string(webhookd.HashAPIToken(looseToken)): customer,
			}}
			a := NewAuthenticator(st, adminToken)
			p, err := a.Authenticate(t.Context(), tc.token)
			if tc.want == nil {
				if err == nil || webhookd.KindOf(err) != webhookd.KindUnauthenticated {
					t.Fatalf("Authenticate = %+v, %v; want unauthenticated", p, err)
				}
			} else if err != nil || *p != *tc.want {
				t.Fatalf("Authenticate = %+v, %v; want %+v", p, err, tc.want)
			}
			for _, h := range st.asked {
				if string(h) != string(webhookd.HashAPIToken(tc.token)) {
					t.Fatalf("the store was asked for %x, not the token's SHA-256", h)
				}
			}
		})
	}
}
