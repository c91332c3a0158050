package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// Listening: the deliveries of a development endpoint (webhookctl listen)
// are never sent to a URL. They travel to the listeners connected to the
// endpoint over ListenEndpointDeliveries streams, which forward each request
// to a local server and report what it answered; that answer is recorded as
// the attempt, exactly as if webhookd had made the request.
//
// The stream lands on an api process; the worker that claims the delivery
// may be another process. They meet in Redis, per endpoint, under the
// endpoint's own hash tag ({listen.<endpoint id>}, one slot of a cluster):
//
//   - a presence set: the api processes holding a listener of the endpoint,
//     each a member scored by the time its presence expires. A process
//     renews it while it has listeners (listenPresenceTTL), so a process
//     that dies stops counting soon after.
//   - a queue: a sorted set of delivery ids scored by due time, like one
//     shard of the schedule, from which the api processes with listeners
//     claim with the schedule's own script and lease.
//
// The engine claims a development endpoint's delivery from the schedule like
// any other (hand-offs included), and instead of sending it, routes it: one
// script checks that a listener is present and, if so, adds the delivery to
// the endpoint's queue (if absent, so that an entry leased by a listener is
// left alone); the engine then publishes a wake-up and finishes its claim.
// With no listener present the attempt is recorded at once as failed, "no
// listener connected", and retried on the endpoint's schedule like a
// receiver that was down; the delivery waits in the database meanwhile.
//
// An api process with listeners of the endpoint (Listeners) claims from the
// queue as many deliveries as it has idle listeners, gives each to one of
// them, so listeners share the endpoint's deliveries without duplicates, and
// records the answer through the same concludeAttempt the engine uses. A
// retry goes back to the schedule, whose workers route it again when due;
// the queue only ever holds deliveries due now. Listener answers are
// recorded with the same conflict check as the engine's attempts.
//
// Nothing is lost when a part fails: a process that dies holding a claimed
// delivery leaves it leased in the queue, due again for another listener
// when the lease ends; a listener that disconnects before answering has its
// delivery put back at once; and the reconciler, which knows only the
// database, puts every pending delivery overdue by a lease back into the
// schedule, from which it is routed again (routing is idempotent) or, with
// no listener left, recorded as failed and retried. The hot path of regular
// endpoints is untouched: the engine only looks at this for an endpoint
// marked Development.

// NoListenerError is the error recorded for an attempt of a development
// endpoint's delivery made while no listener was connected to it.
const NoListenerError = "no listener connected: run webhookctl listen to receive this endpoint's deliveries"

// listenPresenceTTL is how long a process counts as holding a listener of
// an endpoint after its last renewal; it renews every third of it.
const listenPresenceTTL = 15 * time.Second

// listenRouteRetry is how soon a delivery whose routing failed (Redis did
// not answer) is tried again.
const listenRouteRetry = time.Second

// listenPresenceKey is the presence set of endpointID's listeners.
func (s *Schedule) listenPresenceKey(endpointID string) string {
	return s.prefix + ":{listen." + endpointID + "}:listeners"
}

// listenQueueKey is the queue of endpointID's deliveries due to listeners.
func (s *Schedule) listenQueueKey(endpointID string) string {
	return s.prefix + ":{listen." + endpointID + "}:due"
}

// listenWakeKey is the pub/sub channel announcing, by endpoint id, that a
// delivery was routed to that endpoint's queue.
func (s *Schedule) listenWakeKey() string { return s.prefix + ":listen:wake" }

// routeScript adds ARGV[2] to the queue KEYS[2], due at ARGV[3], if a
// listener is present in KEYS[1] at ARGV[1]; it returns whether one was.
// One script, so that the presence seen is the presence the delivery is
// queued under.
var routeScript = redis.NewScript(`
if redis.call('ZCOUNT', KEYS[1], ARGV[1], '+inf') == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[2])
return 1
`)

// routeToListeners queues delivery d of endpointID for its listeners if one
// is present, and reports whether it did.
func (s *Schedule) routeToListeners(ctx context.Context, endpointID string, d *webhookd.Delivery, now time.Time) (bool, error) {
	keys := []string{s.listenPresenceKey(endpointID), s.listenQueueKey(endpointID)}
	n, err := routeScript.Run(ctx, s.client, keys, now.UnixMilli(), d.ID, now.UnixMilli()).Int()
	if err != nil || n == 0 {
		return false, err
	}
	// A lost wake-up costs the listeners' poll interval.
	_ = s.client.Publish(ctx, s.listenWakeKey(), endpointID).Err()
	return true, nil
}

// attemptListened is the engine's attempt of a delivery due to a
// development endpoint: routed to its listeners, or failed for want of one.
func (e *Engine) attemptListened(ctx context.Context, log *slog.Logger, h *heldClaim, work *store.DeliveryWork, now time.Time) *outcome {
	d, ev, ep := work.Delivery, work.Event, work.Endpoint
	routed, err := e.cfg.Schedule.routeToListeners(ctx, ep.ID, d, now)
	switch {
	case err != nil:
		log.WarnContext(ctx, "routing a delivery to the endpoint's listeners failed", "endpoint", ep.ID, "error", err)
		e.release(ctx, log, e.claims.done(h), now.Add(listenRouteRetry))
		return nil
	case routed:
		e.finish(ctx, log, e.claims.done(h))
		return nil
	}
	res := Result{Err: NoListenerError}
	a, dec := concludeAttempt(d, ev, e.cfg.IDs.New(webhookd.PrefixAttempt), nextTrigger(d), now, now, res, e.policy())
	return &outcome{held: h, log: log, attempt: a, decision: dec, delivery: d, event: ev, result: res, done: now}
}

// nextTrigger is what d's next attempt is recorded as.
func nextTrigger(d *webhookd.Delivery) webhookd.AttemptTrigger {
	if d.NextTrigger == "" {
		return webhookd.TriggerInitial
	}
	return d.NextTrigger
}
