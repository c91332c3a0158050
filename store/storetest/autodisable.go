package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// The cases in this file cover the endpoint failure clock that
// RecordAttempts keeps and the auto-disable it triggers.

// outcome is one attempt of a scripted endpoint history: at hours after
// the script's start, succeeded or failed.
type outcome struct {
	at int // hours
	ok bool
}

func fail(at int) outcome    { return outcome{at: at} }
func succeed(at int) outcome { return outcome{at: at, ok: true} }

func testAutoDisable(t *testing.T, s store.Store, f *fixture) {
	t0 := time.Now().Add(-2000 * time.Hour).UTC().Truncate(time.Second)
	hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	const period = 120 * time.Hour
	none := -1

	cases := []struct {
		name    string
		period  time.Duration
		batches [][]outcome
		// reenable, when set, re-enables the endpoint after batch number
		// reenable-1 (1-based) through EnableEndpoint.
		reenable     int
		wantFailing  int // hours; none when not failing
		wantDisabled int // hours of the disabling attempt; none when enabled
		wantSince    int // hours quoted by the reason
	}{
		{name: "first failure starts the clock", period: period,
			batches: [][]outcome{{fail(0)}}, wantFailing: 0, wantDisabled: none},
		{name: "a success stops the clock", period: period,
			batches: [][]outcome{{fail(0)}, {succeed(1)}}, wantFailing: none, wantDisabled: none},
		{name: "later failures keep the first one's time", period: period,
			batches: [][]outcome{{fail(0)}, {fail(10)}, {fail(119)}}, wantFailing: 0, wantDisabled: none},
		{name: "failing for the whole period disables", period: period,
			batches: [][]outcome{{fail(0)}, {fail(60)}, {fail(120)}}, wantFailing: 0, wantDisabled: 120, wantSince: 0},
		{name: "a success within the period restarts the clock", period: period,
			batches: [][]outcome{{fail(0)}, {succeed(60)}, {fail(100)}, {fail(130)}}, wantFailing: 100, wantDisabled: none},
		{name: "a zero period never disables", period: 0,
			batches: [][]outcome{{fail(0)}, {fail(1000)}}, wantFailing: 0, wantDisabled: none},
		{name: "one batch: failures after a success count from the first of them", period: period,
			batches: [][]outcome{{fail(0), succeed(1), fail(3), fail(2)}}, wantFailing: 2, wantDisabled: none},
		{name: "one batch: a success last stops the clock", period: period,
			batches: [][]outcome{{fail(0)}, {fail(1), succeed(3), fail(2)}}, wantFailing: none, wantDisabled: none},
		{name: "one batch can disable", period: period,
			batches: [][]outcome{{fail(121), fail(0), fail(5)}}, wantFailing: 0, wantDisabled: 121, wantSince: 0},
		{name: "re-enabling restarts the clock", period: period, reenable: 3,
			batches: [][]outcome{{fail(0)}, {fail(130)}, {fail(200)}}, wantFailing: 200, wantDisabled: none},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a := f.account(t, s)
			ep := f.endpoint(t, s, a.ID, nil)
			var lastDelivery string
			for i, batch := range c.batches {
				if c.reenable == i+1 {
					got, err := s.GetEndpoint(ctx, a.ID, ep.ID)
					if err != nil {
						t.Fatalf("GetEndpoint: %v", err)
					}
					if !got.Disabled {
						t.Fatalf("before re-enabling: endpoint is enabled, want disabled by the earlier failures")
					}
					got, err = s.EnableEndpoint(ctx, a.ID, ep.ID, time.Now())
					if err != nil {
						t.Fatalf("EnableEndpoint: %v", err)
					}
					if got.Disabled || got.DisabledReason != "" || !got.FailingSince.IsZero() || !got.DisableTime.IsZero() {
						t.Errorf("EnableEndpoint left disabled %v, reason %q, FailingSince %v, DisableTime %v; want all cleared",
							got.Disabled, got.DisabledReason, got.FailingSince, got.DisableTime)
					}
				}
				records := make([]store.AttemptRecord, len(batch))
				for j, o := range batch {
					records[j] = f.scriptedAttempt(t, s, a.ID, hour(o.at), o.ok, c.period)
					lastDelivery = records[j].Delivery.ID
				}
				errs, err := s.RecordAttempts(ctx, records)
				if err != nil {
					t.Fatalf("RecordAttempts(batch %d): %v", i+1, err)
				}
				for j, err := range errs {
					if err != nil {
						t.Fatalf("RecordAttempts(batch %d): record %d: %v", i+1, j, err)
					}
				}
			}

			got, err := s.GetEndpoint(ctx, a.ID, ep.ID)
			if err != nil {
				t.Fatalf("GetEndpoint: %v", err)
			}
			wantFailing := time.Time{}
			if c.wantFailing != none {
				wantFailing = hour(c.wantFailing)
			}
			if !got.FailingSince.Equal(wantFailing) {
				t.Errorf("FailingSince = %v, want %v", got.FailingSince, wantFailing)
			}
			if c.wantDisabled == none {
				if got.Disabled || got.DisabledReason != "" || !got.DisableTime.IsZero() {
					t.Errorf("endpoint disabled=%v reason=%q at %v; want enabled", got.Disabled, got.DisabledReason, got.DisableTime)
				}
				return
			}
			wantReason := "every delivery attempt failed since " + hour(c.wantSince).Format(time.RFC3339)
			if !got.Disabled || got.DisabledReason != wantReason || !got.DisableTime.Equal(hour(c.wantDisabled)) {
				t.Errorf("endpoint disabled=%v reason=%q at %v; want disabled, %q at %v",
					got.Disabled, got.DisabledReason, got.DisableTime, wantReason, hour(c.wantDisabled))
			}
			// The engine sees it disabled.
			w, err := LoadDeliveryWork(ctx, s, lastDelivery)
			if err != nil {
				t.Fatalf("LoadDeliveryWork: %v", err)
			}
			if !w.Endpoint.Disabled || w.Endpoint.DisabledReason != wantReason || !w.Endpoint.FailingSince.Equal(hour(c.wantFailing)) {
				t.Errorf("LoadDeliveryWork endpoint: disabled=%v reason=%q failing since %v; want disabled, %q, %v",
					w.Endpoint.Disabled, w.Endpoint.DisabledReason, w.Endpoint.FailingSince, wantReason, hour(c.wantFailing))
			}
		})
	}
}

