package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/delivery"
)

// This file holds the delivery engine's PostgreSQL statements (see sqlPaths):
// a batch of attempts recorded, and a batch of deliveries loaded, in one
// round trip each.

// recordAttemptsStatement records a batch of attempts in ONE statement, a
// single round trip, as data-modifying CTEs over parallel arrays: the
// guarded delivery updates, the attempts' INSERT joined to the deliveries
// those updates changed (an attempt whose guard failed is not inserted), and
// the endpoints' failure clocks (endpointHealthCTE). A statement is atomic,
// so no transaction is needed. Its text never changes, so PostgreSQL parses
// and plans it once per connection however many records a batch holds.
const recordAttemptsStatement = `WITH v AS (
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
		$7::bigint[], $8::timestamptz[], $9::timestamptz[])
	AS v(id, expected, new_count, status, next_trigger, last_error, last_status, update_time, next_time)),
u AS (UPDATE deliveries AS d SET status = v.status, attempt_count = v.new_count,
	next_trigger = v.next_trigger, last_error = v.last_error, last_response_status = v.last_status,
	update_time = v.update_time, next_attempt_time = v.next_time
	FROM v WHERE d.id = v.id AND d.attempt_count = v.expected RETURNING d.id),
a AS (
	SELECT * FROM unnest($10::text[], $11::text[], $12::bigint[], $13::text[], $14::timestamptz[],
		$15::bigint[], $16::bigint[], $17::text[], $18::text[])
	AS a(id, delivery_id, number, trigger, start_time, duration_ns, response_status, response_body, error)),
ins AS (INSERT INTO attempts (id, delivery_id, number, trigger, start_time, duration_ns, response_status, response_body, error)
	SELECT a.id, a.delivery_id, a.number, a.trigger, a.start_time, a.duration_ns, a.response_status, a.response_body, a.error
	FROM a JOIN u ON u.id = a.delivery_id RETURNING 1),
eh AS (
	SELECT * FROM unnest($19::text[], $20::timestamptz[], $21::timestamptz[], $22::timestamptz[], $23::timestamptz[])
	AS eh(id, last_ok, first_fail, last_fail, cutoff)),
` + endpointHealthCTE + `
SELECT id FROM u`

// recordAttempts runs recordAttemptsStatement for the valid records
// (errs[i] nil) and marks in applied those whose delivery it updated.
func (p *postgresPaths) recordAttempts(ctx context.Context, records []AttemptRecord, expected []int, errs []error, applied []bool, healths []endpointHealth) error {
	var (
		index = map[string]int{}
		// Deliveries, then attempts, then endpoint healths: one array per column.
		dID, dStatus, dTrigger, dError          []string
		dExpected, dCount, dLastStatus          []int64
		dUpdate                                 []time.Time
		dNext                                   []*time.Time
		aID, aDelivery, aTrigger, aBody, aError []string
		aNumber, aDuration, aStatus             []int64
		aStart                                  []time.Time
		hID                                     []string
		hLastOK, hFirstFail, hLastFail, hCutoff []*time.Time
	)
	for i, r := range records {
		if errs[i] != nil {
			continue
		}
		d, a := r.Delivery, r.Attempt
		index[d.ID] = i
		dID, dExpected, dCount = append(dID, d.ID), append(dExpected, int64(expected[i])), append(dCount, int64(d.AttemptCount))
		dStatus, dTrigger = append(dStatus, string(d.Status)), append(dTrigger, string(d.NextTrigger))
		dError, dLastStatus = append(dError, textColumn(d.LastError)), append(dLastStatus, int64(d.LastResponseStatus))
		dUpdate, dNext = append(dUpdate, dbTime(d.UpdateTime)), append(dNext, dbTimeOrNil(d.NextAttemptTime))
		if a != nil {
			aID, aDelivery, aNumber = append(aID, a.ID), append(aDelivery, d.ID), append(aNumber, int64(a.Number))
			aTrigger, aStart = append(aTrigger, string(a.Trigger)), append(aStart, dbTime(a.StartTime))
			aDuration, aStatus = append(aDuration, int64(a.Duration)), append(aStatus, int64(a.ResponseStatus))
			aBody, aError = append(aBody, textColumn(a.ResponseBody)), append(aError, textColumn(a.Error))
		}
	}
	nullable := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	for _, h := range healths {
		hID = append(hID, h.endpointID)
		hLastOK, hFirstFail = append(hLastOK, nullable(h.lastOK)), append(hFirstFail, nullable(h.firstFail))
		hLastFail, hCutoff = append(hLastFail, nullable(h.lastFail)), append(hCutoff, nullable(h.cutoff))
	}
	rows, err := p.db.QueryContext(ctx, recordAttemptsStatement,
		dID, dExpected, dCount, dStatus, dTrigger, dError, dLastStatus, dUpdate, dNext,
		aID, aDelivery, aNumber, aTrigger, aStart, aDuration, aStatus, aBody, aError,
		hID, hLastOK, hFirstFail, hLastFail, hCutoff)
	if err != nil {
		return classify(err, "recording attempts")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return classify(err, "recording attempts")
		}
		if i, ok := index[id]; ok {
			applied[i] = true
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err, "recording attempts")
	}
	return nil
}

