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
	Store    store.Store
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
	// process's workers (see Dispatch); beyond it they go to the schedule.
	// Default: 512 per worker.
	HandOffQueue int
	// PrivateSchedule says the schedule is this engine's alone (the
	// embedded Redis, empty at every start): no other process hands off or
	// claims, so the reconcile at start puts back every due delivery at
	// once instead of only those overdue by a lease.
	PrivateSchedule bool
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

// outcome is an attempt (or a decision to fail without one) waiting for the
// recorder, which writes many in one transaction.
type outcome struct {
	held     *heldClaim
	log      *slog.Logger
	attempt  *webhookd.Attempt // nil when no request was made
	delivery *webhookd.Delivery
	event    *webhookd.Event
	result   Result
	done     time.Time
	// release is called once the outcome is recorded (or given up on), so
	// that shutdown waits for every outcome to be written.
	release func()
}

// maxRecordBatch bounds the outcomes written in one transaction.
const maxRecordBatch = 128

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

// Reconcile puts back into the schedule every pending delivery overdue by
// more than a lease that it does not hold: one whose dispatch was lost
// between commit and enqueue, a hand-off whose process died (see
// Dispatch), or a schedule emptied by a Redis restart. Present ids keep
// their leases. The lease's wait leaves alone the hand-offs being attempted
// right now, which the schedule does not hold either.
func (e *Engine) Reconcile(ctx context.Context) { e.reconcile(ctx, false) }

// reconcile is Reconcile; all puts back every due delivery, overdue or not.
func (e *Engine) reconcile(ctx context.Context, all bool) {
	const batch = 500
	after := ""
	var added int64
	overdue := e.now().Add(-e.cfg.Lease)
	if all {
		overdue = e.now()
	}
	for ctx.Err() == nil && e.db.ready() {
		due, err := e.cfg.Store.ListDueDeliveries(ctx, overdue, after, batch)
		if err != nil {
			e.storeFailed(ctx, "reconcile: listing due deliveries failed", err)
			return
		}
		e.db.succeeded(ctx)
		n, err := e.cfg.Schedule.AddMissing(ctx, due)
		if err != nil {
			e.cfg.Logger.WarnContext(ctx, "reconcile: scheduling failed", "error", err)
			return
		}
		added += n
		if len(due) < batch {
			break
		}
		after = due[len(due)-1].ID
	}
	if added > 0 {
		e.cfg.Logger.InfoContext(ctx, "reconcile: rescheduled deliveries missing from the schedule", "count", added)
		e.cfg.Metrics.reconciled(added)
	}
}

// attempt makes one attempt of a claimed delivery, if the stored delivery
// (work, nil when it is gone) still wants one now and the claim is still
// held. It returns the outcome to record, or nil when there is nothing to
// record; the outcome's claim is followed until it is recorded.
func (e *Engine) attempt(ctx context.Context, h *heldClaim, work *store.DeliveryWork) *outcome {
	log := e.cfg.Logger.With("delivery", h.current().DeliveryID)
	if work == nil {
		e.finish(ctx, log, e.claims.done(h)) // deleted with its endpoint
		return nil
	}
	d, ev, ep := work.Delivery, work.Event, work.Endpoint
	now := e.now()
	if d.Status != webhookd.DeliveryPending {
		e.finish(ctx, log, e.claims.done(h))
		return nil
	}
	if d.NextAttemptTime.After(now) {
		// The schedule held an earlier time than the database (a lease ran
		// out before its release, or a reconciled entry): the database wins.
		e.release(ctx, log, e.claims.done(h), d.NextAttemptTime)
		return nil
	}
	if ep.Disabled {
		// No request is made; the delivery fails with the reason, and
		// RecoverEndpoint re-sends it once the endpoint is enabled again.
		d.Status, d.NextAttemptTime = webhookd.DeliveryFailed, time.Time{}
		d.LastError = "endpoint disabled: " + ep.DisabledReason
		d.UpdateTime = now
		return &outcome{held: h, log: log, delivery: d, event: ev, done: now}
	}
	if !e.mayHaveSent(ctx, log, h) {
		// Another worker holds the delivery now (or may, once Redis
		// answers): sending it here would send it twice.
		e.claims.done(h)
		return nil
	}
	if ep.Development {
		return e.attemptListened(ctx, log, h, work, now) // no URL: see listen.go
	}
	if !e.limiter.acquire(ep.ID, endpointBusyWait) {
		// The endpoint is busy with as many attempts as it may have: come
		// back shortly instead of holding a worker.
		e.release(ctx, log, e.claims.done(h), now.Add(endpointBusyDelay))
		return nil
	}
	trigger := d.NextTrigger
	if trigger == "" {
		trigger = webhookd.TriggerInitial
	}
	res := e.cfg.Sender.Send(ctx, Request{
		URL:       ep.URL,
		Body:      Envelope(ev),
		Headers:   ep.Headers,
		MessageID: ev.ID,
		Timestamp: now,
		Secrets:   signingSecrets(ep, now),
	})
	// A cancelled attempt (shutdown) says nothing about the endpoint.
	e.limiter.release(ep.ID, !res.OK() && !res.Canceled)
	done := e.now()
	a := concludeAttempt(d, ev, e.cfg.IDs.New(webhookd.PrefixAttempt), trigger, now, done, res, e.cfg.Retry)
	if res.Gone {
		e.disableGone(ctx, log, ep, done)
	}
	return &outcome{held: h, log: log, attempt: a, delivery: d, event: ev, result: res, done: done}
}

