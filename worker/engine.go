package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// EngineConfig configures NewEngine. Zero durations and sizes take the
// documented defaults.
type EngineConfig struct {
	Store    DeliveryStore
	Schedule *Schedule
	Sender   *Sender
	Retry    RetryPolicy
	Logger   *slog.Logger
	IDs      *webhookd.IDGenerator
	// Now is the clock (time.Now when nil); tests inject one to run retry
	// schedules of hours in milliseconds.
	Now func() time.Time
	// Metrics records attempts; nil records nothing.
	Metrics *Metrics
	// Workers bounds concurrent attempts in this process (default 32).
	Workers int
	// PerEndpoint bounds concurrent attempts to one endpoint (default 8),
	// so that a slow endpoint cannot occupy every worker.
	PerEndpoint int
	// Lease is how long a claimed delivery stays invisible to other workers
	// (default 1m). It must outlast an attempt: a delivery whose worker dies
	// comes due again when its lease ends.
	Lease time.Duration
	// RenewInterval is how often the leases of slow attempts are renewed
	// (default Lease/5): those with half their lease used, and hand-offs
	// waiting for more than a quarter of one (see claims.go).
	RenewInterval time.Duration
	// PollInterval bounds how long the engine sleeps between claims when
	// no wake-up arrives (default 1s). It sleeps until the earliest entry
	// in the schedule is due, and is woken when a delivery is dispatched or
	// rescheduled to be due sooner (see ScheduleConfig.AnnounceWithin), so
	// the interval only matters when a wake-up is lost.
	PollInterval time.Duration
	// ReconcileInterval is how often pending deliveries overdue by more
	// than Lease and missing from the schedule are put back (default 30s).
	ReconcileInterval time.Duration
	// AutoDisableAfter disables an endpoint once every attempt to it has
	// failed for this long (--auto-disable-after); 0 never does.
	AutoDisableAfter time.Duration
	// HandOffQueue bounds the new deliveries waiting in memory for this
	// process's workers (see Enqueue); beyond it they go to the schedule.
	// Default: 512 per worker.
	HandOffQueue int
	// PrivateSchedule says the schedule is this engine's alone (the
	// embedded Redis, empty at every start): no other process hands off or
	// claims, so the reconcile at start puts back every due delivery at
	// once instead of only those overdue by a lease.
	PrivateSchedule bool

	// hooks tell tests what the engine did, so that they wait for it
	// instead of sleeping (set in export_test.go); unset in production.
	hooks engineHooks
}

// engineHooks are called by the engine, when set, at the points tests
// need to observe to check that something did not happen.
type engineHooks struct {
	// claimed is called after each claim from the schedule with the time
	// it claimed at and how many deliveries it claimed.
	claimed func(now time.Time, n int)
	// reconciled is called after each reconcile pass that looked at every
	// due delivery, with how many it put back into the schedule.
	reconciled func(added int64)
}

func (c *EngineConfig) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Workers == 0 {
		c.Workers = 32
	}
	if c.PerEndpoint == 0 {
		c.PerEndpoint = 8
	}
	if c.Lease == 0 {
		c.Lease = time.Minute
	}
	if c.RenewInterval == 0 {
		c.RenewInterval = c.Lease / 5
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.ReconcileInterval == 0 {
		c.ReconcileInterval = 30 * time.Second
	}
	if c.HandOffQueue == 0 {
		c.HandOffQueue = handoffQueuePerWorker * c.Workers
	}
}

// Validate reports the first missing or inconsistent setting.
func (c *EngineConfig) Validate() error {
	switch {
	case c.Store == nil || c.Schedule == nil || c.Sender == nil || c.Logger == nil || c.IDs == nil:
		return errors.New("engine: Store, Schedule, Sender, Logger and IDs are required")
	case c.Workers < 1 || c.PerEndpoint < 1 || c.HandOffQueue < 1:
		return errors.New("engine: Workers, PerEndpoint and HandOffQueue must be at least 1")
	case c.Lease <= c.Sender.Timeout()+5*time.Second:
		return errors.New("engine: Lease must exceed the request timeout by at least 5s")
	case c.PollInterval <= 0 || c.ReconcileInterval <= 0:
		return errors.New("engine: PollInterval and ReconcileInterval must be positive")
	case c.RenewInterval <= 0 || c.RenewInterval > c.Lease/4:
		// A renewal starts once half a lease is used; a lease must not end
		// before the next one.
		return errors.New("engine: RenewInterval must be positive and at most a quarter of Lease")
	case c.AutoDisableAfter < 0:
		return errors.New("engine: AutoDisableAfter must not be negative")
	}
	return c.Retry.Validate()
}

