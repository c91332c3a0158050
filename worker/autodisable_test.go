package worker_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/worker"
)

// TestAutoDisable follows an endpoint that fails every attempt through the
// retry schedule, on the injected clock: it is disabled by the first failed
// attempt that finds it failing for the auto-disable period, with a reason;
// its delivery's remaining retry then fails without a request; re-enabling
// restarts its failure clock.
func TestAutoDisable(t *testing.T) {
	t.Parallel()
	const period = 6 * time.Hour
	rig := startEngineWith(t, func(c *worker.EngineConfig) { c.AutoDisableAfter = period })
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ep := rig.endpoint(t, srv.URL)
	start := rig.clock.Now()
	d := rig.publish(t)
	getEndpoint := func() *webhookd.Endpoint {
		t.Helper()
		got, err := rig.store.GetEndpoint(t.Context(), "", ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Attempts at 0, 5m, 35m, 2h35m: failing, not yet for the period.
	delays := []time.Duration{5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
	for i, delay := range delays {
		rig.waitAttempts(t, d.ID, i+1)
		got := getEndpoint()
		if got.Disabled || !got.FailingSince.Equal(start) {
			t.Fatalf("after attempt %d: disabled %v, failing since %v; want enabled, failing since %v", i+1, got.Disabled, got.FailingSince, start)
		}
		rig.clock.Advance(delay)
	}
	rig.waitAttempts(t, d.ID, 4)
	if got := getEndpoint(); got.Disabled {
		t.Fatalf("disabled after 2h35m of failures, want only after %v", period)
	}
	// The fifth attempt, 7h35m after the first, disables it.
	rig.clock.Advance(5 * time.Hour)
	fifth := rig.clock.Now()
	rig.waitAttempts(t, d.ID, 5)
	got := getEndpoint()
	wantReason := "every delivery attempt failed since " + start.Format(time.RFC3339)
	if !got.Disabled || got.DisabledReason != wantReason || !got.DisableTime.Equal(fifth) {
		t.Fatalf("after 7h35m of failures: disabled %v, reason %q, at %v; want disabled, %q, at %v",
			got.Disabled, got.DisabledReason, got.DisableTime, wantReason, fifth)
	}

	// The last retry finds the endpoint disabled: no request, the delivery fails.
	rig.clock.Advance(10 * time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for {
		dd, err := rig.store.GetDelivery(t.Context(), "", d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if dd.Status == webhookd.DeliveryFailed {
			if want := "endpoint disabled: " + wantReason; dd.LastError != want || dd.AttemptCount != 5 {
				t.Fatalf("delivery failed with %q after %d attempts, want %q after 5", dd.LastError, dd.AttemptCount, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery still %s after the endpoint was disabled", dd.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := hits.Load(); n != 5 {
		t.Fatalf("receiver got %d requests, want 5", n)
	}

	// Re-enabling clears the reason and the clock.
	if _, err := rig.store.EnableEndpoint(t.Context(), "", got.ID, rig.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := getEndpoint(); got.Disabled || got.DisabledReason != "" || !got.DisableTime.IsZero() || !got.FailingSince.IsZero() {
		t.Fatalf("after re-enabling: disabled %v, reason %q, disable time %v, failing since %v; want all cleared",
			got.Disabled, got.DisabledReason, got.DisableTime, got.FailingSince)
	}
}
