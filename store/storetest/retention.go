package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// testPurgeEvents checks what the retention job deletes: old events with
// their deliveries and attempts, oldest first, in batches of the asked
// size, never an event with a pending delivery nor a recent one. It needs
// a store of its own: PurgeEvents works across accounts.
func testPurgeEvents(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	now := time.Now().UTC()
	cutoff := now.Add(-50 * time.Hour)
	a := f.account(t, s)
	f.endpoint(t, s, a.ID, nil)
	other := f.account(t, s)
	f.endpoint(t, s, other.ID, nil)

	type published struct {
		ev *webhookd.Event
		d  *webhookd.Delivery
	}
	publish := func(accountID string, at time.Time, final webhookd.DeliveryStatus) published {
		ev, ds := f.publish(t, s, f.event(accountID, "property.created", at))
		d := ds[0]
		switch final {
		case webhookd.DeliverySucceeded:
			a, after := f.attemptFor(d, webhookd.DeliverySucceeded, 204, time.Time{})
			if err := RecordAttempt(ctx, s, a, after); err != nil {
				t.Fatalf("RecordAttempt: %v", err)
			}
		case webhookd.DeliveryFailed:
			// Two attempts: every attempt goes with its delivery.
			a, after := f.attemptFor(d, webhookd.DeliveryPending, 500, at.Add(time.Minute))
			if err := RecordAttempt(ctx, s, a, after); err != nil {
				t.Fatalf("RecordAttempt: %v", err)
			}
			f.fail(t, s, after)
		}
		return published{ev, d}
	}
	oldest := publish(a.ID, now.Add(-300*time.Hour), webhookd.DeliveryFailed)          // 1 delivery, 2 attempts
	oldPending := publish(a.ID, now.Add(-200*time.Hour), webhookd.DeliveryPending)     // kept: still pending
	oldOther := publish(other.ID, now.Add(-100*time.Hour), webhookd.DeliverySucceeded) // 1 delivery, 1 attempt
	recent := publish(a.ID, now.Add(-time.Hour), webhookd.DeliverySucceeded)           // kept: recent

	steps := []struct {
		limit int
		want  store.Purged
	}{
		{1, store.Purged{Events: 1, Deliveries: 1, Attempts: 2}},  // the oldest first
		{10, store.Purged{Events: 1, Deliveries: 1, Attempts: 1}}, // then the rest, whatever the account
		{10, store.Purged{}}, // nothing left to purge
	}
	for i, step := range steps {
		got, err := s.PurgeEvents(ctx, cutoff, step.limit)
		if err != nil {
			t.Fatalf("PurgeEvents #%d: %v", i+1, err)
		}
		if got != step.want {
			t.Fatalf("PurgeEvents #%d (limit %d) = %+v, want %+v", i+1, step.limit, got, step.want)
		}
		if i == 0 {
			if _, err := s.GetEvent(ctx, "", oldOther.ev.ID); err != nil {
				t.Fatalf("after a batch of 1, the second-oldest event is gone: %v", err)
			}
		}
	}
	for _, gone := range []published{oldest, oldOther} {
		_, err := s.GetEvent(ctx, "", gone.ev.ID)
		wantKind(t, "GetEvent(purged)", err, webhookd.KindNotFound)
		_, err = s.GetDelivery(ctx, "", gone.d.ID)
		wantKind(t, "GetDelivery(purged)", err, webhookd.KindNotFound)
	}
	for _, kept := range []published{oldPending, recent} {
		if _, err := s.GetEvent(ctx, "", kept.ev.ID); err != nil {
			t.Errorf("GetEvent(%s): %v; want it kept", kept.ev.ID, err)
		}
		if _, err := s.GetDelivery(ctx, "", kept.d.ID); err != nil {
			t.Errorf("GetDelivery(%s): %v; want it kept", kept.d.ID, err)
		}
	}

	for _, limit := range []int{0, -1, 10001} {
		_, err := s.PurgeEvents(ctx, cutoff, limit)
		wantKind(t, "PurgeEvents(bad limit)", err, webhookd.KindInvalid)
	}
}
