package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// The cases in this file cover what the delivery engine and the delivery
// control API write: attempts, due listings, test events, retries and
// endpoint recovery.

// attemptFor returns the next attempt of d and d's state after it, as the
// engine builds them: the attempt count moves on by one.
func (f *fixture) attemptFor(d *webhookd.Delivery, status webhookd.DeliveryStatus, responseStatus int, next time.Time) (*webhookd.Attempt, *webhookd.Delivery) {
	now := time.Now()
	after := *d
	after.Attempts = nil
	after.AttemptCount++
	after.Status = status
	after.NextAttemptTime = next
	after.NextTrigger = webhookd.TriggerRetry
	after.LastResponseStatus = responseStatus
	after.LastError = ""
	if responseStatus >= 300 {
		after.LastError = fmt.Sprintf("receiver answered HTTP %d", responseStatus)
	}
	after.UpdateTime = now
	a := &webhookd.Attempt{
		ID:             f.ids.New(webhookd.PrefixAttempt),
		DeliveryID:     d.ID,
		Number:         after.AttemptCount,
		Trigger:        d.NextTrigger,
		StartTime:      now.Add(-time.Second),
		Duration:       1234567891 * time.Nanosecond,
		ResponseStatus: responseStatus,
		ResponseBody:   "ok",
		Error:          after.LastError,
	}
	return a, &after
}

// fail records one failed attempt that makes d final (failed) and returns
// d's new state.
func (f *fixture) fail(t *testing.T, s store.Store, d *webhookd.Delivery) *webhookd.Delivery {
	t.Helper()
	a, after := f.attemptFor(d, webhookd.DeliveryFailed, 500, time.Time{})
	if err := RecordAttempt(context.Background(), s, a, after); err != nil {
		t.Fatalf("RecordAttempt(failing %s): %v", d.ID, err)
	}
	return after
}

func getDelivery(t *testing.T, s store.Store, id string) *webhookd.Delivery {
	t.Helper()
	d, err := s.GetDelivery(context.Background(), "", id)
	if err != nil {
		t.Fatalf("GetDelivery(%s): %v", id, err)
	}
	return d
}

