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

// receiver is the endpoints' side of the benchmark, one loopback address
// per endpoint (package loopback), that answers 200 at once and record when each request arrived,
// keyed by which endpoint got it and its X-Webhook-Id. It verifies nothing:
// it stands for the fastest possible receiver, so that what is measured is
// the sender.
type receiver struct {
	urls      []string
	listeners *loopback.Receivers
	current atomic.Pointer[collector]
}

// arrivalKey names one delivery: the same event reaches every endpoint once.
type arrivalKey = loopback.Key

// collector records the arrivals of one run.
type collector struct {
	mu       sync.Mutex
	arrivals map[arrivalKey]time.Time
	dups     int
	want     int
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
	if len(c.arrivals) == c.want {
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
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("only %d of %d deliveries arrived within %s", c.count(), c.want, timeout)
	}
}

// startReceiver listens on 127.0.0.1 … 127.0.0.n, one address per endpoint.
func startReceiver(n int) (*receiver, error) {
	r := &receiver{}
	listeners, err := loopback.Listen(n, "/webhooks", r.handler)
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
		if c := r.current.Load(); c != nil {
			c.add(arrivalKey{Endpoint: endpoint, ID: req.Header.Get("X-Webhook-Id")}, at)
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

func (r *receiver) close() {
	r.listeners.Close()
}
