package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

func newKey(f *fixture, accountID string, internal bool, hash string) *webhookd.APIKey {
	return &webhookd.APIKey{
		ID:          f.ids.New(webhookd.PrefixAPIKey),
		AccountID:   accountID,
		Internal:    internal,
		DisplayName: "ci",
		TokenHash:   []byte(hash),
		CreateTime:  time.Now(),
	}
}

func testAPIKeys(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)

	k := newKey(f, acct.ID, false, "hash-"+acct.ID)
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	got, err := s.GetAPIKey(ctx, k.ID)
	if err != nil {
		t.Fatalf("GetAPIKey: %v", err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("GetAPIKey (-created +got):\n%s", diff)
	}
	if got.Revoked() {
		t.Error("new key is revoked")
	}
	byHash, err := s.APIKeyByTokenHash(ctx, k.TokenHash)
	if err != nil {
		t.Fatalf("APIKeyByTokenHash: %v", err)
	}
	if byHash.ID != k.ID {
		t.Errorf("APIKeyByTokenHash = %s, want %s", byHash.ID, k.ID)
	}

	t.Run("Errors", func(t *testing.T) {
		_, err := s.APIKeyByTokenHash(ctx, []byte("no such hash"))
		wantKind(t, "APIKeyByTokenHash(unknown)", err, webhookd.KindNotFound)
		_, err = s.GetAPIKey(ctx, f.ids.New(webhookd.PrefixAPIKey))
		wantKind(t, "GetAPIKey(missing)", err, webhookd.KindNotFound)
		_, err = s.RevokeAPIKey(ctx, f.ids.New(webhookd.PrefixAPIKey), time.Now())
		wantKind(t, "RevokeAPIKey(missing)", err, webhookd.KindNotFound)

		sameHash := newKey(f, acct.ID, false, string(k.TokenHash))
		wantKind(t, "CreateAPIKey(duplicate hash)", s.CreateAPIKey(ctx, sameHash), webhookd.KindConflict)
		orphan := newKey(f, f.ids.New(webhookd.PrefixAccount), false, "hash-orphan-"+acct.ID)
		wantKind(t, "CreateAPIKey(missing account)", s.CreateAPIKey(ctx, orphan), webhookd.KindNotFound)
		accountless := newKey(f, "", false, "hash-accountless-"+acct.ID)
		wantKind(t, "CreateAPIKey(customer key without account)", s.CreateAPIKey(ctx, accountless), webhookd.KindInvalid)
	})

	t.Run("ListScopedAndPaged", func(t *testing.T) {
		want := []string{k.ID}
		for i := range 4 {
			more := newKey(f, acct.ID, false, fmt.Sprintf("hash-%s-%d", acct.ID, i))
			if err := s.CreateAPIKey(ctx, more); err != nil {
				t.Fatalf("CreateAPIKey: %v", err)
			}
			want = append(want, more.ID)
		}
		if err := s.CreateAPIKey(ctx, newKey(f, other.ID, false, "hash-"+other.ID)); err != nil {
			t.Fatalf("CreateAPIKey(other account): %v", err)
		}
		got := collectPages(t, 2, func(p store.Page) ([]string, error) {
			page, err := s.ListAPIKeys(ctx, acct.ID, p)
			return ids(page, apiKeyID), err
		})
		if diff := cmp.Diff(newestFirst(want), got); diff != "" {
			t.Errorf("ListAPIKeys (-want +got):\n%s", diff)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		first := time.Now().Add(-time.Minute)
		revoked, err := s.RevokeAPIKey(ctx, k.ID, first)
		if err != nil {
			t.Fatalf("RevokeAPIKey: %v", err)
		}
		if want := first.UTC().Truncate(time.Microsecond); !revoked.RevokeTime.Equal(want) {
			t.Errorf("RevokeTime = %v, want %v", revoked.RevokeTime, want)
		}
		again, err := s.RevokeAPIKey(ctx, k.ID, time.Now())
		if err != nil {
			t.Fatalf("RevokeAPIKey again: %v", err)
		}
		if !again.RevokeTime.Equal(revoked.RevokeTime) {
			t.Errorf("second revoke moved RevokeTime from %v to %v", revoked.RevokeTime, again.RevokeTime)
		}
		// A revoked key is still found by hash: the caller decides it no
		// longer authenticates and can say why.
		byHash, err := s.APIKeyByTokenHash(ctx, k.TokenHash)
		if err != nil {
			t.Fatalf("APIKeyByTokenHash(revoked): %v", err)
		}
		if !byHash.Revoked() {
			t.Error("revoked key looked up by hash is not revoked")
		}
	})
}

func testInternalAPIKeys(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	n, err := s.CountInternalAPIKeys(ctx)
	if err != nil || n != 0 {
		t.Fatalf("CountInternalAPIKeys on empty store = %d, %v; want 0", n, err)
	}
	acct := f.account(t, s)
	if err := s.CreateAPIKey(ctx, newKey(f, acct.ID, false, "customer")); err != nil {
		t.Fatalf("CreateAPIKey(customer): %v", err)
	}
	var internal []string
	for i := range 3 {
		k := newKey(f, "", true, fmt.Sprintf("internal-%d", i))
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey(internal): %v", err)
		}
		internal = append(internal, k.ID)
	}
	wantKind(t, "CreateAPIKey(internal key with account)", s.CreateAPIKey(ctx, newKey(f, acct.ID, true, "internal-acct")), webhookd.KindInvalid)

	got := collectPages(t, 2, func(p store.Page) ([]string, error) {
		page, err := s.ListAPIKeys(ctx, "", p)
		return ids(page, apiKeyID), err
	})
	if diff := cmp.Diff(newestFirst(internal), got); diff != "" {
		t.Errorf("ListAPIKeys(internal) (-want +got):\n%s", diff)
	}
	if _, err := s.RevokeAPIKey(ctx, internal[0], time.Now()); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	if n, err := s.CountInternalAPIKeys(ctx); err != nil || n != 2 {
		t.Errorf("CountInternalAPIKeys after one revoke = %d, %v; want 2 (active only)", n, err)
	}
}