func testLoadDeliveryWork(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	ep := f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) {
		e.PreviousSecret = "whsec_old"
		e.PreviousSecretExpireTime = time.Now().Add(time.Hour)
	})
	ev, deliveries := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
	d := deliveries[0]

	work, err := LoadDeliveryWork(ctx, s, d.ID)
	if err != nil {
		t.Fatalf("LoadDeliveryWork: %v", err)
	}
	if diff := cmp.Diff(d, work.Delivery); diff != "" {
		t.Errorf("work.Delivery (-published +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(ev, work.Event); diff != "" {
		t.Errorf("work.Event (-published +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(ep, work.Endpoint); diff != "" {
		t.Errorf("work.Endpoint (-created +loaded):\n%s", diff)
	}

	_, err = LoadDeliveryWork(ctx, s, f.ids.New(webhookd.PrefixDelivery))
	wantKind(t, "LoadDeliveryWork(missing)", err, webhookd.KindNotFound)
	if err := s.DeleteEndpoint(ctx, acct.ID, ep.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	_, err = LoadDeliveryWork(ctx, s, d.ID)
	wantKind(t, "LoadDeliveryWork(endpoint deleted)", err, webhookd.KindNotFound)
}

func testRecordAttempt(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	f.endpoint(t, s, acct.ID, nil)
	_, deliveries := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
	d := deliveries[0]
	if d.NextTrigger != webhookd.TriggerInitial {
		t.Errorf("published delivery has next trigger %q, want initial", d.NextTrigger)
	}

	// Attempt 1 fails; a retry is due in a minute. Times carry nanoseconds
	// and a zone to show they are kept as the database keeps them.
	zone := time.FixedZone("CET", 3600)
	first, afterFirst := f.attemptFor(d, webhookd.DeliveryPending, 503, time.Now().Add(time.Minute).In(zone))
	first.StartTime = first.StartTime.In(zone)
	first.ResponseBody = "busy \x00\xff tail" // NUL and invalid UTF-8, as receivers send
	if err := RecordAttempt(ctx, s, first, afterFirst); err != nil {
		t.Fatalf("RecordAttempt(1): %v", err)
	}
	if first.ResponseBody != "busy \uFFFD\uFFFD tail" {
		t.Errorf("stored body excerpt = %q, want NUL and invalid bytes replaced", first.ResponseBody)
	}
	got := getDelivery(t, s, d.ID)
	want := *afterFirst
	want.Attempts = []*webhookd.Attempt{first}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("after attempt 1 (-recorded +got):\n%s", diff)
	}
	if a := got.Attempts[0]; a.Duration != 1234567891*time.Nanosecond || a.StartTime.Location() != time.UTC || a.StartTime.Nanosecond()%1000 != 0 {
		t.Errorf("attempt read back: duration %v, start %v; want the exact duration, a UTC start to the microsecond", a.Duration, a.StartTime)
	}

	t.Run("StaleAttemptConflicts", func(t *testing.T) {
		// A worker that loaded the delivery before attempt 1 was recorded
		// tries to record its own attempt 1.
		stale, staleAfter := f.attemptFor(d, webhookd.DeliverySucceeded, 200, time.Time{})
		wantKind(t, "RecordAttempt(stale)", RecordAttempt(ctx, s, stale, staleAfter), webhookd.KindConflict)
		// Without an attempt the guard is the count itself.
		noAttempt := *d
		noAttempt.Status = webhookd.DeliveryFailed
		wantKind(t, "RecordAttempt(nil, stale)", RecordAttempt(ctx, s, nil, &noAttempt), webhookd.KindConflict)
		if diff := cmp.Diff(&want, getDelivery(t, s, d.ID)); diff != "" {
			t.Errorf("a conflicting record wrote (-before +after):\n%s", diff)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		skipping, after := f.attemptFor(afterFirst, webhookd.DeliveryPending, 500, time.Now())
		skipping.Number = 5
		wantKind(t, "RecordAttempt(number not the new count)", RecordAttempt(ctx, s, skipping, after), webhookd.KindInvalid)
		unknown, after := f.attemptFor(afterFirst, webhookd.DeliveryPending, 500, time.Now())
		after.NextTrigger = "whenever"
		wantKind(t, "RecordAttempt(unknown trigger)", RecordAttempt(ctx, s, unknown, after), webhookd.KindInvalid)
	})

	// Attempt 2 succeeds: final, no next attempt time.
	second, afterSecond := f.attemptFor(afterFirst, webhookd.DeliverySucceeded, 204, time.Time{})
	if second.Trigger != webhookd.TriggerRetry {
		t.Fatalf("second attempt trigger %q, want retry (taken from the delivery)", second.Trigger)
	}
	if err := RecordAttempt(ctx, s, second, afterSecond); err != nil {
		t.Fatalf("RecordAttempt(2): %v", err)
	}
	got = getDelivery(t, s, d.ID)
	want = *afterSecond
	want.Attempts = []*webhookd.Attempt{first, second}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("after attempt 2 (-recorded +got):\n%s", diff)
	}

	t.Run("WithoutAttempt", func(t *testing.T) {
		// The engine found the endpoint disabled: state only, count kept.
		_, ds := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
		d := *ds[0]
		d.Status = webhookd.DeliveryFailed
		d.NextAttemptTime = time.Time{}
		d.LastError = "endpoint disabled"
		d.UpdateTime = time.Now()
		if err := RecordAttempt(ctx, s, nil, &d); err != nil {
			t.Fatalf("RecordAttempt(nil): %v", err)
		}
		want := d
		want.Attempts = []*webhookd.Attempt{}
		if diff := cmp.Diff(&want, getDelivery(t, s, d.ID)); diff != "" {
			t.Errorf("after a state-only record (-recorded +got):\n%s", diff)
		}
	})
	t.Run("MissingDeliveryConflicts", func(t *testing.T) {
		gone := *d
		gone.ID = f.ids.New(webhookd.PrefixDelivery)
		a, after := f.attemptFor(&gone, webhookd.DeliverySucceeded, 200, time.Time{})
		wantKind(t, "RecordAttempt(missing delivery)", RecordAttempt(ctx, s, a, after), webhookd.KindConflict)
	})
}

func testRecordAttemptConcurrent(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	f.endpoint(t, s, acct.ID, nil)
	for round := range 3 {
		_, deliveries := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
		d := deliveries[0]
		const workers = 8
		errs := make([]error, workers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range workers {
			a, after := f.attemptFor(d, webhookd.DeliveryPending, 500+i, time.Now().Add(time.Minute))
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = RecordAttempt(ctx, s, a, after)
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("round %d: workers %d and %d both recorded attempt 1", round, winner, i)
			case err == nil:
				winner = i
			case webhookd.KindOf(err) != webhookd.KindConflict:
				t.Errorf("round %d: worker %d: %v, want kind conflict", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no worker recorded attempt 1: %v", round, errs)
		}
		got := getDelivery(t, s, d.ID)
		if got.AttemptCount != 1 || len(got.Attempts) != 1 || got.LastResponseStatus != 500+winner || got.Attempts[0].ResponseStatus != 500+winner {
			t.Errorf("round %d: delivery after the race = count %d, %d attempts, last status %d; want the winner's (%d) alone",
				round, got.AttemptCount, len(got.Attempts), got.LastResponseStatus, 500+winner)
		}
	}
}

// testListDueDeliveries runs on a store of its own: the due listing spans
// every account.
func testListDueDeliveries(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	now := time.Now()
	var due []string
	for range 2 {
		acct := f.account(t, s)
		f.endpoint(t, s, acct.ID, nil)
		f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"property.created"} })
		for i := range 4 {
			_, ds := f.publish(t, s, f.event(acct.ID, "property.created", now.Add(-time.Duration(i)*time.Minute)))
			for _, d := range ds {
				due = append(due, d.ID)
			}
		}
		// Not due: a retry an hour from now.
		_, ds := f.publish(t, s, f.event(acct.ID, "property.created", now))
		a, later := f.attemptFor(ds[0], webhookd.DeliveryPending, 500, now.Add(time.Hour))
		if err := RecordAttempt(ctx, s, a, later); err != nil {
			t.Fatal(err)
		}
		due = append(due, ds[1].ID)
		// Not pending: final deliveries are never due.
		_, ds = f.publish(t, s, f.event(acct.ID, "property.created", now.Add(-time.Hour)))
		f.fail(t, s, ds[0])
		a, done := f.attemptFor(ds[1], webhookd.DeliverySucceeded, 200, time.Time{})
		if err := RecordAttempt(ctx, s, a, done); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(due)

	list := func(at time.Time, size int) []string {
		var all []string
		after := ""
		for range 100 {
			page, err := s.ListDueDeliveries(ctx, at, after, size)
			if err != nil {
				t.Fatalf("ListDueDeliveries(after %q): %v", after, err)
			}
			if len(page) > size {
				t.Fatalf("page of %d, asked for %d", len(page), size)
			}
			for _, d := range page {
				if d.Status != webhookd.DeliveryPending || d.NextAttemptTime.After(at) {
					t.Errorf("listed %s: status %s, due %v; want pending and due by %v", d.ID, d.Status, d.NextAttemptTime, at)
				}
			}
			all = append(all, ids(page, deliveryID)...)
			if len(page) < size {
				return all
			}
			after = page[len(page)-1].ID
		}
		t.Fatal("due listing did not end")
		return nil
	}
	for _, size := range []int{1, 3, len(due), 100} {
		if diff := cmp.Diff(due, list(now, size)); diff != "" {
			t.Errorf("due deliveries in pages of %d (-want +got):\n%s", size, diff)
		}
	}
	// "At or before": a delivery due exactly at the bound is listed.
	if got := list(now.Add(-3*time.Minute), 100); len(got) != 4 {
		t.Errorf("due by now-3m: %d deliveries, want 4 (two accounts × two endpoints, due exactly then)", len(got))
	}
	if got := list(now.Add(2*time.Hour), 100); len(got) != len(due)+2 {
		t.Errorf("due in two hours: %d deliveries, want %d (the retries count too)", len(got), len(due)+2)
	}
	_, err := s.ListDueDeliveries(ctx, now, "", 0)
	wantKind(t, "ListDueDeliveries(limit 0)", err, webhookd.KindInvalid)
}

func testCreateTestDelivery(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	// Test events go to the endpoint asked for, whatever it subscribes to.
	ep := f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"invoice.paid"} })
	f.endpoint(t, s, acct.ID, nil)
	othersEndpoint := f.endpoint(t, s, other.ID, nil)

	at := time.Now().Add(-time.Second)
	ev := f.event(acct.ID, "property.created", at)
	ev.Test = true
	d, err := s.CreateTestDelivery(ctx, ev, ep.ID, f.ids.New)
	if err != nil {
		t.Fatalf("CreateTestDelivery: %v", err)
	}
	stamp := at.UTC().Truncate(time.Microsecond)
	want := &webhookd.Delivery{
		ID: d.ID, AccountID: acct.ID, EventID: ev.ID, EndpointID: ep.ID, EventType: ev.Type,
		Status: webhookd.DeliveryPending, NextAttemptTime: stamp, NextTrigger: webhookd.TriggerTest,
		CreateTime: stamp, UpdateTime: stamp,
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("test delivery (-want +got):\n%s", diff)
	}
	want.Attempts = []*webhookd.Attempt{}
	if diff := cmp.Diff(want, getDelivery(t, s, d.ID)); diff != "" {
		t.Errorf("GetDelivery(test delivery) (-want +got):\n%s", diff)
	}
	stored, err := s.GetEvent(ctx, acct.ID, ev.ID)
	if err != nil {
		t.Fatalf("GetEvent(test event): %v", err)
	}
	if diff := cmp.Diff(ev, stored); diff != "" {
		t.Errorf("stored test event (-given +stored):\n%s", diff)
	}
	if events, err := s.ListEvents(ctx, store.EventFilter{AccountID: acct.ID}, store.Page{Size: 10}); err != nil || len(events) != 0 {
		t.Errorf("ListEvents = %d events (%v), want the test event left out", len(events), err)
	}
	if all, err := s.ListDeliveries(ctx, store.DeliveryFilter{EventID: ev.ID}, store.Page{Size: 10}); err != nil || len(all) != 1 {
		t.Errorf("test event has %d deliveries (%v), want exactly 1", len(all), err)
	}

	for name, endpointID := range map[string]string{
		"OtherAccountsEndpoint": othersEndpoint.ID,
		"MissingEndpoint":       f.ids.New(webhookd.PrefixEndpoint),
	} {
		t.Run(name, func(t *testing.T) {
			ev := f.event(acct.ID, "property.created", time.Now())
			ev.Test = true
			_, err := s.CreateTestDelivery(ctx, ev, endpointID, f.ids.New)
			wantKind(t, "CreateTestDelivery", err, webhookd.KindNotFound)
			var domain *webhookd.Error
			if errors.As(err, &domain) && !strings.HasPrefix(domain.Message, "endpoint ") {
				t.Errorf("not found says %q, want it to name the endpoint", domain.Message)
			}
			_, err = s.GetEvent(ctx, "", ev.ID)
			wantKind(t, "GetEvent(of a refused test)", err, webhookd.KindNotFound)
		})
	}
}

