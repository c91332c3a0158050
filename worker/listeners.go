package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/signature"
	"github.com/webhookd/webhookd/store"
)

// ListenersConfig configures NewListeners. Zero durations and sizes take the
// documented defaults.
type ListenersConfig struct {
	Store    AttemptStore
	Schedule *Schedule
	// Retry is the engine's retry policy: a failed forward is retried on
	// the same schedule as a failed request.
	Retry  RetryPolicy
	IDs    *webhookd.IDGenerator
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// AnswerTimeout is how long a listener has to report the result of a
	// request it was given (default 30s); past it the attempt is recorded
	// as failed.
	AnswerTimeout time.Duration
	// Lease is how long a delivery claimed from an endpoint's queue stays
	// invisible to other processes (default AnswerTimeout + 30s): a process
	// that dies holding one leaves it to another listener after it.
	Lease time.Duration
	// PollInterval is how often an endpoint's queue is polled when no
	// wake-up arrives (default 1s).
	PollInterval time.Duration
	// UserAgent is the User-Agent header of forwarded requests (default
	// webhookd's, as the Sender sends it).
	UserAgent string
	// MaxResponseBytes bounds the body excerpt kept of a listener's answer
	// (default 4 KiB, as the Sender's).
	MaxResponseBytes int
}

func (c *ListenersConfig) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AnswerTimeout == 0 {
		c.AnswerTimeout = 30 * time.Second
	}
	if c.Lease == 0 {
		c.Lease = c.AnswerTimeout + 30*time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = defaultUserAgent()
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
}

// Validate reports the first missing or inconsistent setting.
func (c *ListenersConfig) Validate() error {
	switch {
	case c.Store == nil || c.Schedule == nil || c.IDs == nil || c.Logger == nil:
		return errors.New("listeners: Store, Schedule, IDs and Logger are required")
	case c.AnswerTimeout < 0 || c.PollInterval < 0 || c.MaxResponseBytes < 0:
		return errors.New("listeners: AnswerTimeout, PollInterval and MaxResponseBytes must not be negative")
	case c.Lease <= c.AnswerTimeout+5*time.Second:
		return errors.New("listeners: Lease must exceed AnswerTimeout by at least 5s")
	}
	return c.Retry.Validate()
}

// Listeners is the api process's side of listening (see listen.go): it
// holds the listeners connected to this process, claims their endpoints'
// queued deliveries, hands each to one listener, and records the answers.
// It is safe for concurrent use; Attach works while Run runs.
type Listeners struct {
	cfg   ListenersConfig
	token string // this process, in presence sets

	mu        sync.Mutex
	ctx       context.Context // Run's; nil while not running
	endpoints map[string]*listenedEndpoint
	work      sync.WaitGroup // endpoint loops and forwards, which Run waits for
	serial    atomic.Uint64
}

// NewListeners returns listeners for cfg.
func NewListeners(cfg ListenersConfig) (*Listeners, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &Listeners{cfg: cfg, token: hex.EncodeToString(b[:]), endpoints: map[string]*listenedEndpoint{}}, nil
}

// Run serves listeners until ctx ends. Then every listener is ended (its
// Done closes, so that its stream returns and the gRPC server can stop),
// deliveries handed out and not answered yet go back to their queues, and
// Run returns once every answer received is recorded.
func (l *Listeners) Run(ctx context.Context) error {
	l.mu.Lock()
	l.ctx = ctx
	l.mu.Unlock()
	wake := l.cfg.Schedule.client.Subscribe(ctx, l.cfg.Schedule.listenWakeKey())
	defer wake.Close()
	msgs := wake.Channel()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case m, ok := <-msgs:
			if !ok {
				break loop
			}
			l.mu.Lock()
			if le := l.endpoints[m.Payload]; le != nil {
				le.poke()
			}
			l.mu.Unlock()
		}
	}
	<-ctx.Done()
	l.mu.Lock()
	for _, le := range l.endpoints {
		for ln := range le.listeners {
			ln.end()
		}
	}
	l.mu.Unlock()
	l.work.Wait()
	return nil
}

// listenedEndpoint is an endpoint with listeners in this process, and the
// loop that feeds them.
type listenedEndpoint struct {
	id        string
	member    string // this loop in the endpoint's presence set
	cancel    context.CancelFunc
	kick      chan struct{}
	listeners map[*Listener]bool // guarded by Listeners.mu; true while busy
}

