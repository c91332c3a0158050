package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd/store"
)

// EventPurger is what retention needs of the store (store.Purger): delete a
// batch of old events with their deliveries and attempts.
type EventPurger interface {
	PurgeEvents(ctx context.Context, before time.Time, limit int) (store.Purged, error)
}

// RetentionConfig configures NewRetention. Zero durations and sizes take the
// documented defaults.
type RetentionConfig struct {
	Store EventPurger
	// Redis holds the lease that lets one process purge at a time.
	Redis redis.UniversalClient
	// LeaseKey names the lease, e.g. "webhookd:retention-lease"; every
	// process of an installation must use the same.
	LeaseKey string
	Logger   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Registerer receives the purge counter; nil registers nothing.
	Registerer prometheus.Registerer
	// MaxAge is --retention: events created longer ago than this are
	// purged, with their deliveries and attempts, unless a delivery of
	// theirs is still pending. Required (a zero retention keeps history
	// forever, and then no Retention is built).
	MaxAge time.Duration
	// Interval is how often a purge runs (default 10m).
	Interval time.Duration
	// BatchSize bounds the events deleted in one transaction (default
	// 500), so that locks are short and delivery goes on meanwhile.
	BatchSize int
	// Pause is the wait between batches (default 100ms), leaving the
	// database to the delivery engine in between.
	Pause time.Duration
	// LeaseTTL is how long the lease lasts unless renewed (default 1m); it
	// is renewed after every batch, so it must outlast one batch and pause.
	LeaseTTL time.Duration
}

func (c *RetentionConfig) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Interval == 0 {
		c.Interval = 10 * time.Minute
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.Pause == 0 {
		c.Pause = 100 * time.Millisecond
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = time.Minute
	}
}

// Validate reports the first missing or inconsistent setting.
func (c *RetentionConfig) Validate() error {
	switch {
	case c.Store == nil || c.Redis == nil || c.Logger == nil || c.LeaseKey == "":
		return errors.New("retention: Store, Redis, LeaseKey and Logger are required")
	case c.MaxAge <= 0:
		return errors.New("retention: MaxAge must be positive")
	case c.Interval <= 0 || c.Pause < 0 || c.LeaseTTL <= c.Pause:
		return errors.New("retention: Interval must be positive and LeaseTTL must exceed Pause")
	case c.BatchSize < 1 || c.BatchSize > 10000:
		return errors.New("retention: BatchSize must be between 1 and 10000")
	}
	return nil
}

// Retention purges delivery history older than the retention period. Every
// worker process runs one; a lease in Redis makes them take turns, so that
// two never delete the same rows at once. Purging is idempotent, so the
// lease is for efficiency, not correctness: losing it mid-purge (a long
// pause) stops the purge at the next batch.
type Retention struct {
	cfg    RetentionConfig
	lease  *Lease
	purged *prometheus.CounterVec
}

// NewRetention returns the retention job for cfg.
func NewRetention(cfg RetentionConfig) (*Retention, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Retention{
		cfg:   cfg,
		lease: NewLease(cfg.Redis, cfg.LeaseKey, cfg.LeaseTTL),
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_retention_purged_rows_total",
			Help: "Rows the retention job deleted, by table: events, deliveries, attempts.",
		}, []string{"table"}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(r.purged); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Run purges once at start and then every Interval until ctx ends.
func (r *Retention) Run(ctx context.Context) error {
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	for {
		if _, _, err := r.PurgeOnce(ctx); err != nil && ctx.Err() == nil {
			// The next run retries; a database outage is logged by the
			// engine as well, so one line per run is enough here.
			r.cfg.Logger.WarnContext(ctx, "retention: purge failed; retrying at the next run", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// PurgeOnce takes the lease and, if it got it, purges in batches until
// nothing old is left, then releases the lease. It reports what it
// deleted and whether it held the lease (false: another process purges).
func (r *Retention) PurgeOnce(ctx context.Context) (total store.Purged, ran bool, err error) {
	ok, err := r.lease.Acquire(ctx)
	if err != nil || !ok {
		return total, false, err
	}
	defer func() {
		// A fresh context: give the lease back even when ctx is done.
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := r.lease.Release(releaseCtx); err != nil {
			r.cfg.Logger.WarnContext(ctx, "retention: releasing the lease failed; it runs out by itself", "error", err)
		}
	}()
	before := r.cfg.Now().Add(-r.cfg.MaxAge)
	for {
		p, err := r.cfg.Store.PurgeEvents(ctx, before, r.cfg.BatchSize)
		if err != nil {
			return total, true, err
		}
		total.Events += p.Events
		total.Deliveries += p.Deliveries
		total.Attempts += p.Attempts
		r.purged.WithLabelValues("events").Add(float64(p.Events))
		r.purged.WithLabelValues("deliveries").Add(float64(p.Deliveries))
		r.purged.WithLabelValues("attempts").Add(float64(p.Attempts))
		if p.Events < int64(r.cfg.BatchSize) {
			break
		}
		select {
		case <-ctx.Done():
			return total, true, ctx.Err()
		case <-time.After(r.cfg.Pause):
		}
		if held, err := r.lease.Renew(ctx); err != nil || !held {
			if err == nil {
				err = errors.New("lost the retention lease (paused longer than its ttl); another process purges now")
			}
			return total, true, err
		}
	}
	if total.Events > 0 {
		r.cfg.Logger.InfoContext(ctx, "retention: purged old events", "events", total.Events,
			"deliveries", total.Deliveries, "attempts", total.Attempts, "created_before", before)
	}
	return total, true, nil
}
