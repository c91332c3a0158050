// Package storetest is the conformance suite of store.Store: every backend
// (SQLite, PostgreSQL) runs the same cases, so the API and the delivery
// engine can rely on one behaviour whatever database an operator chose.
//
// A backend's test calls Run with a function that opens a fresh, empty,
// migrated store. Most cases share one store and isolate themselves by
// working in accounts of their own; cases about global state (the account
// list, internal keys, the event-type catalog) open a store of their own.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// Run runs the suite. open must return an empty store and arrange (with
// t.Cleanup) for it to be closed and removed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	shared := open(t)
	f := &fixture{ids: webhookd.NewIDGenerator(nil), base: time.Now().UTC().Add(-time.Hour)}

	cases := []struct {
		name string
		run  func(t *testing.T, s store.Store, f *fixture)
	}{
		{"Accounts", testAccounts},
		{"APIKeys", testAPIKeys},
		{"Endpoints", testEndpoints},
		{"EndpointPagination", testEndpointPagination},
		{"UpdateEndpoint", testUpdateEndpoint},
		{"EndpointStateWrites", testEndpointStateWrites},
		{"EndpointWritesRace", testEndpointWritesRace},
		{"EndpointLimit", testEndpointLimit},
		{"DeleteEndpointCascades", testDeleteEndpointCascades},
		{"DevelopmentEndpoint", testDevelopmentEndpoint},
		{"PublishFansOut", testPublishFansOut},
		{"PublishIdempotent", testPublishIdempotent},
		{"PublishManySubscribers", testPublishManySubscribers},
		{"PublishConcurrentSameKey", testPublishConcurrentSameKey},
		{"PublishConcurrentMixed", testPublishConcurrentMixed},
		{"Events", testEvents},
		{"EventFilters", testEventFilters},
		{"Deliveries", testDeliveries},
		{"DeliveryFilters", testDeliveryFilters},
		{"PageSizeValidated", testPageSizeValidated},
		{"LoadDeliveryWork", testLoadDeliveryWork},
		{"RecordAttempt", testRecordAttempt},
		{"Batches", testBatches},
		{"RecordAttemptConcurrent", testRecordAttemptConcurrent},
		{"CreateTestDelivery", testCreateTestDelivery},
		{"RetryDelivery", testRetryDelivery},
		{"RecoverEndpoint", testRecoverEndpoint},
		{"AutoDisable", testAutoDisable},
		{"EndpointUpdateKeepsFailureClock", testEndpointUpdateKeepsFailureClock},
		{"Ping", testPing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, shared, f)
		})
	}

	// Cases over global state each get an empty store.
	isolated := []struct {
		name string
		run  func(t *testing.T, s store.Store, f *fixture)
	}{
		{"AccountPagination", testAccountPagination},
		{"InternalAPIKeys", testInternalAPIKeys},
		{"EventTypes", testEventTypes},
		{"ListDueDeliveries", testListDueDeliveries},
		{"PurgeEvents", testPurgeEvents},
		// Alone, so that its thousands of writes do not slow the others.
		{"PublishAtEndpointLimit", testPublishAtEndpointLimit},
	}
	for _, c := range isolated {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t), f)
		})
	}
}

func testPing(t *testing.T, s store.Store, f *fixture) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