func (le *listenedEndpoint) poke() {
	select {
	case le.kick <- struct{}{}:
	default:
	}
}

// Forward is one attempt handed to a listener: the request webhookd would
// have sent, signed as it would have been.
type Forward struct {
	AttemptID     string
	DeliveryID    string
	EventID       string
	EventType     string
	AttemptNumber int
	Headers       map[string]string
	Body          []byte
}

// Answer is a listener's report of one forwarded request: the local
// server's status (0 when none arrived), how long it took, the start of its
// body, or why no response arrived.
type Answer struct {
	StatusCode  int
	Duration    time.Duration
	BodyExcerpt string
	Error       string
}

// Listener is one connected listener of an endpoint, served by one stream.
type Listener struct {
	l        *Listeners
	le       *listenedEndpoint
	forwards chan *Forward
	done     chan struct{}
	endOnce  sync.Once

	mu      sync.Mutex
	waiting map[string]chan Answer // by attempt id
}

// Attach connects a listener to endpoint endpointID, which the caller has
// checked is a development endpoint the listener may receive. Close it when
// its stream ends.
func (l *Listeners) Attach(endpointID string) (*Listener, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx == nil || l.ctx.Err() != nil {
		return nil, webhookd.Unavailable("listening is not available: webhookd is starting or stopping", nil)
	}
	le := l.endpoints[endpointID]
	if le == nil {
		ctx, cancel := context.WithCancel(l.ctx)
		le = &listenedEndpoint{
			id:        endpointID,
			member:    l.token + "." + strconv.FormatUint(l.serial.Add(1), 10),
			cancel:    cancel,
			kick:      make(chan struct{}, 1),
			listeners: map[*Listener]bool{},
		}
		l.endpoints[endpointID] = le
		l.work.Add(1)
		go func() { defer l.work.Done(); l.runEndpoint(ctx, le) }()
	}
	ln := &Listener{l: l, le: le, forwards: make(chan *Forward, 1), done: make(chan struct{}), waiting: map[string]chan Answer{}}
	le.listeners[ln] = false
	le.poke()
	return ln, nil
}

// Forwards delivers the requests to forward, one at a time: the next comes
// once the previous one is answered.
func (ln *Listener) Forwards() <-chan *Forward { return ln.forwards }

// Done is closed when the listener ends: closed, or webhookd stopping.
func (ln *Listener) Done() <-chan struct{} { return ln.done }

// Answer reports the result of the forward with attemptID, and whether it
// was still awaited: an answer that comes after AnswerTimeout (the attempt
// was recorded as failed already), twice, or for an attempt this listener
// was never given, is dropped.
func (ln *Listener) Answer(attemptID string, a Answer) bool {
	ln.mu.Lock()
	ch := ln.waiting[attemptID]
	delete(ln.waiting, attemptID)
	ln.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- a // buffered, and sent at most once
	return true
}

// Close detaches the listener. A request it was given and has not answered
// goes back to the endpoint's queue for another listener.
func (ln *Listener) Close() {
	ln.end()
	l := ln.l
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(ln.le.listeners, ln)
	if len(ln.le.listeners) == 0 && l.endpoints[ln.le.id] == ln.le {
		delete(l.endpoints, ln.le.id)
		ln.le.cancel()
	}
}

func (ln *Listener) end() { ln.endOnce.Do(func() { close(ln.done) }) }

// runEndpoint keeps le's presence and feeds its idle listeners until ctx
// ends (its last listener left, or Run stopped).
func (l *Listeners) runEndpoint(ctx context.Context, le *listenedEndpoint) {
	s := l.cfg.Schedule
	presence := s.listenPresenceKey(le.id)
	renew := func() {
		now := l.cfg.Now()
		p := s.client.TxPipeline()
		p.ZRemRangeByScore(ctx, presence, "-inf", strconv.FormatInt(now.UnixMilli()-1, 10))
		p.ZAdd(ctx, presence, redis.Z{Score: float64(now.Add(listenPresenceTTL).UnixMilli()), Member: le.member})
		p.PExpire(ctx, presence, 2*listenPresenceTTL)
		if _, err := p.Exec(ctx); err != nil && ctx.Err() == nil {
			l.cfg.Logger.WarnContext(ctx, "renewing listener presence failed", "endpoint", le.id, "error", err)
		}
	}
	defer func() {
		// Leave at once rather than at the presence's expiry, so that the
		// engine stops routing to a queue no one here reads.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = s.client.ZRem(rctx, presence, le.member).Err()
	}()
	renew()
	poll := time.NewTicker(l.cfg.PollInterval)
	defer poll.Stop()
	renewal := time.NewTicker(listenPresenceTTL / 3)
	defer renewal.Stop()
	for {
		if started, idle := l.feed(ctx, le); started > 0 && started == idle {
			continue // more may be queued
		}
		select {
		case <-ctx.Done():
			return
		case <-le.kick:
		case <-poll.C:
		case <-renewal.C:
			renew()
		}
	}
}