func testRetryDelivery(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	f.endpoint(t, s, acct.ID, nil)
	_, deliveries := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
	failed := f.fail(t, s, deliveries[0])

	due := time.Now().Add(time.Second)
	_, err := s.RetryDelivery(ctx, other.ID, failed.ID, due)
	wantKind(t, "RetryDelivery(other account)", err, webhookd.KindNotFound)
	_, err = s.RetryDelivery(ctx, acct.ID, f.ids.New(webhookd.PrefixDelivery), due)
	wantKind(t, "RetryDelivery(missing)", err, webhookd.KindNotFound)
	if got := getDelivery(t, s, failed.ID); got.Status != webhookd.DeliveryFailed {
		t.Errorf("a refused retry changed the delivery: %+v", got)
	}

	retried, err := s.RetryDelivery(ctx, acct.ID, failed.ID, due)
	if err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	stamp := due.UTC().Truncate(time.Microsecond)
	want := *failed
	want.Status = webhookd.DeliveryPending
	want.NextAttemptTime = stamp
	want.NextTrigger = webhookd.TriggerManual
	want.UpdateTime = retried.UpdateTime // the store's to choose; checked below
	if diff := cmp.Diff(&want, retried); diff != "" {
		t.Errorf("RetryDelivery (-want +got):\n%s", diff)
	}
	if retried.UpdateTime.Before(failed.UpdateTime) {
		t.Errorf("update time went back from %v to %v", failed.UpdateTime, retried.UpdateTime)
	}
	got := getDelivery(t, s, failed.ID)
	if len(got.Attempts) != 1 || got.NextTrigger != webhookd.TriggerManual || got.AttemptCount != 1 {
		t.Errorf("after retry: %d attempts, trigger %q, count %d; want the history kept, manual, 1", len(got.Attempts), got.NextTrigger, got.AttemptCount)
	}

	// Internal callers pass "" and may retry any delivery, of any status.
	again, err := s.RetryDelivery(ctx, "", failed.ID, due.Add(time.Minute))
	if err != nil || again.Status != webhookd.DeliveryPending || !again.NextAttemptTime.Equal(stamp.Add(time.Minute)) {
		t.Errorf("RetryDelivery(any account, pending) = %+v, %v", again, err)
	}
	// The manual attempt is recorded against the count the retry kept.
	a, after := f.attemptFor(again, webhookd.DeliverySucceeded, 200, time.Time{})
	if a.Trigger != webhookd.TriggerManual || a.Number != 2 {
		t.Fatalf("attempt after retry: trigger %q number %d", a.Trigger, a.Number)
	}
	if err := RecordAttempt(ctx, s, a, after); err != nil {
		t.Fatalf("RecordAttempt after retry: %v", err)
	}
}