// testEndpointUpdateKeepsFailureClock checks that changes other than
// enabling leave the failure clock alone, and that disabling stamps a
// disable time.
func testEndpointUpdateKeepsFailureClock(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	a := f.account(t, s)
	ep := f.endpoint(t, s, a.ID, nil)
	failedAt := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	rec := f.scriptedAttempt(t, s, a.ID, failedAt, false, time.Hour)
	if err := RecordAttempt(ctx, s, rec.Attempt, rec.Delivery); err != nil {
		t.Fatalf("RecordAttempt: %v", err)
	}

	got, err := s.GetEndpoint(ctx, a.ID, ep.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	got.Description, got.UpdateTime = "renamed", time.Now()
	if err := s.UpdateEndpoint(ctx, a.ID, got); err != nil {
		t.Fatalf("UpdateEndpoint(description): %v", err)
	}
	disabledAt := time.Now().UTC().Truncate(time.Second)
	if _, err := s.DisableEndpoint(ctx, a.ID, ep.ID, "disabled through the API", disabledAt); err != nil {
		t.Fatalf("DisableEndpoint: %v", err)
	}
	got, err = s.GetEndpoint(ctx, a.ID, ep.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if !got.FailingSince.Equal(failedAt) {
		t.Errorf("after updates, FailingSince = %v, want %v (only enabling restarts it)", got.FailingSince, failedAt)
	}
	if !got.DisableTime.Equal(disabledAt) {
		t.Errorf("after disabling, DisableTime = %v, want %v", got.DisableTime, disabledAt)
	}
}

// scriptedAttempt publishes an event to the account's one endpoint and
// returns the record of its first attempt at at, succeeded or failed.
func (f *fixture) scriptedAttempt(t *testing.T, s store.Store, accountID string, at time.Time, ok bool, period time.Duration) store.AttemptRecord {
	t.Helper()
	_, ds := f.publish(t, s, f.event(accountID, "property.created", time.Now()))
	if len(ds) != 1 {
		t.Fatalf("publish made %d deliveries, want 1", len(ds))
	}
	status, code, next := webhookd.DeliveryPending, 500, at.Add(time.Hour)
	if ok {
		status, code, next = webhookd.DeliverySucceeded, 204, time.Time{}
	}
	a, d := f.attemptFor(ds[0], status, code, next)
	a.StartTime = at
	return store.AttemptRecord{Attempt: a, Delivery: d, AutoDisableAfter: period}
}
