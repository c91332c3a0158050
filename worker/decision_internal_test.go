package worker

import (
	"net/http"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
)

// TestDecide covers every outcome of the delivery decision on the guide's
// schedule (retries 5m, 30m, 2h, 5h, 10h after attempts 1 to 5), with
// Retry-After bounded to [1m, 24h] and an auto-disable period of 5 days.
func TestDecide(t *testing.T) {
	t.Parallel()
	done := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	const period = 5 * 24 * time.Hour
	policy := deliveryPolicy{Retry: DefaultRetryPolicy(), AutoDisableAfter: period}
	failed := Result{StatusCode: http.StatusInternalServerError, Err: "unexpected status 500"}
	tooMany := func(after time.Duration) Result {
		return Result{StatusCode: http.StatusTooManyRequests, Err: "unexpected status 429", RetryAfter: after}
	}
	gone := Result{StatusCode: http.StatusGone, Err: "unexpected status 410", Gone: true}
	tests := []struct {
		name    string
		res     Result
		attempt int
		test    bool
		policy  deliveryPolicy
		want    decision
	}{
		{name: "2xx succeeds", res: Result{StatusCode: http.StatusNoContent}, attempt: 1, policy: policy,
			want: decision{verdict: verdictSucceeded}},
		{name: "2xx on the last retry succeeds", res: Result{StatusCode: http.StatusOK}, attempt: 6, policy: policy,
			want: decision{verdict: verdictSucceeded}},
		{name: "first failure retries after 5m", res: failed, attempt: 1, policy: policy,
			want: decision{verdict: verdictRetry, retryAt: done.Add(5 * time.Minute), autoDisableAfter: period}},
		{name: "a timeout retries like any failure", res: Result{Err: "timeout after 5s"}, attempt: 2, policy: policy,
			want: decision{verdict: verdictRetry, retryAt: done.Add(30 * time.Minute), autoDisableAfter: period}},
		{name: "a cancelled attempt retries like any failure", res: Result{Err: "canceled", Canceled: true}, attempt: 1, policy: policy,
			want: decision{verdict: verdictRetry, retryAt: done.Add(5 * time.Minute), autoDisableAfter: period}},
		{name: "fifth failure retries after 10h", res: failed, attempt: 5, policy: policy,
			want: decision{verdict: verdictRetry, retryAt: done.Add(10 * time.Hour), autoDisableAfter: period}},
		{name: "the last retry failing exhausts the schedule", res: failed, attempt: 6, policy: policy,
			want: decision{verdict: verdictExhausted, autoDisableAfter: period}},
		{name: "no schedule: the first failure is the last", res: failed, attempt: 1,
			policy: deliveryPolicy{Retry: RetryPolicy{}, AutoDisableAfter: period},
			want:   decision{verdict: verdictExhausted, autoDisableAfter: period}},
		{name: "Retry-After replaces the delay", res: tooMany(10 * time.Minute), attempt: 1, policy: policy,
			want: decision{verdict: verdictRetry, retryAt: done.Add(10 * time.Minute), autoDisableAfter: period}},
		{name: "Retry-After below the floor waits the floor", res: tooMany(time.Second), attempt: 3, policy: policy,
			want: decision{verdict: verdictRetry, retryAt: done.Add(time.Minute), autoDisableAfter: period}},
		{name: "Retry-After above the ceiling waits the ceiling", res: tooMany(48 * time.Hour), attempt: 1, policy: policy,
			want: decision{verdict: verdictRetry, retryAt: done.Add(24 * time.Hour), autoDisableAfter: period}},
		{name: "Retry-After on the last retry adds no attempt", res: tooMany(time.Minute), attempt: 6, policy: policy,
			want: decision{verdict: verdictExhausted, autoDisableAfter: period}},
		{name: "410 fails for good and disables the endpoint", res: gone, attempt: 1, policy: policy,
			want: decision{verdict: verdictPermanent, disableEndpoint: true, autoDisableAfter: period}},
		{name: "410 on the last retry still disables the endpoint", res: gone, attempt: 6, policy: policy,
			want: decision{verdict: verdictPermanent, disableEndpoint: true, autoDisableAfter: period}},
		{name: "410 to a test event disables the endpoint too", res: gone, attempt: 1, test: true, policy: policy,
			want: decision{verdict: verdictPermanent, disableEndpoint: true, autoDisableAfter: period}},
		{name: "a failed test event is not retried", res: failed, attempt: 1, test: true, policy: policy,
			want: decision{verdict: verdictPermanent, autoDisableAfter: period}},
		{name: "a test event that succeeds succeeds", res: Result{StatusCode: http.StatusOK}, attempt: 1, test: true, policy: policy,
			want: decision{verdict: verdictSucceeded}},
		{name: "without an auto-disable period a failure counts towards none", res: failed, attempt: 1,
			policy: deliveryPolicy{Retry: DefaultRetryPolicy()},
			want:   decision{verdict: verdictRetry, retryAt: done.Add(5 * time.Minute)}},
		{name: "without an auto-disable period 410 still disables", res: gone, attempt: 1,
			policy: deliveryPolicy{Retry: DefaultRetryPolicy()},
			want:   decision{verdict: verdictPermanent, disableEndpoint: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := decide(tc.res, tc.attempt, tc.test, done, tc.policy)
			if got.verdict != tc.want.verdict || !got.retryAt.Equal(tc.want.retryAt) ||
				got.disableEndpoint != tc.want.disableEndpoint || got.autoDisableAfter != tc.want.autoDisableAfter {
				t.Fatalf("decide = %s at %v, disable %v, auto-disable after %v; want %s at %v, disable %v, auto-disable after %v",
					got.verdict, got.retryAt, got.disableEndpoint, got.autoDisableAfter,
					tc.want.verdict, tc.want.retryAt, tc.want.disableEndpoint, tc.want.autoDisableAfter)
			}
		})
	}
}

