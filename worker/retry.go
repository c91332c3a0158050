package worker

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry-After bounds of DefaultRetryPolicy.
//
// The floor keeps a receiver that answers "Retry-After: 0" (or 1) from
// burning its few attempts in a tight loop: Retry-After replaces a delay but
// never adds an attempt. The ceiling honours "come back tomorrow" (a
// maintenance window) but never parks a delivery longer than a day: by then
// the guide tells customers to fetch missed events through the API.
const (
	DefaultMinRetryAfter = time.Minute
	DefaultMaxRetryAfter = 24 * time.Hour
)

// DefaultRetrySchedule is the guide's schedule: after a failed first attempt,
// retries 5 minutes, 30 minutes, 2 hours, 5 hours and 10 hours after the
// previous attempt, then the delivery is failed. A new slice each call, so
// no caller can change another's schedule.
func DefaultRetrySchedule() []time.Duration {
	return []time.Duration{5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}
}

// DefaultRetryPolicy is the guide's schedule with the default Retry-After bounds.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		Schedule:      DefaultRetrySchedule(),
		MinRetryAfter: DefaultMinRetryAfter,
		MaxRetryAfter: DefaultMaxRetryAfter,
	}
}

// RetryPolicy decides when a failed delivery is attempted again, and when it
// has failed for good. It is a pure function of its inputs (the engine passes
// the clock in), so schedules of hours are tested without waiting. decide
// (decision.go) consults it for every failed attempt that may be retried.
type RetryPolicy struct {
	// Schedule[i] is the delay between attempt i+1 failing and attempt i+2:
	// len(Schedule) retries follow the first attempt. Empty means no retries.
	Schedule []time.Duration
	// MinRetryAfter and MaxRetryAfter bound a receiver's Retry-After, which
	// replaces the schedule's delay for the next attempt.
	MinRetryAfter time.Duration
	MaxRetryAfter time.Duration
}

// Validate reports every delay that is not positive and bounds that are out
// of order.
func (p RetryPolicy) Validate() error {
	var errs []error
	for i, d := range p.Schedule {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("retry schedule: delay %d is %v; every delay must be positive", i+1, d))
		}
	}
	if p.MinRetryAfter < 0 {
		errs = append(errs, fmt.Errorf("retry policy: MinRetryAfter is %v; it must not be negative", p.MinRetryAfter))
	}
	if p.MaxRetryAfter < p.MinRetryAfter {
		errs = append(errs, fmt.Errorf("retry policy: MaxRetryAfter (%v) is less than MinRetryAfter (%v)", p.MaxRetryAfter, p.MinRetryAfter))
	}
	return errors.Join(errs...)
}

// Next says when the attempt after attemptsMade failed attempts is due:
// now + Schedule[attemptsMade-1], or now + retryAfter clamped to
// [MinRetryAfter, MaxRetryAfter] when the last response asked for a delay
// (retryAfter > 0; see Result.RetryAfter). ok is false when the schedule is
// used up: the delivery has failed. attemptsMade < 1 means no attempt was
// made yet, and the first one is due now.
//
// Delays count from now, the end of the failed attempt, so "each after the
// previous attempt" holds however late a worker ran the attempt.
func (p RetryPolicy) Next(attemptsMade int, now time.Time, retryAfter time.Duration) (next time.Time, ok bool) {
	if attemptsMade < 1 {
		return now, true
	}
	if attemptsMade > len(p.Schedule) {
		return time.Time{}, false
	}
	delay := p.Schedule[attemptsMade-1]
	if retryAfter > 0 {
		delay = min(max(retryAfter, p.MinRetryAfter), p.MaxRetryAfter)
	}
	return now.Add(delay), true
}

// ParseRetryAfter reads a Retry-After header value (RFC 9110 section
// 10.2.3): delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00
// GMT", and the obsolete RFC 850 and asctime forms), the latter relative to
// now. A date in the past gives 0. ok is false for an empty or malformed
// value, which callers treat as no Retry-After at all. Absurdly large values
// saturate instead of overflowing; RetryPolicy clamps them.
func ParseRetryAfter(header string, now time.Time) (time.Duration, bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	if header[0] >= '0' && header[0] <= '9' {
		for i := 0; i < len(header); i++ {
			if header[i] < '0' || header[i] > '9' {
				return 0, false
			}
		}
		secs, err := strconv.ParseUint(header, 10, 64)
		if err != nil || secs > math.MaxInt64/uint64(time.Second) {
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(header)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}