// Engine claims due deliveries from the schedule and attempts them: load,
// sign, send, record, then retry later or finish. The database decides what
// a delivery needs; the schedule only says when to look at it, so every
// claim is checked against the stored delivery first.
type Engine struct {
	cfg      EngineConfig
	limiter  *endpointLimiter
	inflight sync.WaitGroup
	freed    chan struct{} // signalled when an attempt ends
	outcomes chan *outcome // attempts waiting to be recorded
	jobs     chan job      // attempts waiting for a worker (see work)
	db       *outage       // backs off while the database does not answer
	claims   heldClaims    // claims being worked on, whose leases are renewed

	// running guards local, which is nil once Run has stopped, so that
	// nothing is handed off that no worker would take.
	running   sync.RWMutex
	local     chan localWork // handed-off deliveries waiting for a worker
	handed    chan struct{}  // signalled when a hand-off is queued
	endpoints endpointCache
	watchers  attemptWatchers // see WatchAttempts
}

// NewEngine returns an engine for cfg.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Engine{
		cfg:     cfg,
		limiter: newEndpointLimiter(cfg.PerEndpoint),
		db:      newOutage("database", cfg.Logger),
		handed:  make(chan struct{}, 1),
		// Hand-offs made before Run starts wait for it.
		local: make(chan localWork, cfg.HandOffQueue),
	}, nil
}

func (e *Engine) now() time.Time { return e.cfg.Now().UTC() }

// Run works until ctx ends, then stops claiming and lets the attempts in
// flight finish (each is bounded by the request timeout) before returning.
func (e *Engine) Run(ctx context.Context) error {
	wake := e.cfg.Schedule.Wakeups(ctx)
	slots := make(chan struct{}, e.cfg.Workers)
	e.freed = make(chan struct{}, 1)
	// poll fires when the earliest entry of the schedule is due, or after
	// PollInterval at most; it is set again after every claim.
	poll := time.NewTimer(e.cfg.PollInterval)
	defer poll.Stop()
	reconcile := time.NewTicker(e.cfg.ReconcileInterval)
	defer reconcile.Stop()
	e.reconcile(ctx, e.cfg.PrivateSchedule)

	e.outcomes = make(chan *outcome, 4*e.cfg.Workers)
	recorded := make(chan struct{})
	go func() { defer close(recorded); e.recordLoop(context.WithoutCancel(ctx)) }()
	// Leases are renewed until the last attempt is recorded, shutdown
	// included.
	renewCtx, stopRenewing := context.WithCancel(context.WithoutCancel(ctx))
	renewed := make(chan struct{})
	go func() { defer close(renewed); e.renewLoop(renewCtx) }()
	e.jobs = make(chan job, e.cfg.Workers)
	for range e.cfg.Workers {
		go e.work(e.jobs)
	}
	defer func() {
		e.stopLocal(context.WithoutCancel(ctx))
		// Attempts in flight finish and are recorded before Run returns.
		e.inflight.Wait()
		close(e.jobs)
		close(e.outcomes)
		<-recorded
		stopRenewing()
		<-renewed
	}()
	// scheduleMayHaveDue is false once a claim found fewer due deliveries
	// than it asked for, until something may have made more due: a wake-up,
	// a poll, a reconcile. Free workers then take hand-offs without asking
	// the schedule each time one frees.
	scheduleMayHaveDue := true
	for turn := 0; ; turn++ {
		started := 0
		claimed := false
		var next time.Time
		claimFirst := turn%2 == 0 // alternate, so neither source starves the other
		if claimFirst && scheduleMayHaveDue {
			n, drained, due := e.claimAndStart(ctx, slots)
			started, scheduleMayHaveDue, claimed, next = n, !drained, true, due
		}
		started += e.startLocal(ctx, slots)
		if !claimFirst && scheduleMayHaveDue {
			n, drained, due := e.claimAndStart(ctx, slots)
			started, scheduleMayHaveDue, claimed, next = started+n, !drained, true, due
		}
		if claimed {
			// Set after every claim, even one the loop does not sleep
			// after: the next turns may not claim (the schedule drained, a
			// worker freed, a hand-off), and then the schedule is as this
			// claim left it.
			poll.Reset(e.sleepFor(scheduleMayHaveDue, next))
		}
		if started > 0 && len(slots) < cap(slots) {
			continue // more may be due right now: look again before sleeping
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			scheduleMayHaveDue = true
		case <-poll.C:
			scheduleMayHaveDue = true
		case <-reconcile.C:
			e.Reconcile(ctx)
			scheduleMayHaveDue = true
		case <-e.freed:
		case <-e.handed:
		}
	}
}

// sleepFor is how long Run sleeps before claiming again: until next, the
// earliest entry of a drained schedule, and PollInterval at most: when the
// schedule is empty, when next is unknown, and when the schedule was not
// drained (no worker was free, or the claim failed), which a wake-up or a
// freed worker ends sooner.
func (e *Engine) sleepFor(mayHaveDue bool, next time.Time) time.Duration {
	if mayHaveDue || next.IsZero() {
		return e.cfg.PollInterval
	}
	return min(max(next.Sub(e.now()), 0), e.cfg.PollInterval)
}

