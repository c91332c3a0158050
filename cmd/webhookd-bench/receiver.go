package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookd/webhookd/internal/loopback"
)

// answer is how an endpoint of the receiver answers.
type answer int

const (
	// answerOK: 200 at once, the arrival recorded.
	answerOK answer = iota
	// answerFail: 500 to every request, so that each delivery waits for a
	// retry (the pending retries of the memory run).
	answerFail
	// answerFailFirst: 500 to an event's first request and 200 to the next,
	// recording both times (the retry lateness run).
	answerFailFirst
)

// receiver is the endpoints' side of the benchmark, one loopback address
// per endpoint (package loopback), that answers at once and records when
// each request arrived, keyed by which endpoint got it and its
// X-Webhook-Id. It verifies nothing: it stands for the fastest possible
// receiver, so that what is measured is the sender.
type receiver struct {
	urls      []string
	listeners *loopback.Receivers
	answers   []answer
	current   atomic.Pointer[collector]
	retries   atomic.Pointer[retryCollector]
	// failed counts the requests answerFail endpoints refused.
	failed atomic.Int64
}

// arrivalKey names one delivery: the same event reaches every endpoint once.
type arrivalKey = loopback.Key

// collector records the arrivals of one run.
type collector struct {
	mu       sync.Mutex
	arrivals map[arrivalKey]time.Time
	dups     int
	want     int // -1: not known yet (setWant)
	closed   bool
	done     chan struct{}
}

func newCollector(want int) *collector {
	return &collector{arrivals: make(map[arrivalKey]time.Time, want), want: want, done: make(chan struct{})}
}

func (c *collector) add(k arrivalKey, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.arrivals[k]; seen {
		c.dups++ // at-least-once: a redelivery counts once, at its first arrival
		return
	}
	c.arrivals[k] = at
	c.closeIfDone()
}

// setWant sets how many deliveries to wait for, once known.
func (c *collector) setWant(want int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = want
	c.closeIfDone()
}

func (c *collector) closeIfDone() {
	if !c.closed && c.want >= 0 && len(c.arrivals) >= c.want {
		c.closed = true
		close(c.done)
	}
}

// count is how many distinct deliveries arrived so far.
func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.arrivals)
}

// wait returns when want distinct deliveries arrived, or fails at the
// deadline saying how many did.
func (c *collector) wait(ctx context.Context, timeout time.Duration) error {
	return waitDone(ctx, c.done, timeout, func() string {
		return fmt.Sprintf("only %d of %d deliveries arrived within %s", c.count(), c.want, timeout)
	})
}

func waitDone(ctx context.Context, done <-chan struct{}, timeout time.Duration, late func() string) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%s", late())
	}
}

// retryCollector records, per event, when its first attempt was refused and
// when its retry arrived.
type retryCollector struct {
	mu      sync.Mutex
	refused map[string]time.Time
	retried map[string]time.Time
	want    int
	done    chan struct{}
}

func newRetryCollector(want int) *retryCollector {
	return &retryCollector{
		refused: make(map[string]time.Time, want),
		retried: make(map[string]time.Time, want),
		want:    want,
		done:    make(chan struct{}),
	}
}

// attempt records a request for event id at, and reports whether to refuse
// it: only the first is.
func (c *retryCollector) attempt(id string, at time.Time) (refuse bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.refused[id]; !seen {
		c.refused[id] = at
		return true
	}
	if _, seen := c.retried[id]; !seen {
		c.retried[id] = at
		if len(c.retried) == c.want {
			close(c.done)
		}
	}
	return false
}

func (c *retryCollector) wait(ctx context.Context, timeout time.Duration) error {
	return waitDone(ctx, c.done, timeout, func() string {
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Sprintf("only %d of %d retries arrived within %s", len(c.retried), c.want, timeout)
	})
}

// lateness is, per retried event, how long after it was due its retry
// arrived: retry arrival − refusal − delay.
func (c *retryCollector) lateness(delay time.Duration) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, 0, len(c.retried))
	for id, at := range c.retried {
		out = append(out, at.Sub(c.refused[id])-delay)
	}
	return out
}

// startReceiver listens on 127.0.0.1 … 127.0.0.n, endpoint i answering as
// answers[i] says.
func startReceiver(answers []answer) (*receiver, error) {
	r := &receiver{answers: answers}
	listeners, err := loopback.Listen(len(answers), "/webhooks", r.handler)
	if err != nil {
		return nil, err
	}
	r.listeners, r.urls = listeners, listeners.URLs
	return r, nil
}

func (r *receiver) handler(endpoint int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body) // read it all so the connection is reused
		at := time.Now()
		id := req.Header.Get("X-Webhook-Id")
		switch r.answers[endpoint] {
		case answerFail:
			r.failed.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			return
		case answerFailFirst:
			if c := r.retries.Load(); c != nil && c.attempt(id, at) {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
		default:
			if c := r.current.Load(); c != nil {
				c.add(arrivalKey{Endpoint: endpoint, ID: id}, at)
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// expect starts recording a run that waits for want deliveries.
func (r *receiver) expect(want int) *collector {
	c := newCollector(want)
	r.current.Store(c)
	return c
}

// expectRetries starts recording a run that waits for want retries at the
// answerFailFirst endpoints.
func (r *receiver) expectRetries(want int) *retryCollector {
	c := newRetryCollector(want)
	r.retries.Store(c)
	return c
}

func (r *receiver) close() {
	r.listeners.Close()
}
