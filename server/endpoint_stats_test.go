package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/store/storetest"
)

// testEndpointStats: GetEndpoint and ListEndpoints carry each endpoint's
// deliveries that succeeded and failed in the last 24 hours and its latest
// error, whether from a failed delivery or one being retried. The api role
// attempts nothing, so outcomes are recorded in the database directly, as
// the engine records them.
func testEndpointStats(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	idle := c.createEndpoint(t, tn, "user.registered")
	for i := range 5 {
		publish(t, c, tn, propertyCreated, "", map[string]any{"n": i})
	}
	deliveries := deliveriesOf(t, c, tn, ep.GetName())
	if len(deliveries) != 5 {
		t.Fatalf("%d deliveries, want 5", len(deliveries))
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	outcomes := []struct {
		status webhookd.DeliveryStatus
		err    string
		at     time.Time
	}{
		{webhookd.DeliverySucceeded, "", now.Add(-time.Minute)},
		{webhookd.DeliverySucceeded, "", now.Add(-2 * time.Minute)},
		{webhookd.DeliverySucceeded, "", now.Add(-25 * time.Hour)}, // out of the window
		{webhookd.DeliveryFailed, "dial tcp: connection refused", now.Add(-3 * time.Minute)},
		{webhookd.DeliveryPending, "HTTP 500 Internal Server Error", now.Add(-30 * time.Second)},
	}
	ids := webhookd.NewIDGenerator(nil)
	for i, o := range outcomes {
		d, err := c.store.GetDelivery(t.Context(), "", strings.TrimPrefix(deliveries[i].GetName(), "deliveries/"))
		if err != nil {
			t.Fatal(err)
		}
		d.AttemptCount++
		d.Status, d.LastError, d.UpdateTime = o.status, o.err, o.at
		d.NextAttemptTime, d.NextTrigger = time.Time{}, webhookd.TriggerRetry
		if o.status == webhookd.DeliveryPending {
			d.NextAttemptTime = now.Add(time.Hour)
		}
		a := &webhookd.Attempt{ID: ids.New(webhookd.PrefixAttempt), DeliveryID: d.ID, Number: d.AttemptCount,
			Trigger: webhookd.TriggerInitial, StartTime: o.at, Duration: time.Millisecond, Error: o.err}
		if o.err == "" {
			a.ResponseStatus = 200
		}
		if err := storetest.RecordAttempt(t.Context(), c.store, a, d); err != nil {
			t.Fatalf("RecordAttempt %d: %v", i, err)
		}
	}

	check := func(where string, got *webhooksv1.EndpointStats, succeeded, failed int64, lastError string, lastErrorTime time.Time) {
		t.Helper()
		desc := fmt.Sprintf("%s: stats %v", where, got)
		if got == nil {
			t.Fatalf("%s: no stats", where)
		}
		if got.GetSucceeded_24H() != succeeded || got.GetFailed_24H() != failed || got.GetLastError() != lastError {
			t.Fatalf("%s, want %d succeeded, %d failed, last error %q", desc, succeeded, failed, lastError)
		}
		if lastErrorTime.IsZero() != (got.GetLastErrorTime() == nil) ||
			got.GetLastErrorTime() != nil && !got.GetLastErrorTime().AsTime().Equal(lastErrorTime) {
			t.Fatalf("%s, want last error time %v", desc, lastErrorTime)
		}
	}
	got, err := c.ws.GetEndpoint(tn.ctx, &webhooksv1.GetEndpointRequest{Name: ep.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	check("GetEndpoint", got.GetStats(), 2, 1, "HTTP 500 Internal Server Error", now.Add(-30*time.Second))
	list, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetEndpoints()) != 2 {
		t.Fatalf("%d endpoints, want 2", len(list.GetEndpoints()))
	}
	for _, e := range list.GetEndpoints() {
		switch e.GetName() {
		case ep.GetName():
			check("ListEndpoints", e.GetStats(), 2, 1, "HTTP 500 Internal Server Error", now.Add(-30*time.Second))
		case idle.GetName():
			check("ListEndpoints, an endpoint without deliveries", e.GetStats(), 0, 0, "", time.Time{})
		}
	}
}
