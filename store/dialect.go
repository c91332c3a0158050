package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

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
	// publishEvents is Store.PublishEvents.
	publishEvents(ctx context.Context, evs []*webhookd.Event, newID func(prefix string) string) ([]PublishResult, error)
	// loadDeliveryWorks is LoadDeliveryWorks before the endpoints' secrets
	// are opened.
	loadDeliveryWorks(ctx context.Context, deliveryIDs []string) (map[string]*DeliveryWork, error)
	// recordAttempts writes RecordAttempts' valid records (errs[i] nil),
	// each guarded by its expected attempt count, with the endpoints'
	// failure clocks (healths), atomically, and sets applied[i] for each
	// record whose guard held. An error means nothing was written.
	recordAttempts(ctx context.Context, records []AttemptRecord, expected []int, errs []error, applied []bool, healths []endpointHealth) error
	// purgeEvents is PurgeEvents once limit is checked; before is a
	// database time (dbTime).
	purgeEvents(ctx context.Context, before time.Time, limit int) (Purged, error)
	// lockAccountEndpoints, inside tx, makes endpoint creates of the
	// account take turns until tx ends, so that CreateEndpoint's count of
	// the account's endpoints stays true until its insert.
	lockAccountEndpoints(ctx context.Context, tx *ent.Tx, accountID string) error
	// rebind turns the ? placeholders of a raw statement into the
	// database's own.
	rebind(query string) string
	// seedDeliveriesStatement is SeedDeliveries' INSERT of a generated
	// series, with the placeholders of rebind and the arguments n,
	// idPrefix, account id, event id, endpoint id, event type, create
	// time, update time.
	seedDeliveriesStatement() string
	// close stops what the paths run of their own (the PostgreSQL publish
	// batcher); the database is the Store's to close.
	close()
}

// portablePaths is sqlPaths in portable Ent code (see sqlPaths).
type portablePaths struct {
	client *ent.Client
	// publisher group-commits publishes (publish_batch_sqlite.go); nil
	// publishes each in a transaction of its own.
	publisher *sqlitePublishBatcher
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

func (p portablePaths) close() {
	if p.publisher != nil {
		p.publisher.close()
	}
}

func (p *postgresPaths) close() { p.publisher.close() }

// lockAccountEndpoints takes no lock: SQLite, the database this runs on, has
// a single writer, so every transaction takes turns already.
func (portablePaths) lockAccountEndpoints(context.Context, *ent.Tx, string) error { return nil }

// lockAccountEndpoints locks the account's row.
func (p *postgresPaths) lockAccountEndpoints(ctx context.Context, tx *ent.Tx, accountID string) error {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, accountID); err != nil {
		return classify(err, "creating endpoint")
	}
	return nil
}

func (portablePaths) rebind(query string) string { return query }

// rebind numbers the placeholders: $1, $2…
func (p *postgresPaths) rebind(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