func testRecoverEndpoint(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	ep := f.endpoint(t, s, acct.ID, nil)
	sibling := f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"property.created"} })
	at := func(minutes int) time.Time { return f.base.Add(time.Duration(minutes) * time.Minute) }
	since := at(10)

	of := func(ds []*webhookd.Delivery, endpointID string) *webhookd.Delivery {
		for _, d := range ds {
			if d.EndpointID == endpointID {
				return d
			}
		}
		t.Fatalf("no delivery to %s", endpointID)
		return nil
	}
	var want []string
	// Failed before since: stays failed.
	_, ds := f.publish(t, s, f.event(acct.ID, "property.created", at(9)))
	old := f.fail(t, s, of(ds, ep.ID))
	// Failed exactly at since and after: recovered. The sibling's: not.
	for _, m := range []int{10, 11, 12} {
		_, ds := f.publish(t, s, f.event(acct.ID, "property.created", at(m)))
		want = append(want, f.fail(t, s, of(ds, ep.ID)).ID)
		f.fail(t, s, of(ds, sibling.ID))
	}
	slices.Sort(want)
	// Succeeded and pending after since: untouched.
	_, ds = f.publish(t, s, f.event(acct.ID, "property.created", at(13)))
	a, done := f.attemptFor(of(ds, ep.ID), webhookd.DeliverySucceeded, 200, time.Time{})
	if err := RecordAttempt(ctx, s, a, done); err != nil {
		t.Fatal(err)
	}
	_, ds = f.publish(t, s, f.event(acct.ID, "property.created", at(14)))
	pending := of(ds, ep.ID)

	due := time.Now()
	_, err := s.RecoverEndpoint(ctx, other.ID, ep.ID, since, due)
	wantKind(t, "RecoverEndpoint(other account)", err, webhookd.KindNotFound)
	_, err = s.RecoverEndpoint(ctx, acct.ID, f.ids.New(webhookd.PrefixEndpoint), since, due)
	wantKind(t, "RecoverEndpoint(missing)", err, webhookd.KindNotFound)

	recovered, err := s.RecoverEndpoint(ctx, acct.ID, ep.ID, since, due)
	if err != nil {
		t.Fatalf("RecoverEndpoint: %v", err)
	}
	if diff := cmp.Diff(want, ids(recovered, deliveryID)); diff != "" {
		t.Fatalf("recovered (-want +got):\n%s", diff)
	}
	stamp := due.UTC().Truncate(time.Microsecond)
	for _, d := range recovered {
		if d.Status != webhookd.DeliveryPending || !d.NextAttemptTime.Equal(stamp) || d.NextTrigger != webhookd.TriggerManual || d.AttemptCount != 1 {
			t.Errorf("recovered %s = status %s due %v trigger %q count %d; want pending, due %v, manual, count kept",
				d.ID, d.Status, d.NextAttemptTime, d.NextTrigger, d.AttemptCount, stamp)
		}
		if diff := cmp.Diff(d, func() *webhookd.Delivery { g := getDelivery(t, s, d.ID); g.Attempts = nil; return g }()); diff != "" {
			t.Errorf("returned and stored differ (-returned +stored):\n%s", diff)
		}
	}
	for _, unchanged := range []*webhookd.Delivery{old, done, pending} {
		got := getDelivery(t, s, unchanged.ID)
		got.Attempts = nil
		if diff := cmp.Diff(unchanged, got); diff != "" {
			t.Errorf("recovery touched %s (-before +after):\n%s", unchanged.ID, diff)
		}
	}
	siblingFailed, err := s.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: sibling.ID, Statuses: []webhookd.DeliveryStatus{webhookd.DeliveryFailed}}, store.Page{Size: 10})
	if err != nil || len(siblingFailed) != 3 {
		t.Errorf("sibling endpoint has %d failed deliveries (%v), want its 3 untouched", len(siblingFailed), err)
	}

	// Nothing left to recover: an empty result, not an error. Any account
	// for internal callers.
	again, err := s.RecoverEndpoint(ctx, "", ep.ID, since, due)
	if err != nil || len(again) != 0 {
		t.Errorf("second RecoverEndpoint = %d deliveries, %v; want none", len(again), err)
	}
	byAny, err := s.RecoverEndpoint(ctx, "", sibling.ID, time.Time{}, due)
	if err != nil || len(byAny) != 3 {
		t.Errorf("RecoverEndpoint(any account, since zero) = %d deliveries, %v; want 3", len(byAny), err)
	}
}

