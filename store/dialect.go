package store

import (
	"context"
	"database/sql"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
)

// sqlPaths is the one place where webhookd's SQL differs by database. Open
// picks an implementation once, for the database it opened, and the Store
// methods call through it instead of testing the dialect themselves:
//
//   - postgresPaths writes the hot paths — publish, the engine's loads and
//     records, retention — as single statements over arrays, one round trip
//     each, because every round trip to a PostgreSQL server costs;
//   - portablePaths is the same work in portable Ent code, which SQLite runs
//     in process, where a round trip costs nothing.
//
// Both answer the same conformance suite (package store/storetest). Methods
// are safe for concurrent use.
type sqlPaths interface {
	// publishEvent is Store.PublishEvent.
	publishEvent(ctx context.Context, ev *webhookd.Event, newID func(prefix string) string) (stored *webhookd.Event, deliveries []*webhookd.Delivery, created bool, err error)
	// close stops what the paths run of their own (the PostgreSQL publish
	// batcher); the database is the Store's to close.
	close()
}

// portablePaths is sqlPaths in portable Ent code (see sqlPaths).
type portablePaths struct {
	client *ent.Client
}

// postgresPaths is sqlPaths for PostgreSQL (see sqlPaths).
type postgresPaths struct {
	client *ent.Client
	db     *sql.DB
	// subscribers sizes the delivery ids a publish brings.
	subscribers *subscriberCounts
	// publisher group-commits publishes.
	publisher *publishBatcher
}

var (
	_ sqlPaths = portablePaths{}
	_ sqlPaths = (*postgresPaths)(nil)
)

func (portablePaths) close() {}

func (p *postgresPaths) close() { p.publisher.close() }
