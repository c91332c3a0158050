package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// testPublishConcurrentMixed publishes many events at once, the way a busy
// API does, so that a store that writes concurrent publishes together (the
// PostgreSQL one group-commits them) meets every case in one batch: several
// accounts and event types, pairs sharing an idempotency key, and a call for
// a missing account, whose failure must not touch the others.
func testPublishConcurrentMixed(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	accounts := []*webhookd.Account{f.account(t, s), f.account(t, s), f.account(t, s)}
	subscribed := map[string][]string{} // account id + type → endpoint ids, sorted
	for i, a := range accounts {
		for range i + 1 { // 1, 2 and 3 endpoints on every type
			ep := f.endpoint(t, s, a.ID, nil)
			for _, typ := range ep.EventTypes {
				subscribed[a.ID+typ] = append(subscribed[a.ID+typ], ep.ID)
			}
		}
		// And one that takes a single type, so types fan out differently.
		only := f.endpoint(t, s, a.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"appointment.scheduled"} })
		subscribed[a.ID+"appointment.scheduled"] = append(subscribed[a.ID+"appointment.scheduled"], only.ID)
	}
	for k := range subscribed {
		slices.Sort(subscribed[k])
	}

	const calls = 48
	type result struct {
		ev         *webhookd.Event
		stored     *webhookd.Event
		deliveries []*webhookd.Delivery
		created    bool
		err        error
	}
	results := make([]result, calls)
	missing := f.ids.New(webhookd.PrefixAccount)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range calls {
		acct := accounts[i%len(accounts)].ID
		if i == calls-1 {
			acct = missing
		}
		typ := []string{"property.created", "appointment.scheduled"}[i%2]
		ev := f.event(acct, typ, time.Now())
		ev.IdempotencyKey = fmt.Sprintf("mixed-%d", i/2%12) // calls i and i+24 share a key and an account
		results[i].ev = ev
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i].stored, results[i].deliveries, results[i].created, results[i].err = s.PublishEvent(ctx, ev, f.ids.New)
		}()
	}
	close(start)
	wg.Wait()

	byKey := map[string]*webhookd.Event{} // account + key → the event it names
	for i, r := range results {
		if r.ev.AccountID == missing {
			wantKind(t, "PublishEvent(missing account in a busy batch)", r.err, webhookd.KindNotFound)
			continue
		}
		if r.err != nil {
			t.Fatalf("call %d: %v", i, r.err)
		}
		k := r.ev.AccountID + r.ev.IdempotencyKey
		if first, ok := byKey[k]; ok {
			if r.stored.ID != first.ID {
				t.Errorf("call %d: key %q named %s, earlier %s", i, k, r.stored.ID, first.ID)
			}
		} else {
			byKey[k] = r.stored
		}
		if !r.created {
			if len(r.deliveries) != 0 {
				t.Errorf("call %d: a repeated key made %d deliveries", i, len(r.deliveries))
			}
			continue
		}
		if r.stored.ID != r.ev.ID || string(r.stored.Data) != string(r.ev.Data) {
			t.Errorf("call %d: stored %s %s, want %s %s", i, r.stored.ID, r.stored.Data, r.ev.ID, r.ev.Data)
		}
		got := ids(r.deliveries, func(d *webhookd.Delivery) string { return d.EndpointID })
		slices.Sort(got)
		if want := subscribed[r.ev.AccountID+r.ev.Type]; !slices.Equal(got, want) {
			t.Errorf("call %d (%s): deliveries to %v, want %v", i, r.ev.Type, got, want)
		}
		for _, d := range r.deliveries {
			if d.EventID != r.ev.ID || d.AccountID != r.ev.AccountID || d.EventType != r.ev.Type ||
				d.Status != webhookd.DeliveryPending || d.NextTrigger != webhookd.TriggerInitial || d.NextAttemptTime.IsZero() {
				t.Errorf("call %d: delivery %+v does not belong to its event", i, d)
			}
		}
		checkEndpointVersions(t, s, r.deliveries)
	}
	// The database agrees with the answers: one event per key, and exactly
	// the deliveries handed out.
	for _, a := range accounts {
		events, err := s.ListEvents(ctx, store.EventFilter{AccountID: a.ID}, store.Page{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for k := range byKey {
			if len(k) > len(a.ID) && k[:len(a.ID)] == a.ID {
				want++
			}
		}
		if len(events) != want {
			t.Errorf("account %s has %d events, want %d (one per idempotency key)", a.ID, len(events), want)
		}
	}
}
