package worker

import (
	"context"
)

// Reconcile puts back into the schedule every pending delivery overdue by
// more than a lease that it does not hold: one whose dispatch was lost
// between commit and enqueue, a hand-off whose process died (see
// Enqueue), or a schedule emptied by a Redis restart. Present ids keep
// their leases. The lease's wait leaves alone the hand-offs being attempted
// right now, which the schedule does not hold either.
func (e *Engine) Reconcile(ctx context.Context) { e.reconcile(ctx, false) }

// reconcile is Reconcile; all puts back every due delivery, overdue or not.
func (e *Engine) reconcile(ctx context.Context, all bool) {
	const batch = 500
	after := ""
	var added int64
	complete := false // every due delivery was looked at
	overdue := e.now().Add(-e.cfg.Lease)
	if all {
		overdue = e.now()
	}
	for ctx.Err() == nil && e.db.ready() {
		due, err := e.cfg.Store.ListDueDeliveries(ctx, overdue, after, batch)
		if err != nil {
			e.storeFailed(ctx, "reconcile: listing due deliveries failed", err)
			return
		}
		e.db.succeeded(ctx)
		n, err := e.cfg.Schedule.AddMissing(ctx, due)
		if err != nil {
			e.cfg.Logger.WarnContext(ctx, "reconcile: scheduling failed", "error", err)
			return
		}
		added += n
		if len(due) < batch {
			complete = true
			break
		}
		after = due[len(due)-1].ID
	}
	if complete && e.cfg.hooks.reconciled != nil {
		e.cfg.hooks.reconciled(added)
	}
	if added > 0 {
		e.cfg.Logger.InfoContext(ctx, "reconcile: rescheduled deliveries missing from the schedule", "count", added)
		e.cfg.Metrics.reconciled(added)
	}
}