// claimAndStart claims as many due deliveries as there are free workers and
// starts an attempt for each. It returns how many it claimed, whether the
// schedule had fewer due than that (drained), and then when its earliest
// entry is due (zero when empty or unknown): a failed claim says nothing of
// what is due, so it does not count as drained.
func (e *Engine) claimAndStart(ctx context.Context, slots chan struct{}) (claimed int, drained bool, next time.Time) {
	free := cap(slots) - len(slots)
	if free == 0 || ctx.Err() != nil || !e.db.ready() {
		return 0, false, time.Time{}
	}
	now := e.now()
	claims, next, err := e.cfg.Schedule.ClaimNext(ctx, now, now.Add(e.cfg.Lease), free)
	if err != nil {
		if ctx.Err() == nil {
			e.cfg.Logger.WarnContext(ctx, "claiming from the schedule failed", "error", err)
		}
		return 0, false, time.Time{}
	}
	if e.cfg.hooks.claimed != nil {
		e.cfg.hooks.claimed(now, len(claims))
	}
	drained = len(claims) < free
	if drained && !next.IsZero() && !next.After(now) {
		// Read before the claim's second pass, or an entry added since:
		// ask again rather than sleep past it, or claim at once.
		if next, err = e.cfg.Schedule.Next(ctx); err != nil {
			next = time.Time{}
		}
	}
	if len(claims) == 0 {
		return 0, drained, next
	}
	// Followed from now on: loading may be slow too.
	held := make([]*heldClaim, len(claims))
	for i, c := range claims {
		held[i] = e.claims.add(c, time.Time{})
	}
	// An attempt that started finishes even during shutdown: its request is
	// bounded by the timeout, and finishing it records the outcome instead
	// of sending it again after the lease.
	workCtx := context.WithoutCancel(ctx)
	ids := make([]string, len(claims))
	for i, c := range claims {
		ids[i] = c.DeliveryID
	}
	works, err := e.cfg.Store.LoadDeliveryWorks(workCtx, ids)
	if err != nil {
		for i, h := range held {
			claims[i] = e.claims.done(h)
		}
		return e.putBack(ctx, claims, err), drained, next
	}
	e.db.succeeded(ctx)
	for _, w := range works {
		e.endpoints.put(w.Endpoint) // read just now: current
	}
	for i, c := range claims {
		e.launch(workCtx, slots, held[i], func(context.Context) (*store.DeliveryWork, error) {
			return works[c.DeliveryID], nil
		})
	}
	return len(claims), drained, next
}

// launch takes one of slots and has a worker attempt claim h with the work
// load returns (nil when the delivery is gone). When load fails, the
// delivery is put back as putBack does.
func (e *Engine) launch(ctx context.Context, slots chan struct{}, h *heldClaim, load func(context.Context) (*store.DeliveryWork, error)) {
	slots <- struct{}{}
	e.inflight.Add(1)
	// Never blocks: a job waits here only while its slot is taken, and
	// there are as many places as slots.
	e.jobs <- job{ctx: ctx, slots: slots, held: h, load: load}
}

// job is one attempt for a worker.
type job struct {
	ctx   context.Context
	slots chan struct{}
	held  *heldClaim
	load  func(context.Context) (*store.DeliveryWork, error)
}

// work runs jobs until the channel closes. Run keeps Workers of these
// goroutines rather than starting one per attempt: an attempt's call depth
// (HTTP client, TLS, tracing) grows a new goroutine's stack several times
// over, and that copying was about 7 % of webhookd's CPU under load.
func (e *Engine) work(jobs <-chan job) {
	for j := range jobs {
		var o *outcome
		if work, err := j.load(j.ctx); err != nil {
			e.putBack(j.ctx, []Claim{e.claims.done(j.held)}, err)
		} else {
			o = e.attempt(j.ctx, j.held, work)
		}
		// The worker is free once its request is done; recording goes on
		// in the recorder, whose bounded queue holds workers back when the
		// database falls behind.
		<-j.slots
		select { // tell Run a worker is free: more may be due
		case e.freed <- struct{}{}:
		default:
		}
		if o == nil {
			e.inflight.Done()
			continue
		}
		o.release = e.inflight.Done
		e.outcomes <- o
	}
}

func (e *Engine) release(ctx context.Context, log *slog.Logger, c Claim, due time.Time) {
	if err := e.cfg.Schedule.Release(ctx, c, due); err != nil {
		// The reconciler puts it back once it is due.
		log.WarnContext(ctx, "rescheduling failed", "error", err)
	}
	// A delivery due before Run's next claim wakes it (see Schedule.Settle).
}

func (e *Engine) finish(ctx context.Context, log *slog.Logger, c Claim) {
	if err := e.cfg.Schedule.Finish(ctx, c); err != nil {
		log.WarnContext(ctx, "removing finished delivery from the schedule failed", "error", err)
	}
}
