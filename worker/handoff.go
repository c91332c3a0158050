package worker

import (
	"context"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// Hand-off: a process with both the api and worker roles attempts the
// deliveries it has just published itself, without the round trips a
// delivery otherwise makes before its attempt: added to the schedule,
// announced to every worker, claimed back, and read back from the database
// with its event and endpoint. The publishing process holds all of that
// already.
//
// A handed-off delivery is not in the schedule at all while this process
// works on it: a failed attempt puts it there for its retry, a successful
// one has nothing to remove. If the process dies first, the delivery is
// still pending in the database, and the reconciler, which puts back
// deliveries overdue by more than a lease (Reconcile), schedules it: the
// same delay as a claim whose worker died. Waiting a lease keeps the
// reconciler off hand-offs in progress, which end well within one (an
// attempt is bounded by the request timeout, and Lease exceeds it).
//
// Handed-off deliveries wait in a bounded local queue for a free worker.
// What does not fit goes to the schedule as usual, for any process to claim,
// and the Run loop alternates between the two so that neither starves.

// localWork is a handed-off delivery waiting for a worker.
type localWork struct {
	claim    Claim
	delivery *webhookd.Delivery
	event    *webhookd.Event
	queued   time.Time
}

// maxHandoffWait is the longest, as a fraction of the lease, a hand-off
// waits in the local queue (workers busy with slow endpoints) before it
// goes to the schedule instead: its attempt must end well within a lease of
// its due time, or the reconciler would schedule it while it is attempted.
const maxHandoffWait = 4 // Lease / maxHandoffWait

// handoffQueuePerWorker sizes the local queue by default (see
// EngineConfig.HandOffQueue): deep enough that a burst of publishes faster
// than the workers deliver is still handed off (at 8 per worker, a quarter
// of make bench's deliveries overflowed to the schedule and were read back
// from the database; at 64, with faster publishing, still a third), and
// small in memory, a few hundred bytes per delivery. How long a delivery
// may wait in it is bounded by maxHandoffWait, not by its size.
const handoffQueuePerWorker = 512

// Enqueue takes deliveries just written to the database for their attempts
// (the engine is the API's server.DeliveryQueue). ev is the event they were
// published for, or nil for deliveries made pending again (retries,
// recoveries), which go to the schedule. New deliveries of ev are handed
// off to this process's workers while the local queue has room and the
// engine runs; the rest go to the schedule (Schedule.Add), which wakes the
// workers of every process.
func (e *Engine) Enqueue(ctx context.Context, ev *webhookd.Event, deliveries []*webhookd.Delivery) error {
	rest := deliveries
	if ev != nil {
		rest = e.handOff(ctx, ev, deliveries)
	}
	e.cfg.Metrics.handedOff(len(deliveries)-len(rest), len(rest))
	if len(rest) == 0 {
		return nil
	}
	return e.cfg.Schedule.Add(ctx, rest)
}

// handOff queues what it can of deliveries for local workers and returns
// the others.
func (e *Engine) handOff(ctx context.Context, ev *webhookd.Event, deliveries []*webhookd.Delivery) []*webhookd.Delivery {
	e.running.RLock()
	defer e.running.RUnlock()
	if e.local == nil || !e.db.ready() {
		return deliveries
	}
	var rest []*webhookd.Delivery
	queued, now := 0, e.now()
	for _, d := range deliveries {
		if d.NextTrigger == webhookd.TriggerManual || d.AttemptCount != 0 {
			rest = append(rest, d) // made pending again: the schedule may hold it
			continue
		}
		select {
		case e.local <- localWork{claim: Claim{DeliveryID: d.ID}, delivery: d, event: ev, queued: now}:
			queued++
		default:
			rest = append(rest, d) // the queue is full
		}
	}
	if queued > 0 {
		select {
		case e.handed <- struct{}{}:
		default:
		}
	}
	return rest
}

// startLocal starts an attempt for each queued hand-off, as many as there
// are free workers, and returns how many it started. None starts while the
// database does not answer: its outcome could not be recorded, and every
// attempt sent but not recorded is sent again if the outage outlasts the
// recorder's patience.
func (e *Engine) startLocal(ctx context.Context, slots chan struct{}) int {
	started := 0
	for len(slots) < cap(slots) && ctx.Err() == nil && e.db.ready() {
		select {
		case w := <-e.local:
			if e.now().Sub(w.queued) > e.cfg.Lease/maxHandoffWait {
				e.release(ctx, e.cfg.Logger, w.claim, w.delivery.NextAttemptTime)
				continue
			}
			h := e.claims.add(w.claim, w.delivery.NextAttemptTime)
			e.launch(context.WithoutCancel(ctx), slots, h, func(ctx context.Context) (*store.DeliveryWork, error) {
				ep, err := e.endpoint(ctx, w.delivery.EndpointID, w.delivery.EndpointUpdateTime)
				if err != nil || ep == nil {
					return nil, err
				}
				return &store.DeliveryWork{Delivery: w.delivery, Event: w.event, Endpoint: ep}, nil
			})
			started++
		default:
			return started
		}
	}
	return started
}

// stopLocal ends hand-offs for good and puts every queued one in the
// schedule, due at once, so that a process stopping does not leave them to
// the reconciler.
func (e *Engine) stopLocal(ctx context.Context) {
	e.running.Lock()
	local := e.local
	e.local = nil
	e.running.Unlock()
	if local == nil {
		return
	}
	var settlements []Settlement
drain:
	for {
		select {
		case w := <-local:
			settlements = append(settlements, Settlement{Claim: w.claim, Due: w.delivery.NextAttemptTime})
		default:
			break drain
		}
	}
	if err := e.cfg.Schedule.Settle(ctx, settlements); err != nil {
		e.cfg.Logger.WarnContext(ctx, "scheduling queued deliveries failed; the reconciler will",
			"count", len(settlements), "error", err)
	}
}
