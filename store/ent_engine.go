package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/attempt"
	"github.com/webhookd/webhookd/ent/delivery"
)

// This file holds what the delivery engine and the delivery-control API
// (test events, retries, recovery) write: attempts and the delivery state
// that goes with them.

func (s *entStore) LoadDeliveryWork(ctx context.Context, deliveryID string) (*DeliveryWork, error) {
	works, err := s.LoadDeliveryWorks(ctx, []string{deliveryID})
	if err != nil {
		return nil, err
	}
	w, ok := works[deliveryID]
	if !ok {
		return nil, webhookd.NotFound("delivery", deliveryID)
	}
	return w, nil
}

func (s *entStore) LoadDeliveryWorks(ctx context.Context, deliveryIDs []string) (map[string]*DeliveryWork, error) {
	works, err := s.loadDeliveryWorks(ctx, deliveryIDs)
	if err != nil {
		return nil, err
	}
	if err := s.openWorkSecrets(works); err != nil {
		s.logger.ErrorContext(ctx, "cannot open endpoint secrets; their attempts fail until the right key is configured", "error", err)
	}
	return works, nil
}

func (s *entStore) loadDeliveryWorks(ctx context.Context, deliveryIDs []string) (map[string]*DeliveryWork, error) {
	if s.dialect == dialect.Postgres {
		return loadDeliveryWorksPostgres(ctx, s.db, deliveryIDs)
	}
	// Three queries for the whole batch, whatever its size (Ent eager-loads
	// each edge with one IN query), without a transaction: the engine
	// re-checks nothing here, and RecordAttempts' guard catches whatever
	// changed meanwhile.
	rows, err := s.client.Delivery.Query().
		Where(delivery.IDIn(deliveryIDs...)).
		WithEvent().
		WithEndpoint().
		All(ctx)
	if err != nil {
		return nil, classify(err, "loading delivery work")
	}
	works := make(map[string]*DeliveryWork, len(rows))
	for _, r := range rows {
		// The foreign keys cascade, so a missing edge means the endpoint
		// (and with it the delivery) was deleted between the queries.
		if r.Edges.Event == nil || r.Edges.Endpoint == nil {
			continue
		}
		works[r.ID] = &DeliveryWork{
			Delivery: toDelivery(r),
			Event:    toEvent(r.Edges.Event),
			Endpoint: toEndpoint(r.Edges.Endpoint),
		}
	}
	return works, nil
}

func (s *entStore) RecordAttempt(ctx context.Context, a *webhookd.Attempt, d *webhookd.Delivery) error {
	errs, err := s.RecordAttempts(ctx, []AttemptRecord{{Attempt: a, Delivery: d}})
	if err != nil {
		return err
	}
	return errs[0]
}

// checkRecord validates one record and returns the attempt count the stored
// delivery must still have for the record to apply.
func checkRecord(a *webhookd.Attempt, d *webhookd.Delivery) (int, error) {
	expected := d.AttemptCount
	if a != nil {
		expected = d.AttemptCount - 1
		if a.DeliveryID != "" && a.DeliveryID != d.ID {
			return 0, webhookd.Invalid("attempt.delivery_id", "is %q, want the delivery's id %q", a.DeliveryID, d.ID)
		}
		if a.Number != d.AttemptCount {
			return 0, webhookd.Invalid("attempt.number", "is %d, want the delivery's new attempt count %d", a.Number, d.AttemptCount)
		}
	}
	if expected < 0 {
		return 0, webhookd.Invalid("delivery.attempt_count", "must not be negative")
	}
	// Checked here rather than left to Ent's enum validators, which the
	// bulk PostgreSQL update does not pass through.
	if delivery.StatusValidator(delivery.Status(d.Status)) != nil {
		return 0, webhookd.Invalid("delivery.status", "unknown status %q", d.Status)
	}
	if delivery.NextTriggerValidator(delivery.NextTrigger(d.NextTrigger)) != nil {
		return 0, webhookd.Invalid("delivery.next_trigger", "unknown trigger %q", d.NextTrigger)
	}
	if a != nil && attempt.TriggerValidator(attempt.Trigger(a.Trigger)) != nil {
		return 0, webhookd.Invalid("attempt.trigger", "unknown trigger %q", a.Trigger)
	}
	return expected, nil
}

