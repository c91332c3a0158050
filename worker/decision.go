package worker

import (
	"time"

	"github.com/webhookd/webhookd"
)

// concludeAttempt turns res, the result of attempt number d.AttemptCount+1
// of d made at start and ended at done, into the attempt to record (with id
// id), and moves d to its next state: succeeded, pending again at its
// retry time, or failed. It is the one place that decides what an attempt's
// result means for its delivery, whether the engine sent the request or a
// listener forwarded it (see listen.go). A 410 Gone fails the delivery;
// disabling the endpoint is the caller's part.
func concludeAttempt(d *webhookd.Delivery, ev *webhookd.Event, id string, trigger webhookd.AttemptTrigger, start, done time.Time, res Result, retry RetryPolicy) *webhookd.Attempt {
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
	d.AttemptCount = a.Number
	d.LastResponseStatus = res.StatusCode
	d.LastError = res.Err
	d.UpdateTime = done
	switch {
	case res.OK():
		d.Status, d.NextAttemptTime = webhookd.DeliverySucceeded, time.Time{}
	case res.Gone:
		d.Status, d.NextAttemptTime = webhookd.DeliveryFailed, time.Time{}
	case ev.Test:
		// A test shows the receiver's answer once; it is not retried.
		d.Status, d.NextAttemptTime = webhookd.DeliveryFailed, time.Time{}
	default:
		if next, ok := retry.Next(d.AttemptCount, done, res.RetryAfter); ok {
			d.Status, d.NextAttemptTime, d.NextTrigger = webhookd.DeliveryPending, next, webhookd.TriggerRetry
		} else {
			d.Status, d.NextAttemptTime = webhookd.DeliveryFailed, time.Time{}
		}
	}
	return a
}
