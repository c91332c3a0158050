package worker

import (
	"context"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// The engine and the listeners need a few methods of the database, not the
// whole store.Store: these interfaces say which, so that a reader sees what
// the delivery path reads and writes, and a test wraps only those. The
// store's contract (store.Store) documents each method; every store.Store
// is both.

// AttemptStore is what the listeners of development endpoints need: the
// claimed deliveries with their event and endpoint, and the recording of
// attempts with the conflict check that keeps two workers from recording
// the same attempt.
type AttemptStore interface {
	// LoadDeliveryWorks returns the deliveries of ids with their events and
	// endpoints; an id whose delivery is gone is absent from the result.
	LoadDeliveryWorks(ctx context.Context, deliveryIDs []string) (map[string]*store.DeliveryWork, error)
	// RecordAttempts stores attempts and the new states of their
	// deliveries in one transaction; errs[i] is record i's outcome
	// (webhookd.KindConflict when another worker recorded first), err when
	// set means nothing was written.
	RecordAttempts(ctx context.Context, records []store.AttemptRecord) (errs []error, err error)
}

// DeliveryStore is what the engine needs: AttemptStore, the due deliveries
// the reconciler puts back into the schedule, the endpoints of hand-offs,
// and disabling an endpoint that answered 410 Gone. Failures to reach the
// database are webhookd.KindUnavailable, which the engine backs off from
// (outage.go). Implementations are safe for concurrent use.
type DeliveryStore interface {
	AttemptStore
	// ListDueDeliveries returns pending deliveries of every account due at
	// or before due, ordered by id, with ids greater than after, at most
	// limit.
	ListDueDeliveries(ctx context.Context, due time.Time, after string, limit int) ([]*webhookd.Delivery, error)
	// GetEndpoint returns the endpoint (accountID "" for any account),
	// webhookd.KindNotFound when it is gone.
	GetEndpoint(ctx context.Context, accountID, id string) (*webhookd.Endpoint, error)
	// DisableEndpoint disables the endpoint with reason at time at, writing
	// nothing but its disabled state.
	DisableEndpoint(ctx context.Context, accountID, id, reason string, at time.Time) (*webhookd.Endpoint, error)
}

var (
	_ DeliveryStore = store.Store(nil)
	_ AttemptStore  = store.Store(nil)
)
