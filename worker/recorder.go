package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// outcome is an attempt (or a decision to fail without one) waiting for the
// recorder, which writes many in one transaction.
type outcome struct {
	held     *heldClaim
	log      *slog.Logger
	attempt  *webhookd.Attempt // nil when no request was made
	decision decision          // the attempt's; zero without one
	delivery *webhookd.Delivery
	event    *webhookd.Event
	result   Result
	done     time.Time
	// release is called once the outcome is recorded (or given up on), so
	// that shutdown waits for every outcome to be written.
	release func()
}

// maxRecordBatch bounds the outcomes written in one transaction.
const maxRecordBatch = 128

// recordLoop writes outcomes until the channel closes. It takes whatever
// has queued up while the previous batch was being written, so under load
// one transaction records many attempts; when few are queued it waits a
// little for more (gatherOutcomes).
func (e *Engine) recordLoop(ctx context.Context) {
	batch := make([]*outcome, 0, maxRecordBatch)
	linger := time.NewTimer(recordLinger)
	linger.Stop()
	for o := range e.outcomes {
		batch = gatherOutcomes(append(batch[:0], o), e.outcomes, linger, recordLinger)
		e.recordBatch(ctx, batch)
	}
}

// When fewer than recordLingerBelow outcomes are queued, the recorder waits
// up to recordLinger for more before writing them. At a low rate every
// outcome otherwise had a statement (and on SQLite a transaction and its
// commit) of its own: recording was about a sixth of webhookd's CPU at 200
// events/s on PostgreSQL and two fifths on SQLite, against a twentieth in a
// burst, where one statement records dozens. Nothing waits on the record
// but the delivery's status and its claim (the worker is free once its
// request is done), so the wait costs no delivery latency.
const (
	recordLingerBelow = 16
	recordLinger      = 20 * time.Millisecond
)

// gatherOutcomes adds to batch what is queued on outcomes, up to
// maxRecordBatch, and while fewer than recordLingerBelow are at hand waits
// up to wait for more (on linger, a stopped timer).
func gatherOutcomes(batch []*outcome, outcomes <-chan *outcome, linger *time.Timer, wait time.Duration) []*outcome {
	for len(batch) < maxRecordBatch {
		select {
		case more, ok := <-outcomes:
			if !ok {
				return batch
			}
			batch = append(batch, more)
			continue
		default:
		}
		break
	}
	if len(batch) >= recordLingerBelow {
		return batch
	}
	linger.Reset(wait)
	defer linger.Stop()
	for len(batch) < recordLingerBelow {
		select {
		case more, ok := <-outcomes:
			if !ok {
				return batch
			}
			batch = append(batch, more)
		case <-linger.C:
			return batch
		}
	}
	return batch
}

// recordBatch stores outcomes, then brings the schedule in line with each.
func (e *Engine) recordBatch(ctx context.Context, batch []*outcome) {
	defer func() {
		for _, o := range batch {
			o.release()
		}
	}()
	records := make([]store.AttemptRecord, len(batch))
	for i, o := range batch {
		records[i] = store.AttemptRecord{Attempt: o.attempt, Delivery: o.delivery, AutoDisableAfter: o.decision.autoDisableAfter}
	}
	errs, err := e.recordAttempts(ctx, records)
	if err != nil {
		for _, o := range batch {
			e.claims.done(o.held) // their leases run out
		}
		e.cfg.Logger.WarnContext(ctx, "recording attempts failed; the deliveries come due again after their leases",
			"count", len(batch), "error", err)
		return
	}
	settlements := make([]Settlement, 0, len(batch))
	recorded := make([]string, 0, len(batch))
	for i, o := range batch {
		claim := e.claims.done(o.held)
		switch err := errs[i]; {
		case err == nil:
			recorded = append(recorded, o.delivery.ID)
		case webhookd.KindOf(err) == webhookd.KindConflict:
			// Another worker recorded this attempt first (its lease had run
			// out); the receiver got the event twice, which at-least-once
			// delivery allows and the event id lets it ignore.
			o.log.InfoContext(ctx, "attempt already recorded by another worker")
			recorded = append(recorded, o.delivery.ID)
			continue
		default:
			o.log.WarnContext(ctx, "recording attempt failed; the delivery comes due again after its lease", "error", err)
			continue
		}
		st := Settlement{Claim: claim} // finished …
		if o.delivery.Status == webhookd.DeliveryPending {
			st.Due = o.delivery.NextAttemptTime // … or due again
		}
		settlements = append(settlements, st)
		if o.attempt != nil {
			e.cfg.Metrics.attempt(o.attempt, o.result, o.event, o.done)
		}
	}
	// The attempts are in the database: waiters may read them now, before
	// the schedule round trip.
	e.watchers.recorded(recorded)
	if err := e.cfg.Schedule.Settle(ctx, settlements); err != nil {
		// The database is right; a finished delivery left in the schedule
		// is dropped when next claimed, a missing one is put back by the
		// reconciler.
		e.cfg.Logger.WarnContext(ctx, "updating the schedule after recording failed", "count", len(settlements), "error", err)
	}
}

// recordAttempts is Store.RecordAttempts retried through a database outage
// for up to a lease: attempts made just before the database went away are
// then recorded, not sent again once their leases end. Their leases are
// renewed meanwhile (renewLeases), so no other worker claims them while
// they wait; a quarter of a lease, as before, gave up before PostgreSQL had
// restarted and recovered, and every attempt of that batch was sent again.
// The recorder waits meanwhile, and its full queue holds the workers back,
// which have nothing to do without the database anyway.
func (e *Engine) recordAttempts(ctx context.Context, records []store.AttemptRecord) ([]error, error) {
	giveUp := time.Now().Add(e.cfg.Lease)
	for {
		errs, err := e.cfg.Store.RecordAttempts(ctx, records)
		if err == nil {
			e.db.succeeded(ctx)
			return errs, nil
		}
		delay := e.storeFailed(ctx, "", err) // the caller logs giving up
		left := time.Until(giveUp)
		if delay == 0 || left <= 0 {
			return nil, err
		}
		time.Sleep(min(delay, left)) // and a last try at the end
	}
}
