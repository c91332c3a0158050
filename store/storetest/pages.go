package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// newestFirst returns ids sorted as listings must return them.
func newestFirst(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// collectPages lists every item through pages of size, checking that no page
// is larger than asked, and returns the ids in the order seen.
func collectPages(t *testing.T, size int, list func(p store.Page) ([]string, error)) []string {
	t.Helper()
	var all []string
	p := store.Page{Size: size}
	for range 100 {
		page, err := list(p)
		if err != nil {
			t.Fatalf("listing page after %q: %v", p.After, err)
		}
		if len(page) > size {
			t.Fatalf("page of %d items, asked for %d", len(page), size)
		}
		all = append(all, page...)
		if len(page) < size {
			return all
		}
		p.After = page[len(page)-1]
	}
	t.Fatal("pagination did not end")
	return nil
}

func testPageSizeValidated(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	zero := store.Page{}
	_, err := s.ListAccounts(ctx, zero)
	wantKind(t, "ListAccounts(size 0)", err, webhookd.KindInvalid)
	_, err = s.ListEvents(ctx, store.EventFilter{}, zero)
	wantKind(t, "ListEvents(size 0)", err, webhookd.KindInvalid)
	_, err = s.ListDeliveries(ctx, store.DeliveryFilter{}, zero)
	wantKind(t, "ListDeliveries(size 0)", err, webhookd.KindInvalid)
	_, err = s.ListEndpoints(ctx, "", zero)
	wantKind(t, "ListEndpoints(size 0)", err, webhookd.KindInvalid)
	_, err = s.ListAPIKeys(ctx, "", zero)
	wantKind(t, "ListAPIKeys(size 0)", err, webhookd.KindInvalid)
}
