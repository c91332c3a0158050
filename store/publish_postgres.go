package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/webhookd/webhookd"
)

// publishPostgres is PublishEvent on PostgreSQL in two round trips instead
// of a five-statement transaction: publishing is the busiest write.
//
//  1. read the enabled endpoints of the account subscribed to the type;
//  2. one statement whose CTEs insert the event (ON CONFLICT on the
//     idempotency key does nothing) and, only if it was inserted, one
//     delivery per endpoint of step 1 that is still enabled and subscribed.
//
// A statement is atomic, so the event and its deliveries are written
// together or not at all. An endpoint created between the two steps gets
// no delivery, exactly as if it had been created just after the publish.
func publishPostgres(ctx context.Context, db *sql.DB, ev *webhookd.Event, newID func(prefix string) string) (*webhookd.Event, []*webhookd.Delivery, bool, error) {
	typeJSON, _ := json.Marshal([]string{ev.Type})
	rows, err := db.QueryContext(ctx, `SELECT id FROM endpoints
	WHERE account_id = $1 AND NOT disabled AND event_types @> $2::jsonb ORDER BY id`, ev.AccountID, string(typeJSON))
	if err != nil {
		return nil, nil, false, classify(err, "selecting subscribed endpoints")
	}
	var endpointIDs []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, false, classify(err, "selecting subscribed endpoints")
		}
		endpointIDs = append(endpointIDs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, false, classify(err, "selecting subscribed endpoints")
	}

	at := dbTime(ev.CreateTime)
	data := ev.Data
	if data == nil {
		data = []byte{} // the column is NOT NULL; an empty payload is still a payload
	}
	args := []any{ev.ID, ev.AccountID, ev.Type, data, stringOrNil(ev.IdempotencyKey), ev.Test, at, string(typeJSON)}
	var q strings.Builder
	q.WriteString(`WITH ev AS (
	INSERT INTO events (id, account_id, type, data, idempotency_key, test, create_time)
	VALUES ($1, $2, $3, $4, $5, $6, $7)
	ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id)`)
	deliveries := make(map[string]*webhookd.Delivery, len(endpointIDs))
	if len(endpointIDs) > 0 {
		q.WriteString(`, v(id, endpoint_id) AS (VALUES `)
		for i, endpointID := range endpointIDs {
			d := &webhookd.Delivery{
				ID: newID(webhookd.PrefixDelivery), AccountID: ev.AccountID, EventID: ev.ID, EndpointID: endpointID,
				EventType: ev.Type, Status: webhookd.DeliveryPending, NextAttemptTime: at,
				NextTrigger: webhookd.TriggerInitial, CreateTime: at, UpdateTime: at,
			}
			deliveries[d.ID] = d
			if i > 0 {
				q.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&q, "($%d::text, $%d::text)", n+1, n+2)
			args = append(args, d.ID, endpointID)
		}
		q.WriteString(`), ins AS (
	INSERT INTO deliveries (id, account_id, event_id, endpoint_id, event_type, status, attempt_count,
		next_attempt_time, next_trigger, last_error, last_response_status, create_time, update_time)
	SELECT v.id, $2, ev.id, v.endpoint_id, $3, 'pending', 0, $7, 'initial', '', 0, $7, $7
	FROM v JOIN endpoints p ON p.id = v.endpoint_id AND p.account_id = $2 AND NOT p.disabled AND p.event_types @> $8::jsonb
	CROSS JOIN ev RETURNING id)
	SELECT 'event', id FROM ev UNION ALL SELECT 'delivery', id FROM ins`)
	} else {
		q.WriteString(` SELECT 'event', id FROM ev WHERE $8::text IS NOT NULL`)
	}
	rows, err = db.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, nil, false, classifyInsert(err, "event", ev.ID, "account", ev.AccountID)
	}
	defer rows.Close()
	created := false
	var inserted []*webhookd.Delivery
	for rows.Next() {
		var kind, id string
		if err := rows.Scan(&kind, &id); err != nil {
			return nil, nil, false, classify(err, "publishing event")
		}
		if kind == "event" {
			created = true
		} else if d, ok := deliveries[id]; ok {
			inserted = append(inserted, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, false, classifyInsert(err, "event", ev.ID, "account", ev.AccountID)
	}
	if !created {
		// The idempotency key names an earlier event: that one is the answer.
		return nil, nil, false, errIdempotentHit
	}
	sortByID(inserted)
	stored := *ev
	stored.Data, stored.CreateTime = data, at
	return &stored, inserted, true, nil
}

// errIdempotentHit tells PublishEvent to answer with the earlier event.
var errIdempotentHit = &webhookd.Error{Kind: webhookd.KindConflict, Message: "idempotency key already used"}