// feed claims a queued delivery for each idle listener of le and forwards
// it. It returns how many it started, and how many listeners were idle.
func (l *Listeners) feed(ctx context.Context, le *listenedEndpoint) (started, idle int) {
	l.mu.Lock()
	var free []*Listener
	for ln, busy := range le.listeners {
		if !busy {
			le.listeners[ln] = true
			free = append(free, ln)
		}
	}
	l.mu.Unlock()
	if len(free) == 0 {
		return 0, 0
	}
	idleAgain := func(lns []*Listener) {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, ln := range lns {
			if _, ok := le.listeners[ln]; ok {
				le.listeners[ln] = false
			}
		}
	}
	s := l.cfg.Schedule
	queue := s.listenQueueKey(le.id)
	now := l.cfg.Now()
	leaseUntil := now.Add(l.cfg.Lease).Truncate(time.Millisecond)
	ids, err := claimScript.Run(ctx, s.client, []string{queue}, now.UnixMilli(), leaseUntil.UnixMilli(), len(free)).StringSlice()
	if err != nil || len(ids) == 0 {
		if err != nil && ctx.Err() == nil {
			l.cfg.Logger.WarnContext(ctx, "claiming a listened endpoint's deliveries failed", "endpoint", le.id, "error", err)
		}
		idleAgain(free)
		return 0, len(free)
	}
	// Recording and putting back outlive the listener and the endpoint's
	// loop; Run waits for them.
	workCtx := context.WithoutCancel(ctx)
	works, err := l.cfg.Store.LoadDeliveryWorks(workCtx, ids)
	if err != nil {
		l.cfg.Logger.WarnContext(ctx, "loading listened deliveries failed; they come due again after their leases", "endpoint", le.id, "error", err)
		idleAgain(free)
		return 0, len(free)
	}
	idleAgain(free[len(ids):])
	for i, id := range ids {
		ln, c := free[i], Claim{DeliveryID: id, Leased: true, LeaseUntil: leaseUntil}
		l.work.Add(1)
		go func() {
			defer l.work.Done()
			l.forward(workCtx, ln, c, works[id])
			idleAgain([]*Listener{ln})
			le.poke()
		}()
	}
	return len(ids), len(free)
}