// testBatches checks the batch forms the engine uses: one load for many
// deliveries (gone ones absent), and one transaction recording many
// outcomes, where each record succeeds or conflicts on its own.
func testBatches(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	f.endpoint(t, s, acct.ID, nil)
	var ds []*webhookd.Delivery
	for range 3 {
		_, got := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
		ds = append(ds, got...)
	}
	if len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3", len(ds))
	}
	works, err := s.LoadDeliveryWorks(ctx, []string{ds[0].ID, "dlv_gone", ds[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(works) != 2 || works[ds[0].ID] == nil || works[ds[2].ID] == nil || works[ds[0].ID].Endpoint == nil || works[ds[2].ID].Event == nil {
		t.Fatalf("LoadDeliveryWorks = %v", works)
	}

	a0, d0 := f.attemptFor(ds[0], webhookd.DeliverySucceeded, 200, time.Time{})
	a1, d1 := f.attemptFor(ds[1], webhookd.DeliveryPending, 500, time.Now().Add(5*time.Minute))
	stale := *ds[2]
	stale.AttemptCount = 5 // as if attempts were recorded meanwhile
	a2, d2 := f.attemptFor(&stale, webhookd.DeliveryFailed, 500, time.Time{})
	bad, dBad := f.attemptFor(ds[2], webhookd.DeliveryFailed, 500, time.Time{})
	bad.Number = 9
	errs, err := s.RecordAttempts(ctx, []store.AttemptRecord{
		{Attempt: a0, Delivery: d0}, {Attempt: a1, Delivery: d1}, {Attempt: a2, Delivery: d2}, {Attempt: bad, Delivery: dBad},
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("valid records failed: %v, %v", errs[0], errs[1])
	}
	wantKind(t, "stale record", errs[2], webhookd.KindConflict)
	wantKind(t, "malformed record", errs[3], webhookd.KindInvalid)
	if got := getDelivery(t, s, ds[0].ID); got.Status != webhookd.DeliverySucceeded || len(got.Attempts) != 1 {
		t.Fatalf("delivery 0: %s with %d attempts", got.Status, len(got.Attempts))
	}
	if got := getDelivery(t, s, ds[1].ID); got.Status != webhookd.DeliveryPending || len(got.Attempts) != 1 || got.Attempts[0].ResponseStatus != 500 {
		t.Fatalf("delivery 1: %s with %v", got.Status, got.Attempts)
	}
	if got := getDelivery(t, s, ds[2].ID); got.AttemptCount != 0 || len(got.Attempts) != 0 {
		t.Fatalf("delivery 2 changed by refused records: %d attempts", got.AttemptCount)
	}
}