// recordLoop writes outcomes until the channel closes. It takes whatever
// has queued up while the previous batch was being written, so under load
// one transaction records many attempts; when few are queued it waits a
// little for more (gatherOutcomes).
func (e *Engine) recordLoop(ctx context.Context) {
	batch := make([]*outcome, 0, maxRecordBatch)
	linger := time.NewTimer(recordLinger)
	linger.Stop()
	for o := range e.outcomes {
		batch = gatherOutcomes(append(batch[:0], o), e.outcomes, linger, recordLinger)
		e.recordBatch(ctx, batch)
	}
}

// When fewer than recordLingerBelow outcomes are queued, the recorder waits
// up to recordLinger for more before writing them. At a low rate every
// outcome otherwise had a statement (and on SQLite a transaction and its
// commit) of its own: recording was about a sixth of webhookd's CPU at 200
// events/s on PostgreSQL and two fifths on SQLite, against a twentieth in a
// burst, where one statement records dozens. Nothing waits on the record
// but the delivery's status and its claim (the worker is free once its
// request is done), so the wait costs no delivery latency.
const (
	recordLingerBelow = 16
	recordLinger      = 20 * time.Millisecond
)

// gatherOutcomes adds to batch what is queued on outcomes, up to
// maxRecordBatch, and while fewer than recordLingerBelow are at hand waits
// up to wait for more (on linger, a stopped timer).
func gatherOutcomes(batch []*outcome, outcomes <-chan *outcome, linger *time.Timer, wait time.Duration) []*outcome {
	for len(batch) < maxRecordBatch {
		select {
		case more, ok := <-outcomes:
			if !ok {
				return batch
			}
			batch = append(batch, more)
			continue
		default:
		}
		break
	}
	if len(batch) >= recordLingerBelow {
		return batch
	}
	linger.Reset(wait)
	defer linger.Stop()
	for len(batch) < recordLingerBelow {
		select {
		case more, ok := <-outcomes:
			if !ok {
				return batch
			}
			batch = append(batch, more)
		case <-linger.C:
			return batch
		}
	}
	return batch
}

// recordBatch stores outcomes, then brings the schedule in line with each.
func (e *Engine) recordBatch(ctx context.Context, batch []*outcome) {
	defer func() {
		for _, o := range batch {
			o.release()
		}
	}()
	records := make([]store.AttemptRecord, len(batch))
	for i, o := range batch {
		records[i] = store.AttemptRecord{Attempt: o.attempt, Delivery: o.delivery, AutoDisableAfter: e.cfg.AutoDisableAfter}
	}
	errs, err := e.recordAttempts(ctx, records)
	if err != nil {
		for _, o := range batch {
			e.claims.done(o.held) // their leases run out
		}
		e.cfg.Logger.WarnContext(ctx, "recording attempts failed; the deliveries come due again after their leases",
			"count", len(batch), "error", err)
		return
	}
	settlements := make([]Settlement, 0, len(batch))
	recorded := make([]string, 0, len(batch))
	for i, o := range batch {
		claim := e.claims.done(o.held)
		switch err := errs[i]; {
		case err == nil:
			recorded = append(recorded, o.delivery.ID)
		case webhookd.KindOf(err) == webhookd.KindConflict:
			// Another worker recorded this attempt first (its lease had run
			// out); the receiver got the event twice, which at-least-once
			// delivery allows and the event id lets it ignore.
			o.log.InfoContext(ctx, "attempt already recorded by another worker")
			recorded = append(recorded, o.delivery.ID)
			continue
		default:
			o.log.WarnContext(ctx, "recording attempt failed; the delivery comes due again after its lease", "error", err)
			continue
		}
		st := Settlement{Claim: claim} // finished …
		if o.delivery.Status == webhookd.DeliveryPending {
			st.Due = o.delivery.NextAttemptTime // … or due again
		}
		settlements = append(settlements, st)
		if o.attempt != nil {
			e.cfg.Metrics.attempt(o.attempt, o.result, o.event, o.done)
		}
	}
	// The attempts are in the database: waiters may read them now, before
	// the schedule round trip.
	e.watchers.recorded(recorded)
	if err := e.cfg.Schedule.Settle(ctx, settlements); err != nil {
		// The database is right; a finished delivery left in the schedule
		// is dropped when next claimed, a missing one is put back by the
		// reconciler.
		e.cfg.Logger.WarnContext(ctx, "updating the schedule after recording failed", "count", len(settlements), "error", err)
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

// disableGone disables an endpoint whose receiver answered 410 Gone: it
// said it will never accept events again. Only the disabled state is
// written: the copy of the endpoint the attempt was made with may be older
// than the stored one (a secret rotated or settings changed during the
// request), and writing it back would undo those changes.
func (e *Engine) disableGone(ctx context.Context, log *slog.Logger, ep *webhookd.Endpoint, now time.Time) {
	e.endpoints.forget(ep.ID)
	if _, err := e.cfg.Store.DisableEndpoint(ctx, "", ep.ID, "the endpoint answered 410 Gone", now); err != nil {
		log.WarnContext(ctx, "disabling endpoint after 410 Gone failed", "endpoint", ep.ID, "error", err)
		return
	}
	log.InfoContext(ctx, "disabled endpoint after 410 Gone", "endpoint", ep.ID)
}

// signingSecrets are the secrets a request is signed with: the current one,
// and the previous one while its rotation grace period lasts.
func signingSecrets(ep *webhookd.Endpoint, now time.Time) []string {
	secrets := []string{ep.Secret}
	if ep.PreviousSecret != "" && ep.PreviousSecretExpireTime.After(now) {
		secrets = append(secrets, ep.PreviousSecret)
	}
	return secrets
}

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
