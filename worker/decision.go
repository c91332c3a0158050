package worker

import (
	"time"

	"github.com/webhookd/webhookd"
)

// This file is the one home of the delivery decision: what an attempt's
// result means for its delivery (succeeded, retried at a time, failed) and
// for its endpoint (disabled after 410 Gone, counted towards auto-disable).
// decide is pure, no I/O and no clock: the caller passes the time the
// attempt ended, so schedules of hours are tested without waiting. The
// engine (attempt.go), its no-listener path (listen.go) and the listeners of
// development endpoints (listeners.go) all apply it through concludeAttempt.

// verdict is a delivery's next state after an attempt.
type verdict int

const (
	// verdictSucceeded: the receiver answered 2xx in time; no more attempts.
	verdictSucceeded verdict = iota + 1
	// verdictRetry: the attempt failed and the retry policy allows another,
	// due at decision.retryAt; the delivery stays pending.
	verdictRetry
	// verdictExhausted: the attempt failed and was the last the retry
	// policy allows; the delivery has failed.
	verdictExhausted
	// verdictPermanent: the attempt failed in a way no retry would change:
	// the receiver answered 410 Gone, or the delivery is a test event's,
	// whose answer is shown once. The delivery has failed.
	verdictPermanent
)

func (v verdict) String() string {
	switch v {
	case verdictSucceeded:
		return "succeeded"
	case verdictRetry:
		return "retry"
	case verdictExhausted:
		return "exhausted"
	case verdictPermanent:
		return "permanent"
	}
	return "verdict(?)"
}

// deliveryPolicy is what decide weighs an attempt's result against.
type deliveryPolicy struct {
	Retry RetryPolicy
	// AutoDisableAfter is the auto-disable period (EngineConfig
	// .AutoDisableAfter); zero never disables.
	AutoDisableAfter time.Duration
}

// decision is what one attempt's result means for its delivery and its
// endpoint.
type decision struct {
	verdict verdict
	// retryAt is when the next attempt is due (verdictRetry only).
	retryAt time.Time
	// disableEndpoint says the receiver answered 410 Gone, asking for no
	// more deliveries: the caller disables the endpoint at once.
	disableEndpoint bool
	// autoDisableAfter is the auto-disable period this failed attempt
	// counts towards; zero for a success, or when there is no period. The
	// store disables the endpoint, in the write that records the attempt,
	// once every attempt to it has failed for that long
	// (store.AttemptRecord.AutoDisableAfter): that boundary is the store's,
	// because only the recording transaction sees the endpoint's failure
	// clock as the attempts of every worker left it.
	autoDisableAfter time.Duration
}

// decide says what res, the result of attempt number attempt (1 for the
// first) of a delivery, ended at done, means under policy p. test marks a
// test event's delivery, which is never retried.
//
// A 410 Gone fails the delivery and disables the endpoint; a cancelled
// attempt (shutdown) counts as a failed one, retried on the schedule.
func decide(res Result, attempt int, test bool, done time.Time, p deliveryPolicy) decision {
	if res.OK() {
		return decision{verdict: verdictSucceeded}
	}
	d := decision{autoDisableAfter: p.AutoDisableAfter}
	switch {
	case res.Gone:
		d.verdict, d.disableEndpoint = verdictPermanent, true
	case test:
		// A test shows the receiver's answer once; it is not retried.
		d.verdict = verdictPermanent
	default:
		if next, ok := p.Retry.Next(attempt, done, res.RetryAfter); ok {
			d.verdict, d.retryAt = verdictRetry, next
		} else {
			d.verdict = verdictExhausted
		}
	}
	return d
}

// concludeAttempt turns res, the result of attempt number d.AttemptCount+1
// of d made at start and ended at done, into the attempt to record (with id
// id), and moves d to its next state as decide says: succeeded, pending
// again at its retry time, or failed. It returns the decision too, whose
// part for the endpoint (disabling it after a 410 Gone) is the caller's.
func concludeAttempt(d *webhookd.Delivery, ev *webhookd.Event, id string, trigger webhookd.AttemptTrigger, start, done time.Time, res Result, p deliveryPolicy) (*webhookd.Attempt, decision) {
	a := &webhookd.Attempt{
		ID:             id,
		DeliveryID:     d.ID,
		Number:         d.AttemptCount + 1,
		Trigger:        trigger,
		StartTime:      start,
		Duration:       res.Duration,
		ResponseStatus: res.StatusCode,
		ResponseBody:   res.BodyExcerpt,
		Error:          res.Err,
	}
	dec := decide(res, a.Number, ev.Test, done, p)
	d.AttemptCount = a.Number
	d.LastResponseStatus = res.StatusCode
	d.LastError = res.Err
	d.UpdateTime = done
	switch dec.verdict {
	case verdictSucceeded:
		d.Status, d.NextAttemptTime = webhookd.DeliverySucceeded, time.Time{}
	case verdictRetry:
		d.Status, d.NextAttemptTime, d.NextTrigger = webhookd.DeliveryPending, dec.retryAt, webhookd.TriggerRetry
	default:
		d.Status, d.NextAttemptTime = webhookd.DeliveryFailed, time.Time{}
	}
	return a, dec
}

// concludeDisabled moves d, due for an endpoint disabled with reason, to
// failed without an attempt at now: no request goes to a disabled endpoint,
// and RecoverEndpoint re-sends the delivery once the endpoint is enabled
// again.
func concludeDisabled(d *webhookd.Delivery, reason string, now time.Time) {
	d.Status, d.NextAttemptTime = webhookd.DeliveryFailed, time.Time{}
	d.LastError = "endpoint disabled: " + reason
	d.UpdateTime = now
}