// loadDeliveryWorks loads a batch of deliveries with their events and
// endpoints in one joined query, one round trip. Rows are scanned into
// Ent's entity types so that the same conversions as everywhere apply.
func (p *postgresPaths) loadDeliveryWorks(ctx context.Context, deliveryIDs []string) (map[string]*DeliveryWork, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT
	d.id, d.account_id, d.event_id, d.endpoint_id, d.event_type, d.status, d.attempt_count,
	d.next_attempt_time, d.next_trigger, d.last_error, d.last_response_status, d.create_time, d.update_time,
	e.type, e.data, e.idempotency_key, e.test, e.create_time,
	p.url, p.description, p.event_types, p.headers, p.disabled, p.disabled_reason, p.disable_time, p.failing_since, p.secret,
	p.previous_secret, p.previous_secret_expire_time, p.create_time, p.update_time, p.revision, p.development
	FROM deliveries d JOIN events e ON e.id = d.event_id JOIN endpoints p ON p.id = d.endpoint_id
	WHERE d.id = ANY($1)`, deliveryIDs)
	if err != nil {
		return nil, classify(err, "loading delivery work")
	}
	defer rows.Close()
	works := make(map[string]*DeliveryWork, len(deliveryIDs))
	for rows.Next() {
		var (
			d                          ent.Delivery
			e                          ent.Event
			p                          ent.Endpoint
			status, trigger            string
			next, prevExpire           sql.NullTime
			disableTime, failingSince  sql.NullTime
			idempotencyKey             sql.NullString
			eventTypesJSON, headersRaw []byte
		)
		err := rows.Scan(
			&d.ID, &d.AccountID, &d.EventID, &d.EndpointID, &d.EventType, &status, &d.AttemptCount,
			&next, &trigger, &d.LastError, &d.LastResponseStatus, &d.CreateTime, &d.UpdateTime,
			&e.Type, &e.Data, &idempotencyKey, &e.Test, &e.CreateTime,
			&p.URL, &p.Description, &eventTypesJSON, &headersRaw, &p.Disabled, &p.DisabledReason, &disableTime, &failingSince, &p.Secret,
			&p.PreviousSecret, &prevExpire, &p.CreateTime, &p.UpdateTime, &p.Revision, &p.Development)
		if err != nil {
			return nil, classify(err, "loading delivery work")
		}
		d.Status, d.NextTrigger = delivery.Status(status), delivery.NextTrigger(trigger)
		if next.Valid {
			d.NextAttemptTime = &next.Time
		}
		e.ID, e.AccountID = d.EventID, d.AccountID
		if idempotencyKey.Valid {
			e.IdempotencyKey = &idempotencyKey.String
		}
		p.ID, p.AccountID = d.EndpointID, d.AccountID
		if prevExpire.Valid {
			p.PreviousSecretExpireTime = &prevExpire.Time
		}
		if disableTime.Valid {
			p.DisableTime = &disableTime.Time
		}
		if failingSince.Valid {
			p.FailingSince = &failingSince.Time
		}
		if err := json.Unmarshal(eventTypesJSON, &p.EventTypes); err != nil {
			return nil, webhookd.Internal("stored endpoint event types are not JSON", err)
		}
		if len(headersRaw) > 0 {
			if err := json.Unmarshal(headersRaw, &p.Headers); err != nil {
				return nil, webhookd.Internal("stored endpoint headers are not JSON", err)
			}
		}
		works[d.ID] = &DeliveryWork{Delivery: toDelivery(&d), Event: toEvent(&e), Endpoint: toEndpoint(&p)}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, "loading delivery work")
	}
	return works, nil
}
