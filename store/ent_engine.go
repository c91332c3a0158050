package store

import (
	"context"
	"slices"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/attempt"
	"github.com/webhookd/webhookd/ent/delivery"
)

// This file holds what the delivery engine and the delivery-control API
// (test events, retries, recovery) write: attempts and the delivery state
// that goes with them.

func (s *entStore) LoadDeliveryWorks(ctx context.Context, deliveryIDs []string) (map[string]*DeliveryWork, error) {
	works, err := s.paths.loadDeliveryWorks(ctx, deliveryIDs)
	if err != nil {
		return nil, err
	}
	if err := s.openWorkSecrets(works); err != nil {
		s.logger.ErrorContext(ctx, "cannot open endpoint secrets; their attempts fail until the right key is configured", "error", err)
	}
	return works, nil
}

// loadDeliveryWorks reads with Ent; PostgreSQL's one joined query is in
// engine_postgres.go.
func (p portablePaths) loadDeliveryWorks(ctx context.Context, deliveryIDs []string) (map[string]*DeliveryWork, error) {
	// Three queries for the whole batch, whatever its size (Ent eager-loads
	// each edge with one IN query), without a transaction: the engine
	// re-checks nothing here, and RecordAttempts' guard catches whatever
	// changed meanwhile.
	rows, err := p.client.Delivery.Query().
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
	if err := s.paths.recordAttempts(ctx, records, expected, errs, applied, healths); err != nil {
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

// recordAttempts records a batch in one transaction through Ent: one
// update of the endpoints' failure clocks, one guarded UPDATE per delivery,
// one INSERT for all attempts. SQLite runs in process, so its statements cost
// no round trips; PostgreSQL's one statement is in engine_postgres.go.
func (p portablePaths) recordAttempts(ctx context.Context, records []AttemptRecord, expected []int, errs []error, applied []bool, healths []endpointHealth) error {
	return withTx(ctx, p.client, "recording attempts", func(tx *ent.Tx) error {
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