func (s *entStore) RecordAttempts(ctx context.Context, records []AttemptRecord) ([]error, error) {
	errs := make([]error, len(records))
	expected := make([]int, len(records))
	valid := 0
	for i, r := range records {
		if expected[i], errs[i] = checkRecord(r.Attempt, r.Delivery); errs[i] == nil {
			valid++
		}
	}
	if valid == 0 {
		return errs, nil
	}
	// applied[i] says whether record i's guarded update changed its row.
	applied := make([]bool, len(records))
	healths := endpointHealths(records, errs)
	var err error
	if s.dialect == dialect.Postgres {
		err = recordAttemptsPostgres(ctx, s.db, records, expected, errs, applied, healths)
	} else {
		err = s.recordAttemptsTx(ctx, records, expected, errs, applied, healths)
	}
	if err != nil {
		return nil, err
	}
	for i, r := range records {
		if errs[i] != nil {
			continue
		}
		d, a := r.Delivery, r.Attempt
		if !applied[i] {
			errs[i] = webhookd.Conflict("delivery %q no longer has attempt count %d: another attempt was recorded first", d.ID, expected[i])
			continue
		}
		d.UpdateTime = dbTime(d.UpdateTime)
		d.NextAttemptTime = domainTime(dbTimeOrNil(d.NextAttemptTime))
		d.LastError = textColumn(d.LastError)
		if a != nil {
			a.DeliveryID = d.ID
			a.StartTime = dbTime(a.StartTime)
			a.ResponseBody, a.Error = textColumn(a.ResponseBody), textColumn(a.Error)
		}
	}
	return errs, nil
}

// recordAttemptsTx records a batch in one transaction through Ent: one
// update of the endpoints' failure clocks, one guarded UPDATE per delivery,
// one INSERT for all attempts. SQLite runs in process, so its statements cost
// no round trips.
func (s *entStore) recordAttemptsTx(ctx context.Context, records []AttemptRecord, expected []int, errs []error, applied []bool, healths []endpointHealth) error {
	return s.withTx(ctx, "recording attempts", func(tx *ent.Tx) error {
		if err := recordEndpointHealthTx(ctx, tx, healths); err != nil {
			return err
		}
		var creates []*ent.AttemptCreate
		for i, r := range records {
			if errs[i] != nil {
				continue
			}
			ok, err := updateDelivery(ctx, tx, r.Delivery, expected[i])
			if err != nil {
				return err
			}
			applied[i] = ok
			if ok && r.Attempt != nil {
				creates = append(creates, attemptCreate(tx, r.Attempt, r.Delivery.ID))
			}
		}
		if len(creates) == 0 {
			return nil
		}
		if err := tx.Attempt.CreateBulk(creates...).Exec(ctx); err != nil {
			return classifyInsert(err, "attempt", "", "delivery", "")
		}
		return nil
	})
}

// updateDelivery applies one guarded delivery update and reports whether it
// changed the row. The update comes first in a transaction: on PostgreSQL it
// locks the row, so a concurrent recorder of the same attempt waits, then
// finds the count moved and updates nothing.
func updateDelivery(ctx context.Context, tx *ent.Tx, d *webhookd.Delivery, expected int) (bool, error) {
	u := tx.Delivery.Update().
		Where(delivery.ID(d.ID), delivery.AttemptCount(expected)).
		SetStatus(delivery.Status(d.Status)).
		SetAttemptCount(d.AttemptCount).
		SetNextTrigger(delivery.NextTrigger(d.NextTrigger)).
		SetLastError(textColumn(d.LastError)).
		SetLastResponseStatus(d.LastResponseStatus).
		SetUpdateTime(dbTime(d.UpdateTime))
	if next := dbTimeOrNil(d.NextAttemptTime); next != nil {
		u.SetNextAttemptTime(*next)
	} else {
		u.ClearNextAttemptTime()
	}
	n, err := u.Save(ctx)
	if err != nil {
		return false, classify(err, "recording attempt")
	}
	return n > 0, nil
}

