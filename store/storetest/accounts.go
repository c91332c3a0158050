package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

func testAccounts(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	// Nanoseconds and a zone other than UTC: the store keeps what the
	// database can keep and says so by updating the struct.
	at := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	a := &webhookd.Account{ID: f.ids.New(webhookd.PrefixAccount), DisplayName: "Acme", CreateTime: at, UpdateTime: at}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if want := at.UTC().Truncate(time.Microsecond); !a.CreateTime.Equal(want) || a.CreateTime.Location() != time.UTC {
		t.Errorf("CreateTime after create = %v, want %v in UTC", a.CreateTime, want)
	}
	got, err := s.GetAccount(ctx, a.ID)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("GetAccount (-created +got):\n%s", diff)
	}

	_, err = s.GetAccount(ctx, f.ids.New(webhookd.PrefixAccount))
	wantKind(t, "GetAccount(missing)", err, webhookd.KindNotFound)
	dup := *a
	wantKind(t, "CreateAccount(duplicate id)", s.CreateAccount(ctx, &dup), webhookd.KindConflict)
}

func testAccountPagination(t *testing.T, s store.Store, f *fixture) {
	var created []string
	for range 7 {
		created = append(created, f.account(t, s).ID)
	}
	got := collectPages(t, 3, func(p store.Page) ([]string, error) {
		page, err := s.ListAccounts(context.Background(), p)
		return ids(page, accountID), err
	})
	if diff := cmp.Diff(newestFirst(created), got); diff != "" {
		t.Errorf("ListAccounts over pages (-want +got):\n%s", diff)
	}
}
