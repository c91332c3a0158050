package worker_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/store/storetest"
	"github.com/webhookd/webhookd/worker"
)

// leaseBackends are the Redis servers the lease runs on.
var leaseBackends = []struct {
	name   string
	url    func(t testing.TB) string
	prefix func(t testing.TB) string
	// realExpiry: the server expires keys by the wall clock (the embedded
	// one expires them only when told to).
	realExpiry bool
}{
	{name: "embedded", url: func(testing.TB) string { return "" }, prefix: func(testing.TB) string { return "webhookd:" }},
	{name: "redis", url: testenv.RedisURL, prefix: testenv.RedisKeyPrefix, realExpiry: true},
}

// TestLease checks that one holder at a time has the lease, that only the
// holder renews or releases it, and that a lease that ran out is free.
func TestLease(t *testing.T) {
	t.Parallel()
	for _, b := range leaseBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			r, err := worker.OpenRedis(ctx, worker.RedisConfig{URL: b.url(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			key := b.prefix(t) + "retention-lease"
			ttl := 300 * time.Millisecond
			a, other := worker.NewLease(r.Client, key, ttl), worker.NewLease(r.Client, key, ttl)

			step := func(what string, got bool, err error, want bool) {
				t.Helper()
				if err != nil || got != want {
					t.Fatalf("%s = %v, %v; want %v", what, got, err, want)
				}
			}
			ok, err := a.Acquire(ctx)
			step("a.Acquire (free)", ok, err, true)
			ok, err = other.Acquire(ctx)
			step("other.Acquire (held by a)", ok, err, false)
			ok, err = other.Renew(ctx)
			step("other.Renew (never held)", ok, err, false)
			if err := other.Release(ctx); err != nil {
				t.Fatal(err)
			}
			ok, err = a.Renew(ctx)
			step("a.Renew (still a's, after other's release)", ok, err, true)
			if err := a.Release(ctx); err != nil {
				t.Fatal(err)
			}
			ok, err = other.Acquire(ctx)
			step("other.Acquire (released by a)", ok, err, true)

			// other's lease runs out; a takes it; other may neither renew
			// nor release a's lease.
			if b.realExpiry {
				time.Sleep(ttl + 200*time.Millisecond)
			} else if err := r.Client.Del(ctx, key).Err(); err != nil { // what expiry does
				t.Fatal(err)
			}
			ok, err = a.Acquire(ctx)
			step("a.Acquire (other's lease ran out)", ok, err, true)
			ok, err = other.Renew(ctx)
			step("other.Renew (ran out, now a's)", ok, err, false)
			if other.Held() {
				t.Fatal("other still believes it holds the lease after a failed renewal")
			}
			if err := other.Release(ctx); err != nil {
				t.Fatal(err)
			}
			ok, err = a.Renew(ctx)
			step("a.Renew (after other's release)", ok, err, true)
			if b.realExpiry {
				// Renewing extends the lease from now.
				time.Sleep(ttl / 2)
				ok, err = a.Renew(ctx)
				step("a.Renew", ok, err, true)
				time.Sleep(ttl / 2)
				ok, err = other.Acquire(ctx)
				step("other.Acquire (a renewed)", ok, err, false)
			}
		})
	}
}