// TestConcludeAttempt checks that each verdict moves the delivery to the
// state the recorder writes, and that the attempt carries the result.
func TestConcludeAttempt(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	done := start.Add(2 * time.Second)
	policy := deliveryPolicy{Retry: DefaultRetryPolicy(), AutoDisableAfter: time.Hour}
	tests := []struct {
		name        string
		res         Result
		made        int // attempts made before this one
		test        bool
		wantStatus  webhookd.DeliveryStatus
		wantNext    time.Time
		wantTrigger webhookd.AttemptTrigger // the next attempt's
	}{
		{name: "succeeded", res: Result{StatusCode: 200, Duration: time.Second}, wantStatus: webhookd.DeliverySucceeded,
			wantTrigger: webhookd.TriggerInitial},
		{name: "retry", res: Result{StatusCode: 503, Err: "unexpected status 503"}, made: 1,
			wantStatus: webhookd.DeliveryPending, wantNext: done.Add(30 * time.Minute), wantTrigger: webhookd.TriggerRetry},
		{name: "exhausted", res: Result{Err: "connection refused"}, made: 5,
			wantStatus: webhookd.DeliveryFailed, wantTrigger: webhookd.TriggerInitial},
		{name: "gone", res: Result{StatusCode: 410, Err: "unexpected status 410", Gone: true},
			wantStatus: webhookd.DeliveryFailed, wantTrigger: webhookd.TriggerInitial},
		{name: "test", res: Result{StatusCode: 500, Err: "unexpected status 500"}, test: true,
			wantStatus: webhookd.DeliveryFailed, wantTrigger: webhookd.TriggerInitial},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &webhookd.Delivery{ID: "dlv_1", Status: webhookd.DeliveryPending, AttemptCount: tc.made,
				NextAttemptTime: start, NextTrigger: webhookd.TriggerInitial}
			ev := &webhookd.Event{ID: "evt_1", Test: tc.test}
			a, dec := concludeAttempt(d, ev, "att_1", webhookd.TriggerInitial, start, done, tc.res, policy)
			if a.ID != "att_1" || a.DeliveryID != d.ID || a.Number != tc.made+1 || !a.StartTime.Equal(start) ||
				a.ResponseStatus != tc.res.StatusCode || a.Error != tc.res.Err || a.Duration != tc.res.Duration {
				t.Fatalf("attempt %+v does not carry the result %+v", a, tc.res)
			}
			if d.Status != tc.wantStatus || !d.NextAttemptTime.Equal(tc.wantNext) || d.NextTrigger != tc.wantTrigger ||
				d.AttemptCount != tc.made+1 || d.LastError != tc.res.Err || d.LastResponseStatus != tc.res.StatusCode ||
				!d.UpdateTime.Equal(done) {
				t.Fatalf("delivery after conclude: %+v; want status %s, next %v, trigger %s", d, tc.wantStatus, tc.wantNext, tc.wantTrigger)
			}
			if (dec.verdict == verdictRetry) != (d.Status == webhookd.DeliveryPending) {
				t.Fatalf("verdict %s but status %s", dec.verdict, d.Status)
			}
		})
	}
}

// TestConcludeDisabled checks that a delivery due for a disabled endpoint
// fails with the reason and keeps its attempt count: no attempt was made.
func TestConcludeDisabled(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	d := &webhookd.Delivery{ID: "dlv_1", Status: webhookd.DeliveryPending, AttemptCount: 2, NextAttemptTime: now,
		NextTrigger: webhookd.TriggerRetry, LastResponseStatus: 500}
	concludeDisabled(d, "maintenance", now)
	if d.Status != webhookd.DeliveryFailed || !d.NextAttemptTime.IsZero() || d.LastError != "endpoint disabled: maintenance" ||
		d.AttemptCount != 2 || d.LastResponseStatus != 500 || !d.UpdateTime.Equal(now) {
		t.Fatalf("delivery after concludeDisabled: %+v", d)
	}
}
