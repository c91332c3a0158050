package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

func testPublishFansOut(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	subscribed := f.endpoint(t, s, acct.ID, nil)
	alsoSubscribed := f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"property.created"} })
	f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.Disabled = true })
	f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"invoice.paid"} })
	f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = nil })
	// A type name that is a prefix or JSON-ish neighbour must not match.
	f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"property.created.v2", "property"} })
	f.endpoint(t, s, other.ID, nil)

	at := time.Now().Add(-time.Second)
	ev := f.event(acct.ID, "property.created", at)
	ev.Data = []byte(` {"z":1, "a":[1.0,2e3],"s":"\u2028"} `) // kept byte for byte
	stored, deliveries, created, err := s.PublishEvent(ctx, ev, f.ids.New)
	if err != nil || !created {
		t.Fatalf("PublishEvent = created %v, %v", created, err)
	}
	checkEndpointVersions(t, s, deliveries)
	want := *ev
	want.CreateTime = at.UTC().Truncate(time.Microsecond)
	if diff := cmp.Diff(&want, stored); diff != "" {
		t.Errorf("stored event (-published +stored):\n%s", diff)
	}
	got, err := s.GetEvent(ctx, acct.ID, ev.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	if diff := cmp.Diff(stored, got); diff != "" {
		t.Errorf("GetEvent (-stored +got):\n%s", diff)
	}

	gotEndpoints := ids(deliveries, func(d *webhookd.Delivery) string { return d.EndpointID })
	slices.Sort(gotEndpoints)
	wantEndpoints := []string{subscribed.ID, alsoSubscribed.ID}
	slices.Sort(wantEndpoints)
	if diff := cmp.Diff(wantEndpoints, gotEndpoints); diff != "" {
		t.Fatalf("fan-out endpoints (-want +got):\n%s", diff)
	}
	for _, d := range deliveries {
		if !webhookd.HasPrefix(d.ID, webhookd.PrefixDelivery) {
			t.Errorf("delivery id %q lacks prefix %q", d.ID, webhookd.PrefixDelivery)
		}
		want := &webhookd.Delivery{
			ID: d.ID, AccountID: acct.ID, EventID: ev.ID, EndpointID: d.EndpointID, EventType: ev.Type,
			Status: webhookd.DeliveryPending, NextAttemptTime: want.CreateTime, NextTrigger: webhookd.TriggerInitial,
			CreateTime: want.CreateTime, UpdateTime: want.CreateTime,
			EndpointUpdateTime: d.EndpointUpdateTime, // checked by checkEndpointVersions
		}
		if diff := cmp.Diff(want, d); diff != "" {
			t.Errorf("delivery (-want +got):\n%s", diff)
		}
		read, err := s.GetDelivery(ctx, acct.ID, d.ID)
		if err != nil {
			t.Fatalf("GetDelivery: %v", err)
		}
		want.Attempts = []*webhookd.Attempt{}
		want.EndpointUpdateTime = time.Time{} // not stored
		if diff := cmp.Diff(want, read); diff != "" {
			t.Errorf("GetDelivery (-want +got):\n%s", diff)
		}
	}

	t.Run("NoSubscribers", func(t *testing.T) {
		_, deliveries := f.publish(t, s, f.event(acct.ID, "nobody.listens", time.Now()))
		if len(deliveries) != 0 {
			t.Errorf("%d deliveries for an unsubscribed type", len(deliveries))
		}
	})
	t.Run("MissingAccount", func(t *testing.T) {
		_, _, _, err := s.PublishEvent(ctx, f.event(f.ids.New(webhookd.PrefixAccount), "property.created", time.Now()), f.ids.New)
		wantKind(t, "PublishEvent(missing account)", err, webhookd.KindNotFound)
	})
	t.Run("DuplicateID", func(t *testing.T) {
		dup := *ev
		_, _, _, err := s.PublishEvent(ctx, &dup, f.ids.New)
		wantKind(t, "PublishEvent(duplicate id)", err, webhookd.KindConflict)
	})
}