// forward hands claim c of the endpoint's queue to ln and records the answer.
func (l *Listeners) forward(ctx context.Context, ln *Listener, c Claim, work *store.DeliveryWork) {
	s := l.cfg.Schedule
	queue := []string{s.listenQueueKey(ln.le.id)}
	log := l.cfg.Logger.With("delivery", c.DeliveryID, "endpoint", ln.le.id)
	leave := func() { // the schedule holds the delivery, or it needs nothing more
		if err := finishScript.Run(ctx, s.client, queue, c.DeliveryID, leaseMillis(c)).Err(); err != nil {
			log.WarnContext(ctx, "removing a delivery from the listened endpoint's queue failed", "error", err)
		}
	}
	now := l.cfg.Now().UTC()
	if work == nil {
		leave() // deleted with its endpoint
		return
	}
	d, ev, ep := work.Delivery, work.Event, work.Endpoint
	if d.Status != webhookd.DeliveryPending || d.NextAttemptTime.After(now) || !ep.Development || ep.Disabled {
		// Finished, or rescheduled since it was queued (then the schedule
		// holds it: it comes back when due), or its endpoint changed: the
		// engine's next claim decides.
		leave()
		return
	}
	body := Envelope(ev)
	fw := &Forward{
		AttemptID:     l.cfg.IDs.New(webhookd.PrefixAttempt),
		DeliveryID:    d.ID,
		EventID:       ev.ID,
		EventType:     ev.Type,
		AttemptNumber: d.AttemptCount + 1,
		Headers:       l.requestHeaders(ep, ev.ID, now, body),
		Body:          body,
	}
	answer, answered, timedOut := ln.exchange(fw, l.cfg.AnswerTimeout)
	if !answered && !timedOut {
		// The listener left before answering: another may take it now.
		// The local server may have had it; at-least-once allows that.
		if err := releaseScript.Run(ctx, s.client, queue, c.DeliveryID, leaseMillis(c), now.UnixMilli()).Err(); err != nil {
			log.WarnContext(ctx, "putting back an unanswered delivery failed; it comes due after its lease", "error", err)
		}
		l.pokeEndpoint(ln.le.id)
		return
	}
	res := l.result(answer)
	if timedOut {
		res = Result{Err: "no result from the listener within " + l.cfg.AnswerTimeout.String(), Duration: l.cfg.AnswerTimeout}
	}
	done := l.cfg.Now().UTC()
	// A listener's answer comes from a developer's local server: it neither
	// disables the endpoint after 410 Gone nor counts towards auto-disable.
	a, _ := concludeAttempt(d, ev, fw.AttemptID, nextTrigger(d), now, done, res, deliveryPolicy{Retry: l.cfg.Retry})
	errs, err := l.cfg.Store.RecordAttempts(ctx, []store.AttemptRecord{{Attempt: a, Delivery: d}})
	if err == nil {
		err = errs[0]
	}
	switch {
	case webhookd.KindOf(err) == webhookd.KindConflict:
		log.InfoContext(ctx, "attempt already recorded by another worker")
		leave()
		return
	case err != nil:
		log.WarnContext(ctx, "recording a listener's answer failed; the delivery comes due again after its lease", "error", err)
		return
	}
	if d.Status == webhookd.DeliveryPending {
		// The retry is the schedule's, like any other: its worker routes it
		// back here when due.
		if err := s.Settle(ctx, []Settlement{{Claim: Claim{DeliveryID: d.ID}, Due: d.NextAttemptTime}}); err != nil {
			log.WarnContext(ctx, "scheduling the retry failed; the reconciler will", "error", err)
		}
	}
	leave()
}

func (l *Listeners) pokeEndpoint(endpointID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if le := l.endpoints[endpointID]; le != nil {
		le.poke()
	}
}

// exchange gives fw to the listener and waits up to timeout for its answer.
// answered is false when the listener ended first; timedOut when it did not
// answer in time.
func (ln *Listener) exchange(fw *Forward, timeout time.Duration) (a Answer, answered, timedOut bool) {
	ch := make(chan Answer, 1)
	ln.mu.Lock()
	ln.waiting[fw.AttemptID] = ch
	ln.mu.Unlock()
	defer func() {
		ln.mu.Lock()
		delete(ln.waiting, fw.AttemptID)
		ln.mu.Unlock()
	}()
	select {
	case ln.forwards <- fw:
	case <-ln.done:
		return Answer{}, false, false
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-ch:
		return a, true, false
	case <-ln.done:
		return Answer{}, false, false
	case <-timer.C:
		return Answer{}, false, true
	}
}

// requestHeaders are the headers the Sender would send to ep: its custom
// headers, then webhookd's own and both signatures (Sender.send).
func (l *Listeners) requestHeaders(ep *webhookd.Endpoint, msgID string, ts time.Time, body []byte) map[string]string {
	h := http.Header{}
	// A header the sender would refuse is left out here: the local server
	// should still see the delivery, and the endpoint's own attempts name it.
	_ = setCustomHeaders(h, ep.Headers)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", l.cfg.UserAgent)
	signature.Sign(h, msgID, ts, body, signingSecrets(ep, ts))
	out := make(map[string]string, len(h))
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

// result reads a listener's answer as the Sender's Result: the same success
// rule (2xx) and the same words for a failure.
func (l *Listeners) result(a Answer) Result {
	res := Result{
		StatusCode:  a.StatusCode,
		Duration:    max(a.Duration, 0),
		BodyExcerpt: sanitize(a.BodyExcerpt, l.cfg.MaxResponseBytes),
	}
	switch code := a.StatusCode; {
	case a.Error != "":
		res.StatusCode, res.BodyExcerpt = 0, ""
		res.Err = sanitize(a.Error, maxLocationBytes)
	case code >= 200 && code <= 299:
	case code >= 300 && code <= 399:
		res.Err = "unexpected status " + strconv.Itoa(code) + " (redirects are not followed)"
	case code >= 100 && code <= 599:
		res.Err = "unexpected status " + strconv.Itoa(code)
		res.Gone = code == http.StatusGone
	default:
		res.Err = "the listener reported neither a status nor an error"
	}
	return res
}
