package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync"

	"github.com/webhookd/webhookd"
)

// subscriberCounts remembers, per account and event type, how many
// endpoints the last publish found, so the next one brings enough delivery
// ids to publish in a single statement. A wrong guess costs a retry, never
// a wrong result.
type subscriberCounts struct {
	m sync.Map // account id + "\x00" + type → int
}

func (c *subscriberCounts) guess(accountID, eventType string) int {
	if v, ok := c.m.Load(accountID + "\x00" + eventType); ok {
		return v.(int)
	}
	return 4
}

func (c *subscriberCounts) remember(accountID, eventType string, n int) {
	c.m.Store(accountID+"\x00"+eventType, n)
}

// publishStatement inserts the event and one delivery per enabled,
// subscribed endpoint of its account in ONE statement, one round trip.
// Delivery ids come from Go (they are time-sortable ids) as an array; if
// the account has more subscribed endpoints than ids were given, nothing
// is inserted and the caller retries with enough. ON CONFLICT on the
// idempotency key inserts nothing either; the rows say which case it was.
const publishStatement = `WITH eps AS (
	SELECT id, update_time, row_number() OVER (ORDER BY id) AS n FROM endpoints
	WHERE account_id = $2 AND NOT disabled AND event_types @> $8::jsonb),
ev AS (
	INSERT INTO events (id, account_id, type, data, idempotency_key, test, create_time)
	SELECT $1, $2, $3, $4, $5, $6, $7
	WHERE (SELECT count(*) FROM eps) <= cardinality($9::text[])
	ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id),
ins AS (
	INSERT INTO deliveries (id, account_id, event_id, endpoint_id, event_type, status, attempt_count,
		next_attempt_time, next_trigger, last_error, last_response_status, create_time, update_time)
	SELECT ($9::text[])[eps.n], $2, ev.id, eps.id, $3, 'pending', 0, $7, 'initial', '', 0, $7, $7
	FROM eps CROSS JOIN ev RETURNING id, endpoint_id)
SELECT 'event', id, '', NULL::timestamptz FROM ev
UNION ALL SELECT 'delivery', ins.id, ins.endpoint_id, eps.update_time FROM ins JOIN eps ON eps.id = ins.endpoint_id
UNION ALL SELECT 'subscribers', (SELECT count(*) FROM eps)::text, '', NULL::timestamptz`

// publishEvent hands the event to the batcher, which writes it with others
// in one statement (publish_batch_postgres.go).
func (p *postgresPaths) publishEvent(ctx context.Context, ev *webhookd.Event, newID func(prefix string) string) (*webhookd.Event, []*webhookd.Delivery, bool, error) {
	stored, deliveries, err := p.publisher.publish(ctx, ev, newID)
	if err == errIdempotentHit {
		original, lookupErr := eventByIdempotencyKey(ctx, p.client, ev.AccountID, ev.IdempotencyKey)
		if lookupErr != nil {
			return nil, nil, false, lookupErr
		}
		return original, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return stored, deliveries, true, nil
}

// publishEvents hands the events to the batcher as one group of their own,
// written by one statement.
func (p *postgresPaths) publishEvents(ctx context.Context, evs []*webhookd.Event, newID func(prefix string) string) ([]PublishResult, error) {
	results := make([]PublishResult, len(evs))
	for i, r := range p.publisher.publishAll(ctx, evs, newID) {
		results[i] = PublishResult{Stored: r.stored, Deliveries: r.deliveries, Created: r.err == nil, Err: r.err}
		if r.err == errIdempotentHit {
			results[i].Stored, results[i].Err = eventByIdempotencyKey(ctx, p.client, evs[i].AccountID, evs[i].IdempotencyKey)
			results[i].Created = false
		}
	}
	return results, nil
}

// publishPostgres is PublishEvent on PostgreSQL: one statement, atomic, so
// the event and its deliveries are written together or not at all.
// errIdempotentHit reports that the idempotency key names an earlier event.
func publishPostgres(ctx context.Context, db *sql.DB, counts *subscriberCounts, ev *webhookd.Event, newID func(prefix string) string) (*webhookd.Event, []*webhookd.Delivery, error) {
	typeJSON, _ := json.Marshal([]string{ev.Type})
	at := dbTime(ev.CreateTime)
	data := ev.Data
	if data == nil {
		data = []byte{} // the column is NOT NULL; an empty payload is still a payload
	}
	want := counts.guess(ev.AccountID, ev.Type)
	for {
		ids := make([]string, want)
		for i := range ids {
			ids[i] = newID(webhookd.PrefixDelivery)
		}
		rows, err := db.QueryContext(ctx, publishStatement,
			ev.ID, ev.AccountID, ev.Type, data, stringOrNil(ev.IdempotencyKey), ev.Test, at, string(typeJSON), ids)
		if err != nil {
			return nil, nil, classifyInsert(err, "event", ev.ID, "account", ev.AccountID)
		}
		created, subscribers := false, 0
		var deliveries []*webhookd.Delivery
		for rows.Next() {
			var (
				kind, a, b  string
				endpointVer sql.NullTime
			)
			if err := rows.Scan(&kind, &a, &b, &endpointVer); err != nil {
				rows.Close()
				return nil, nil, classify(err, "publishing event")
			}
			switch kind {
			case "event":
				created = true
			case "delivery":
				deliveries = append(deliveries, &webhookd.Delivery{
					ID: a, AccountID: ev.AccountID, EventID: ev.ID, EndpointID: b,
					EventType: ev.Type, Status: webhookd.DeliveryPending, NextAttemptTime: at,
					NextTrigger: webhookd.TriggerInitial, CreateTime: at, UpdateTime: at,
					EndpointUpdateTime: endpointVer.Time.UTC(),
				})
			case "subscribers":
				subscribers = atoi(a)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, classifyInsert(err, "event", ev.ID, "account", ev.AccountID)
		}
		counts.remember(ev.AccountID, ev.Type, subscribers)
		switch {
		case created:
			sortByID(deliveries)
			stored := *ev
			stored.Data, stored.CreateTime = data, at
			return &stored, deliveries, nil
		case subscribers > want:
			want = subscribers + 2 // endpoints were added since: bring more ids
		default:
			return nil, nil, errIdempotentHit
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// errIdempotentHit tells PublishEvent to answer with the earlier event.
var errIdempotentHit = &webhookd.Error{Kind: webhookd.KindConflict, Message: "idempotency key already used"}