// TestRetention purges old history in batches and keeps what it must: recent
// events and old events whose delivery is still pending.
func TestRetention(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, r := openEmbedded(t)

	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	ids := webhookd.NewIDGenerator(nil)
	acct := &webhookd.Account{ID: ids.New(webhookd.PrefixAccount), DisplayName: "retention", CreateTime: now, UpdateTime: now}
	if err := st.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	ep := &webhookd.Endpoint{ID: ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: "https://example.com/hook",
		EventTypes: []string{"property.created"}, Secret: webhookd.NewEndpointSecret(), CreateTime: now, UpdateTime: now}
	if err := st.CreateEndpoint(ctx, ep, 0); err != nil {
		t.Fatal(err)
	}
	// publish stores an event age ago and, unless pending, records one
	// successful attempt of its delivery.
	publish := func(age time.Duration, pending bool) *webhookd.Event {
		at := now.Add(-age)
		ev := &webhookd.Event{ID: ids.New(webhookd.PrefixEvent), AccountID: acct.ID, Type: "property.created",
			Data: []byte(`{"property":{"id":"prop_1"}}`), CreateTime: at}
		_, ds, _, err := st.PublishEvent(ctx, ev, ids.New)
		if err != nil || len(ds) != 1 {
			t.Fatalf("PublishEvent: %d deliveries, %v", len(ds), err)
		}
		if !pending {
			d := ds[0]
			d.AttemptCount, d.Status, d.NextAttemptTime, d.UpdateTime = 1, webhookd.DeliverySucceeded, time.Time{}, at
			a := &webhookd.Attempt{ID: ids.New(webhookd.PrefixAttempt), DeliveryID: d.ID, Number: 1,
				Trigger: webhookd.TriggerInitial, StartTime: at, ResponseStatus: 204}
			if err := storetest.RecordAttempt(ctx, st, a, d); err != nil {
				t.Fatal(err)
			}
		}
		return ev
	}
	const retention = 30 * 24 * time.Hour
	var old []*webhookd.Event
	for i := range 5 {
		old = append(old, publish(retention+time.Duration(i+1)*time.Hour, false))
	}
	oldPending := publish(retention+time.Hour, true)
	recent := publish(retention-time.Hour, false)

	reg := prometheus.NewRegistry()
	ret, err := worker.NewRetention(worker.RetentionConfig{
		Store: st, Redis: r.Client, LeaseKey: "webhookd:retention-lease",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
		Registerer: reg, MaxAge: retention, BatchSize: 2, Pause: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}

	// While another process holds the lease, nothing is purged.
	holder := worker.NewLease(r.Client, "webhookd:retention-lease", time.Minute)
	if ok, err := holder.Acquire(ctx); !ok || err != nil {
		t.Fatalf("holder.Acquire = %v, %v", ok, err)
	}
	if got, ran, err := ret.PurgeOnce(ctx); ran || err != nil || got != (store.Purged{}) {
		t.Fatalf("PurgeOnce with the lease held elsewhere = %+v, ran %v, %v; want nothing, not run", got, ran, err)
	}
	if err := holder.Release(ctx); err != nil {
		t.Fatal(err)
	}

	got, ran, err := ret.PurgeOnce(ctx)
	if err != nil || !ran {
		t.Fatalf("PurgeOnce: ran %v, %v", ran, err)
	}
	if want := (store.Purged{Events: 5, Deliveries: 5, Attempts: 5}); got != want {
		t.Fatalf("PurgeOnce = %+v, want %+v (three batches of at most 2)", got, want)
	}
	for _, ev := range old {
		if _, err := st.GetEvent(ctx, "", ev.ID); webhookd.KindOf(err) != webhookd.KindNotFound {
			t.Errorf("old event %s: GetEvent error %v, want not found", ev.ID, err)
		}
	}
	for _, ev := range []*webhookd.Event{oldPending, recent} {
		if _, err := st.GetEvent(ctx, "", ev.ID); err != nil {
			t.Errorf("event %s purged (%v); want kept", ev.ID, err)
		}
	}
	// The lease was given back: another process may purge at once.
	if ok, err := holder.Acquire(ctx); !ok || err != nil {
		t.Fatalf("after PurgeOnce, holder.Acquire = %v, %v; want the lease released", ok, err)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	purged := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "webhookd_retention_purged_rows_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			purged[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if purged["events"] != 5 || purged["deliveries"] != 5 || purged["attempts"] != 5 {
		t.Fatalf("webhookd_retention_purged_rows_total = %v, want 5 of each table", purged)
	}
}
