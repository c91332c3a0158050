package store

import (
	"context"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/attempt"
	"github.com/webhookd/webhookd/ent/delivery"
	"github.com/webhookd/webhookd/ent/event"
)

// This file deletes old history for the retention job (worker/retention.go).
// Each call is one bounded transaction, so a purge of millions of rows
// never holds locks for long; deliveries and attempts go with their event
// through the schema's ON DELETE CASCADE.

// maxPurgeBatch bounds one PurgeEvents call, whatever the caller asks.
const maxPurgeBatch = 10000

func (s *entStore) PurgeEvents(ctx context.Context, before time.Time, limit int) (Purged, error) {
	if limit < 1 || limit > maxPurgeBatch {
		return Purged{}, webhookd.Invalid("limit", "must be between 1 and %d", maxPurgeBatch)
	}
	return s.paths.purgeEvents(ctx, dbTime(before), limit)
}

// purgeEvents finds the events, counts what goes with them and deletes them
// in one transaction; PostgreSQL's one statement is purgeEvents below.
func (p portablePaths) purgeEvents(ctx context.Context, before time.Time, limit int) (Purged, error) {
	var purged Purged
	err := withTx(ctx, p.client, "purging events", func(tx *ent.Tx) error {
		ids, err := tx.Event.Query().
			Where(event.CreateTimeLT(before),
				event.Not(event.HasDeliveriesWith(delivery.StatusEQ(delivery.StatusPending)))).
			Order(event.ByCreateTime(), event.ByID()).
			Limit(limit).
			IDs(ctx)
		if err != nil || len(ids) == 0 {
			return classify(err, "purging events")
		}
		deliveries, err := tx.Delivery.Query().Where(delivery.EventIDIn(ids...)).Count(ctx)
		if err != nil {
			return classify(err, "purging events")
		}
		attempts, err := tx.Attempt.Query().Where(attempt.HasDeliveryWith(delivery.EventIDIn(ids...))).Count(ctx)
		if err != nil {
			return classify(err, "purging events")
		}
		n, err := tx.Event.Delete().Where(event.IDIn(ids...)).Exec(ctx)
		if err != nil {
			return classify(err, "purging events")
		}
		purged = Purged{Events: int64(n), Deliveries: int64(deliveries), Attempts: int64(attempts)}
		return nil
	})
	return purged, err
}

// purgeEvents purges in one statement. SKIP LOCKED passes over events
// another purge (or a concurrent change) holds, so two purges never wait
// on each other, and the pending check and the delete see the same rows.
func (pp *postgresPaths) purgeEvents(ctx context.Context, before time.Time, limit int) (Purged, error) {
	var p Purged
	err := pp.db.QueryRowContext(ctx, `WITH victims AS (
	SELECT e.id FROM events e
	WHERE e.create_time < $1
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
	ORDER BY e.create_time, e.id LIMIT $2 FOR UPDATE SKIP LOCKED
), dd AS (
	SELECT d.id FROM deliveries d JOIN victims v ON d.event_id = v.id
), gone AS (
	DELETE FROM events WHERE id IN (SELECT id FROM victims) RETURNING 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM dd),
	(SELECT count(*) FROM attempts a JOIN dd ON a.delivery_id = dd.id)`, before, limit).
		Scan(&p.Events, &p.Deliveries, &p.Attempts)
	if err != nil {
		return Purged{}, classify(err, "purging events")
	}
	return p, nil
}
