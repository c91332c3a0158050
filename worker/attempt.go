package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// attempt makes one attempt of a claimed delivery, if the stored delivery
// (work, nil when it is gone) still wants one now and the claim is still
// held. It returns the outcome to record, or nil when there is nothing to
// record; the outcome's claim is followed until it is recorded.
func (e *Engine) attempt(ctx context.Context, h *heldClaim, work *store.DeliveryWork) *outcome {
	log := e.cfg.Logger.With("delivery", h.current().DeliveryID)
	if work == nil {
		e.finish(ctx, log, e.claims.done(h)) // deleted with its endpoint
		return nil
	}
	d, ev, ep := work.Delivery, work.Event, work.Endpoint
	now := e.now()
	if d.Status != webhookd.DeliveryPending {
		e.finish(ctx, log, e.claims.done(h))
		return nil
	}
	if d.NextAttemptTime.After(now) {
		// The schedule held an earlier time than the database (a lease ran
		// out before its release, or a reconciled entry): the database wins.
		e.release(ctx, log, e.claims.done(h), d.NextAttemptTime)
		return nil
	}
	if ep.Disabled {
		concludeDisabled(d, ep.DisabledReason, now) // no request is made
		return &outcome{held: h, log: log, delivery: d, event: ev, done: now}
	}
	if !e.mayHaveSent(ctx, log, h) {
		// Another worker holds the delivery now (or may, once Redis
		// answers): sending it here would send it twice.
		e.claims.done(h)
		return nil
	}
	if ep.Development {
		return e.attemptListened(ctx, log, h, work, now) // no URL: see listen.go
	}
	if !e.limiter.acquire(ep.ID, endpointBusyWait) {
		// The endpoint is busy with as many attempts as it may have: come
		// back shortly instead of holding a worker.
		e.release(ctx, log, e.claims.done(h), now.Add(endpointBusyDelay))
		return nil
	}
	res := e.cfg.Sender.Send(ctx, Request{
		URL:       ep.URL,
		Body:      Envelope(ev),
		Headers:   ep.Headers,
		MessageID: ev.ID,
		Timestamp: now,
		Secrets:   signingSecrets(ep, now),
	})
	// A cancelled attempt (shutdown) says nothing about the endpoint.
	e.limiter.release(ep.ID, !res.OK() && !res.Canceled)
	done := e.now()
	a, dec := concludeAttempt(d, ev, e.cfg.IDs.New(webhookd.PrefixAttempt), nextTrigger(d), now, done, res, e.policy())
	if dec.disableEndpoint {
		e.disableGone(ctx, log, ep, done)
	}
	return &outcome{held: h, log: log, attempt: a, decision: dec, delivery: d, event: ev, result: res, done: done}
}

// policy is what the engine weighs every attempt's result against (see
// decide).
func (e *Engine) policy() deliveryPolicy {
	return deliveryPolicy{Retry: e.cfg.Retry, AutoDisableAfter: e.cfg.AutoDisableAfter}
}

// disableGone disables an endpoint whose receiver answered 410 Gone: it
// said it will never accept events again. Only the disabled state is
// written: the copy of the endpoint the attempt was made with may be older
// than the stored one (a secret rotated or settings changed during the
// request), and writing it back would undo those changes.
func (e *Engine) disableGone(ctx context.Context, log *slog.Logger, ep *webhookd.Endpoint, now time.Time) {
	e.endpoints.forget(ep.ID)
	if _, err := e.cfg.Store.DisableEndpoint(ctx, "", ep.ID, "the endpoint answered 410 Gone", now); err != nil {
		log.WarnContext(ctx, "disabling endpoint after 410 Gone failed", "endpoint", ep.ID, "error", err)
		return
	}
	log.InfoContext(ctx, "disabled endpoint after 410 Gone", "endpoint", ep.ID)
}

// signingSecrets are the secrets a request is signed with: the current one,
// and the previous one while its rotation grace period lasts.
func signingSecrets(ep *webhookd.Endpoint, now time.Time) []string {
	secrets := []string{ep.Secret}
	if ep.PreviousSecret != "" && ep.PreviousSecretExpireTime.After(now) {
		secrets = append(secrets, ep.PreviousSecret)
	}
	return secrets
}