func attemptCreate(tx *ent.Tx, a *webhookd.Attempt, deliveryID string) *ent.AttemptCreate {
	return tx.Attempt.Create().
		SetID(a.ID).
		SetDeliveryID(deliveryID).
		SetNumber(a.Number).
		SetTrigger(attempt.Trigger(a.Trigger)).
		SetStartTime(dbTime(a.StartTime)).
		SetDurationNs(int64(a.Duration)).
		SetResponseStatus(a.ResponseStatus).
		SetResponseBody(textColumn(a.ResponseBody)).
		SetError(textColumn(a.Error))
}

func (s *entStore) ListDueDeliveries(ctx context.Context, due time.Time, after string, limit int) ([]*webhookd.Delivery, error) {
	if limit < 1 {
		return nil, webhookd.Invalid("limit", "must be at least 1")
	}
	// Served by the (status, next_attempt_time) index: a range scan over
	// the pending deliveries already due, which are few unless the engine
	// is far behind, then a sort by id of those.
	q := s.client.Delivery.Query().
		Where(delivery.StatusEQ(delivery.StatusPending), delivery.NextAttemptTimeLTE(dbTime(due)))
	if after != "" {
		q.Where(delivery.IDGT(after))
	}
	rows, err := q.Order(delivery.ByID()).Limit(limit).All(ctx)
	if err != nil {
		return nil, classify(err, "listing due deliveries")
	}
	return mapSlice(rows, toDelivery), nil
}