func testPublishIdempotent(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	f.endpoint(t, s, acct.ID, nil)

	first := f.event(acct.ID, "property.created", time.Now())
	first.IdempotencyKey = "order-42"
	stored, deliveries := f.publish(t, s, first)
	if len(deliveries) != 1 {
		t.Fatalf("first publish made %d deliveries, want 1", len(deliveries))
	}

	again := f.event(acct.ID, "appointment.scheduled", time.Now())
	again.IdempotencyKey = "order-42"
	again.Data = []byte(`{"different":true}`)
	original, more, created, err := s.PublishEvent(ctx, again, f.ids.New)
	if err != nil {
		t.Fatalf("PublishEvent(same key): %v", err)
	}
	if created || len(more) != 0 {
		t.Errorf("PublishEvent(same key) = created %v with %d deliveries, want nothing new", created, len(more))
	}
	if diff := cmp.Diff(stored, original); diff != "" {
		t.Errorf("same key returned (-original +got):\n%s", diff)
	}
	_, err = s.GetEvent(ctx, acct.ID, again.ID)
	wantKind(t, "GetEvent(of the repeated publish)", err, webhookd.KindNotFound)
	all, err := s.ListDeliveries(ctx, store.DeliveryFilter{AccountID: acct.ID}, store.Page{Size: 10})
	if err != nil || len(all) != 1 {
		t.Errorf("account has %d deliveries (%v), want 1", len(all), err)
	}

	// Keys are per account, and events without a key never collide.
	otherAccount := f.event(other.ID, "property.created", time.Now())
	otherAccount.IdempotencyKey = "order-42"
	f.publish(t, s, otherAccount)
	f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
	f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
}

// testPublishManySubscribers publishes to more endpoints than a first
// publish of the account suggests, then to more still after endpoints are
// added: every subscribed endpoint gets exactly one delivery each time.
func testPublishManySubscribers(t *testing.T, s store.Store, f *fixture) {
	acct := f.account(t, s)
	var want []string
	for range 7 {
		want = append(want, f.endpoint(t, s, acct.ID, nil).ID)
	}
	for round, add := range []int{0, 5} {
		for range add {
			want = append(want, f.endpoint(t, s, acct.ID, nil).ID)
		}
		_, ds := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
		got := ids(ds, func(d *webhookd.Delivery) string { return d.EndpointID })
		slices.Sort(got)
		sorted := slices.Sorted(slices.Values(want))
		if !slices.Equal(got, sorted) {
			t.Fatalf("round %d: deliveries to %v, want one to each of %v", round, got, sorted)
		}
	}
}

func testPublishConcurrentSameKey(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	ep := f.endpoint(t, s, acct.ID, nil)

	const publishers = 12
	type result struct {
		id      string
		created bool
		n       int
		err     error
	}
	results := make([]result, publishers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := f.event(acct.ID, "property.created", time.Now())
			ev.IdempotencyKey = "payment-7"
			<-start
			stored, deliveries, created, err := s.PublishEvent(ctx, ev, f.ids.New)
			results[i] = result{created: created, n: len(deliveries), err: err}
			if stored != nil {
				results[i].id = stored.ID
			}
		}()
	}
	close(start)
	wg.Wait()

	winners := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("publisher %d: %v", i, r.err)
		}
		if r.created {
			winners++
			if r.n != 1 {
				t.Errorf("winner made %d deliveries, want 1", r.n)
			}
		}
		if r.id != results[0].id {
			t.Errorf("publisher %d got event %s, publisher 0 got %s", i, r.id, results[0].id)
		}
	}
	if winners != 1 {
		t.Errorf("%d publishes created an event, want exactly 1", winners)
	}
	deliveries, err := s.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: ep.ID}, store.Page{Size: 100})
	if err != nil || len(deliveries) != 1 {
		t.Errorf("endpoint has %d deliveries (%v), want 1", len(deliveries), err)
	}
}
