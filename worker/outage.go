package worker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/webhookd/webhookd"
)

// The database may go away (a restart, a failover, a network cut) while
// workers run. Retrying at full speed would flood the logs and the database
// the moment it returns; an outage makes the engine wait longer after each
// failed call, up to a cap, and log only when the state changes: one
// warning when the database stops answering, one line when it is back.

const (
	// outageMinDelay is the wait after the first failure.
	outageMinDelay = 250 * time.Millisecond
	// outageMaxDelay caps the wait: once the database is back, work resumes
	// within about this long.
	outageMaxDelay = 10 * time.Second
)

// outage follows whether a dependency answers. Safe for concurrent use.
type outage struct {
	what   string // "database", for log lines
	logger *slog.Logger

	mu       sync.Mutex
	failures int       // consecutive failed calls; 0 while it answers
	since    time.Time // the first of them
	retryAt  time.Time // no call before this while failing
}

func newOutage(what string, logger *slog.Logger) *outage {
	return &outage{what: what, logger: logger}
}

// failed records a failed call and returns how long to wait before the
// next one: outageMinDelay doubled per consecutive failure, capped at
// outageMaxDelay, with jitter so that many workers do not retry in step.
func (o *outage) failed(ctx context.Context, err error) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failures++
	if o.failures == 1 {
		o.since = time.Now()
		o.logger.WarnContext(ctx, o.what+" unavailable; backing off until it answers", "error", err)
	}
	delay := backoffDelay(o.failures)
	o.retryAt = time.Now().Add(delay)
	return delay
}

// ready reports whether a call may be made now: always while the
// dependency answers, once the backoff delay has passed while it does not.
func (o *outage) ready() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failures == 0 || !time.Now().Before(o.retryAt)
}

// succeeded records a call that worked, ending an outage.
func (o *outage) succeeded(ctx context.Context) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failures == 0 {
		return
	}
	o.logger.InfoContext(ctx, o.what+" available again", "outage", time.Since(o.since).Round(time.Millisecond),
		"failed_calls", o.failures)
	o.failures = 0
}

// backoffDelay is the wait after n consecutive failures: half of it fixed,
// half random ("equal jitter").
func backoffDelay(n int) time.Duration {
	d := outageMaxDelay
	if n < 16 {
		d = min(outageMinDelay<<(n-1), outageMaxDelay)
	}
	return d/2 + rand.N(d/2+1)
}

// storeFailed handles a failed store call of the engine: a database outage
// (webhookd.KindUnavailable) starts or extends the backoff and returns its
// delay; any other error is logged with msg (unless "") and returns 0.
func (e *Engine) storeFailed(ctx context.Context, msg string, err error) time.Duration {
	if webhookd.KindOf(err) == webhookd.KindUnavailable {
		return e.db.failed(ctx, err)
	}
	if msg != "" {
		e.cfg.Logger.WarnContext(ctx, msg, "error", err)
	}
	return 0
}

// putBack handles claims whose deliveries could not be loaded. During a
// database outage they are rescheduled for when the backoff ends, so that
// they are tried again soon after the database returns rather than after
// their leases; otherwise the leases are left to run out. It returns 0, the
// number of claims started.
func (e *Engine) putBack(ctx context.Context, claims []Claim, err error) int {
	delay := e.storeFailed(ctx, "loading claimed deliveries failed; they come due again after their leases", err)
	if delay == 0 {
		return 0
	}
	due := e.now().Add(delay)
	settlements := make([]Settlement, len(claims))
	for i, c := range claims {
		settlements[i] = Settlement{Claim: c, Due: due}
	}
	if err := e.cfg.Schedule.Settle(ctx, settlements); err != nil {
		e.cfg.Logger.WarnContext(ctx, "rescheduling claimed deliveries failed; they come due again after their leases", "error", err)
	}
	return 0
}
