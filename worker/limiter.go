package worker

import (
	"sync"
	"time"
)

// endpointBusyDelay is how long a delivery to an endpoint already at its
// concurrency limit waits before it is claimed again: short, because one of
// the endpoint's attempts usually ends within milliseconds, and every wait
// adds to the delivery's latency.
const endpointBusyDelay = 100 * time.Millisecond

// endpointBusyWait is how long a worker waits for a busy endpoint's slot
// before rescheduling the delivery by endpointBusyDelay.
const endpointBusyWait = 50 * time.Millisecond

// failingEndpointAfter is how many attempts in a row an endpoint must fail
// before it is limited to one attempt at a time.
const failingEndpointAfter = 3

// maxTrackedFailingEndpoints bounds the failure counts a limiter keeps; past
// it the oldest knowledge is dropped wholesale, which only lets a failing
// endpoint have its full concurrency back for a few attempts.
const maxTrackedFailingEndpoints = 100_000

// endpointLimiter counts attempts in flight per endpoint. An endpoint whose
// last failingEndpointAfter attempts all failed (hanging, refusing, erring)
// gets one attempt at a time until one succeeds: otherwise enough dead
// endpoints, each using its full limit on requests that only time out,
// would take every worker from the healthy ones.
type endpointLimiter struct {
	mu      sync.Mutex
	limit   int
	counts  map[string]int
	failing map[string]int // consecutive failed attempts, for endpoints failing now
	changed chan struct{}  // closed and replaced whenever an attempt ends
}

func newEndpointLimiter(limit int) *endpointLimiter {
	return &endpointLimiter{limit: limit, counts: map[string]int{}, failing: map[string]int{}, changed: make(chan struct{})}
}

// limitOf is the concurrency endpointID may have now; l.mu is held.
func (l *endpointLimiter) limitOf(endpointID string) int {
	if l.failing[endpointID] >= failingEndpointAfter {
		return 1
	}
	return l.limit
}

// acquire takes one of the endpoint's attempt slots, waiting up to wait for
// one to free: a busy but healthy endpoint frees one within milliseconds,
// and a short wait beats rescheduling. A slow endpoint keeps its slots, so
// the wait ends and the worker moves on.
func (l *endpointLimiter) acquire(endpointID string, wait time.Duration) bool {
	var timer *time.Timer
	for {
		l.mu.Lock()
		if l.counts[endpointID] < l.limitOf(endpointID) {
			l.counts[endpointID]++
			l.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return true
		}
		changed := l.changed
		l.mu.Unlock()
		if timer == nil {
			if wait <= 0 {
				return false
			}
			timer = time.NewTimer(wait)
		}
		select {
		case <-changed:
		case <-timer.C:
			return false
		}
	}
}

// release returns a slot taken by acquire; failed says whether the attempt
// made with it failed.
func (l *endpointLimiter) release(endpointID string, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts[endpointID]--; l.counts[endpointID] <= 0 {
		delete(l.counts, endpointID)
	}
	switch {
	case !failed:
		delete(l.failing, endpointID)
	case len(l.failing) >= maxTrackedFailingEndpoints && l.failing[endpointID] == 0:
		clear(l.failing)
		fallthrough
	default:
		l.failing[endpointID]++
	}
	close(l.changed)
	l.changed = make(chan struct{})
}