func (s *entStore) CreateTestDelivery(ctx context.Context, ev *webhookd.Event, endpointID string, newID func(prefix string) string) (*webhookd.Delivery, error) {
	at := dbTime(ev.CreateTime)
	data := ev.Data
	if data == nil {
		data = []byte{}
	}
	if ev.AccountID == "" {
		return nil, webhookd.Invalid("event.account_id", "is required")
	}
	var created *webhookd.Delivery
	err := s.withTx(ctx, "creating test delivery", func(tx *ent.Tx) error {
		exists, err := tx.Endpoint.Query().Where(endpointOf(ev.AccountID, endpointID)...).Exist(ctx)
		if err != nil {
			return classify(err, "creating test delivery")
		}
		if !exists {
			return webhookd.NotFound("endpoint", endpointID)
		}
		// No idempotency key: every test is a new event.
		err = tx.Event.Create().
			SetID(ev.ID).
			SetAccountID(ev.AccountID).
			SetType(ev.Type).
			SetData(data).
			SetTest(true).
			SetCreateTime(at).
			Exec(ctx)
		if err != nil {
			return classifyInsert(err, "event", ev.ID, "account", ev.AccountID)
		}
		id := newID(webhookd.PrefixDelivery)
		row, err := tx.Delivery.Create().
			SetID(id).
			SetAccountID(ev.AccountID).
			SetEventID(ev.ID).
			SetEndpointID(endpointID).
			SetEventType(ev.Type).
			SetStatus(delivery.StatusPending).
			SetNextAttemptTime(at).
			SetNextTrigger(delivery.NextTriggerTest).
			SetCreateTime(at).
			SetUpdateTime(at).
			Save(ctx)
		if err != nil {
			// The endpoint deleted since the check above fails its foreign key.
			return classifyInsert(err, "delivery", id, "endpoint", endpointID)
		}
		created = toDelivery(row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ev.CreateTime, ev.Test, ev.IdempotencyKey = at, true, ""
	return created, nil
}

func (s *entStore) RetryDelivery(ctx context.Context, accountID, id string, due time.Time) (*webhookd.Delivery, error) {
	at := dbTime(due)
	u := s.client.Delivery.Update().
		Where(delivery.ID(id))
	if accountID != "" {
		u.Where(delivery.AccountID(accountID))
	}
	// The caller's due is its now, so it is the update time as well. The
	// attempt count stays: an engine holding the delivery from before
	// still records its attempt, and the retry then attempts once more.
	n, err := u.SetStatus(delivery.StatusPending).
		SetNextAttemptTime(at).
		SetNextTrigger(delivery.NextTriggerManual).
		SetUpdateTime(at).
		Save(ctx)
	if err != nil {
		return nil, classify(err, "retrying delivery")
	}
	if n == 0 {
		return nil, webhookd.NotFound("delivery", id)
	}
	r, err := s.client.Delivery.Get(ctx, id)
	if err != nil {
		return nil, classifyLookup(err, "retrying delivery", "delivery", id)
	}
	return toDelivery(r), nil
}

// recoverBatch bounds the ids read back in one query after a recovery, well
// under PostgreSQL's 65535 bind parameters.
const recoverBatch = 1000

func (s *entStore) RecoverEndpoint(ctx context.Context, accountID, endpointID string, since, due time.Time) ([]*webhookd.Delivery, error) {
	at := dbTime(due)
	var recovered []*webhookd.Delivery
	err := s.withTx(ctx, "recovering endpoint", func(tx *ent.Tx) error {
		exists, err := tx.Endpoint.Query().Where(endpointOf(accountID, endpointID)...).Exist(ctx)
		if err != nil {
			return classify(err, "recovering endpoint")
		}
		if !exists {
			return webhookd.NotFound("endpoint", endpointID)
		}
		// UPDATE … RETURNING names exactly the rows this statement changed,
		// where a SELECT before or after could miss or add a delivery whose
		// attempt a worker recorded concurrently. Both backends support it.
		b := entsql.Dialect(s.dialect).Update(delivery.Table).
			Set(delivery.FieldStatus, delivery.StatusPending.String()).
			Set(delivery.FieldNextAttemptTime, at).
			Set(delivery.FieldNextTrigger, delivery.NextTriggerManual.String()).
			Set(delivery.FieldUpdateTime, at).
			Where(entsql.And(
				entsql.EQ(delivery.FieldEndpointID, endpointID),
				entsql.EQ(delivery.FieldStatus, delivery.StatusFailed.String()),
				entsql.GTE(delivery.FieldCreateTime, dbTime(since)),
			)).
			Returning(delivery.FieldID)
		query, args := b.Query()
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return classify(err, "recovering endpoint")
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				_ = rows.Close()
				return classify(err, "recovering endpoint")
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return classify(err, "recovering endpoint")
		}
		if err := rows.Err(); err != nil {
			return classify(err, "recovering endpoint")
		}
		recovered = make([]*webhookd.Delivery, 0, len(ids))
		for start := 0; start < len(ids); start += recoverBatch {
			batch := ids[start:min(start+recoverBatch, len(ids))]
			rs, err := tx.Delivery.Query().Where(delivery.IDIn(batch...)).Order(delivery.ByID()).All(ctx)
			if err != nil {
				return classify(err, "recovering endpoint")
			}
			recovered = append(recovered, mapSlice(rs, toDelivery)...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Batches come back in RETURNING order; callers get id order.
	sortByID(recovered)
	return recovered, nil
}

// textColumn makes s storable in a text column on every backend: PostgreSQL
// rejects NUL bytes and invalid UTF-8, which a receiver's response body (or
// an error quoting it) may well contain.
func textColumn(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

func sortByID(ds []*webhookd.Delivery) {
	slices.SortFunc(ds, func(a, b *webhookd.Delivery) int { return strings.Compare(a.ID, b.ID) })
}

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

// recordAttemptsPostgres runs recordAttemptsStatement for the valid records
// (errs[i] nil) and marks in applied those whose delivery it updated.
func recordAttemptsPostgres(ctx context.Context, db *sql.DB, records []AttemptRecord, expected []int, errs []error, applied []bool, healths []endpointHealth) error {
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
	rows, err := db.QueryContext(ctx, recordAttemptsStatement,
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

// loadDeliveryWorksPostgres loads a batch of deliveries with their events
// and endpoints in one joined query, one round trip. Rows are scanned into
// Ent's entity types so that the same conversions as everywhere apply.
func loadDeliveryWorksPostgres(ctx context.Context, db *sql.DB, deliveryIDs []string) (map[string]*DeliveryWork, error) {
	rows, err := db.QueryContext(ctx, `SELECT
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
