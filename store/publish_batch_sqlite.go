package store

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/event"
)

// sqlitePublishBatcher group-commits PublishEvent on SQLite, as
// publishBatcher does on PostgreSQL: calls that arrive while a transaction
// runs wait in a queue, and the next transaction writes all of them and
// commits once.
//
// SQLite has one writer, and the embedded store one connection: under a
// burst every publish queued for it, and each paid its own BEGIN IMMEDIATE
// and commit (the WAL write of the commit was about a sixth of webhookd's
// CPU in make bench's embedded burst). Each call runs in a SAVEPOINT of
// the batch's transaction, so one that fails (its account gone, a key
// reused) rolls back alone; a second call with the key of an earlier one in
// the same batch finds that event, as it would had they been committed
// apart. When calls come one at a time a batch holds one call and nothing
// waits for company.
type sqlitePublishBatcher struct {
	client *ent.Client

	start sync.Once
	queue chan *sqlitePublishCall
	// closing takes mu for writing, so no call is enqueued after the
	// flusher's last look at the queue.
	mu     sync.RWMutex
	closed bool
	quit   chan struct{}
	// transactions counts the batches committed or rolled back, for tests.
	transactions atomic.Int64
}

// sqlitePublishCall is one PublishEvent waiting for its batch.
type sqlitePublishCall struct {
	ctx   context.Context
	ev    *webhookd.Event
	newID func(prefix string) string
	done  chan PublishResult // buffered: the flusher never waits for the caller
}

func newSQLitePublishBatcher(client *ent.Client) *sqlitePublishBatcher {
	return &sqlitePublishBatcher{client: client, queue: make(chan *sqlitePublishCall, 4*maxPublishBatch), quit: make(chan struct{})}
}

// publish writes ev and its deliveries as part of the next batch. created
// is false when ev's idempotency key names an earlier event, which is
// returned instead.
func (b *sqlitePublishBatcher) publish(ctx context.Context, ev *webhookd.Event, newID func(prefix string) string) (*webhookd.Event, []*webhookd.Delivery, bool, error) {
	b.start.Do(func() { go b.flushLoop() })
	c := &sqlitePublishCall{ctx: ctx, ev: ev, newID: newID, done: make(chan PublishResult, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, nil, false, webhookd.Unavailable("the store is closed", nil)
	}
	select {
	case b.queue <- c:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return nil, nil, false, ctx.Err()
	}
	// Once queued the call is written even if ctx ends meanwhile (see
	// publishBatcher.publish).
	r := <-c.done
	if r.Err != nil && ev.IdempotencyKey != "" && webhookd.KindOf(r.Err) == webhookd.KindConflict {
		// Another process's publish with the same key won the race for the
		// file between our check and our insert: its event is the one the
		// key names.
		original, err := b.client.Event.Query().
			Where(event.AccountID(ev.AccountID), event.IdempotencyKey(ev.IdempotencyKey)).
			Only(ctx)
		if err != nil {
			return nil, nil, false, r.Err
		}
		return toEvent(original), nil, false, nil
	}
	if r.Err != nil {
		return nil, nil, false, r.Err
	}
	return r.Stored, r.Deliveries, r.Created, nil
}

// close stops the flusher once the queue is empty.
func (b *sqlitePublishBatcher) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.quit)
	}
}

func (b *sqlitePublishBatcher) flushLoop() {
	groupCommit(b.queue, b.quit, maxPublishBatch, b.flush, func(c *sqlitePublishCall) {
		c.done <- PublishResult{Err: webhookd.Unavailable("the store is closed", nil)}
	})
}

// flush writes one batch in one transaction and answers every call in it.
func (b *sqlitePublishBatcher) flush(batch []*sqlitePublishCall) {
	live := batch[:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.done <- PublishResult{Err: err} // gave up before its turn: not written
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	// No caller's context may cancel the transaction: it writes the others'
	// events too.
	ctx, cancel := context.WithTimeout(context.Background(), publishStatementTimeout)
	defer cancel()
	b.transactions.Add(1)
	results, err := b.write(ctx, live)
	for i, c := range live {
		if err != nil {
			c.done <- PublishResult{Err: err} // nothing was committed
			continue
		}
		c.done <- results[i]
	}
}

// write runs the calls in one transaction, each in a savepoint of its own.
func (b *sqlitePublishBatcher) write(ctx context.Context, calls []*sqlitePublishCall) ([]PublishResult, error) {
	tx, err := b.client.Tx(ctx)
	if err != nil {
		return nil, classify(err, "publishing events")
	}
	results := make([]PublishResult, len(calls))
	for i, c := range calls {
		if err := b.exec(ctx, tx, "SAVEPOINT publish"); err != nil {
			return nil, err
		}
		results[i] = publishInTx(ctx, tx, c.ev, c.newID)
		if results[i].Err != nil {
			if err := b.exec(ctx, tx, "ROLLBACK TO publish"); err != nil {
				return nil, err
			}
		}
		if err := b.exec(ctx, tx, "RELEASE publish"); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, classify(err, "publishing events")
	}
	return results, nil
}

// exec runs a savepoint statement; after a failure the transaction is
// rolled back and the whole batch fails.
func (b *sqlitePublishBatcher) exec(ctx context.Context, tx *ent.Tx, stmt string) error {
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		_ = tx.Rollback()
		return classify(err, "publishing events")
	}
	return nil
}

// publishInTx is PublishEvent inside tx: the idempotency check, then the
// event and its deliveries. A key that names an earlier event answers with
// that event, Created false and nothing written.
func publishInTx(ctx context.Context, tx *ent.Tx, ev *webhookd.Event, newID func(prefix string) string) PublishResult {
	if ev.IdempotencyKey != "" {
		original, err := tx.Event.Query().
			Where(event.AccountID(ev.AccountID), event.IdempotencyKey(ev.IdempotencyKey)).
			Only(ctx)
		switch {
		case err == nil:
			return PublishResult{Stored: toEvent(original)}
		case !ent.IsNotFound(err):
			return PublishResult{Err: classify(err, "publishing event")}
		}
	}
	stored, deliveries, err := insertEventAndDeliveries(ctx, tx, ev, newID)
	if err != nil {
		return PublishResult{Err: err}
	}
	return PublishResult{Stored: stored, Deliveries: deliveries, Created: true}
}
