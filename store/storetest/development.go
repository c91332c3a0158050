package storetest

import (
	"context"
	"testing"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// testDevelopmentEndpoint: an account has at most one development endpoint,
// found by DevelopmentEndpoint and marked in every read, including the
// engine's (LoadDeliveryWorks has a hand-written query on PostgreSQL).
func testDevelopmentEndpoint(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	_, err := s.DevelopmentEndpoint(ctx, acct.ID)
	wantKind(t, "DevelopmentEndpoint before one exists", err, webhookd.KindNotFound)

	f.endpoint(t, s, acct.ID, nil) // a regular endpoint is not the development one
	dev := f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.Development = true })
	got, err := s.DevelopmentEndpoint(ctx, acct.ID)
	if err != nil {
		t.Fatalf("DevelopmentEndpoint: %v", err)
	}
	if got.ID != dev.ID || !got.Development || got.Secret != dev.Secret {
		t.Fatalf("DevelopmentEndpoint = %+v, want %s with its secret", got, dev.ID)
	}

	second := *dev
	second.ID = f.ids.New(webhookd.PrefixEndpoint)
	wantKind(t, "a second development endpoint", s.CreateEndpoint(ctx, &second, 0), webhookd.KindConflict)

	other := f.account(t, s) // other accounts have their own
	f.endpoint(t, s, other.ID, func(e *webhookd.Endpoint) { e.Development = true })

	_, deliveries := f.publish(t, s, f.event(acct.ID, "property.created", f.base))
	if len(deliveries) != 2 {
		t.Fatalf("published %d deliveries, want 2", len(deliveries))
	}
	works, err := s.LoadDeliveryWorks(ctx, []string{deliveries[0].ID, deliveries[1].ID})
	if err != nil {
		t.Fatalf("LoadDeliveryWorks: %v", err)
	}
	for _, w := range works {
		if want := w.Endpoint.ID == dev.ID; w.Endpoint.Development != want {
			t.Errorf("LoadDeliveryWorks: endpoint %s Development = %v, want %v", w.Endpoint.ID, w.Endpoint.Development, want)
		}
	}
}
