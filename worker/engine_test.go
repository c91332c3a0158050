package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/worker"
)

// fakeClock is the engine's clock in these tests: retry schedules of hours
// pass by moving it, not by waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// engineRig is one engine on SQLite and the embedded schedule, with an
// account ready to receive endpoints.
type engineRig struct {
	store    store.Store
	schedule *worker.Schedule
	redis    *worker.Redis // the schedule's, for another process's schedule client
	clock    *fakeClock
	ids      *webhookd.IDGenerator
	account  string
	engine   *worker.Engine
	cfg      worker.EngineConfig // the engine's, for another engine on the same store and schedule
	stop     func()              // stops the engine and waits for Run to return; idempotent
	seen     *engineSeen         // what the rig's engines reported through their test hooks
}

// engineSeen is what an engine reported through its test hooks: the
// observable events a check that something did not happen waits for.
type engineSeen struct {
	mu         sync.Mutex
	lastClaim  time.Time // the latest clock time a claim from the schedule was made at
	claimed    int       // deliveries claimed from the schedule so far
	reconciles int       // complete reconcile passes so far
	reconciled int64     // deliveries those passes put back into the schedule
}

func (s *engineSeen) claim(now time.Time, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.After(s.lastClaim) {
		s.lastClaim = now
	}
	s.claimed += n
}

func (s *engineSeen) reconcile(added int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reconciles++
	s.reconciled += added
}

// claims returns the latest time a claim ended for and the deliveries
// claimed so far.
func (s *engineSeen) claims() (last time.Time, claimed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastClaim, s.claimed
}

// reconcilePasses returns the complete reconcile passes so far and how many
// deliveries they put back.
func (s *engineSeen) reconcilePasses() (passes int, added int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconciles, s.reconciled
}

// waitClaimAt waits until a claim the engine made at clock time at or later
// has ended: one that began after the clock moved to at.
func (r *engineRig) waitClaimAt(t *testing.T, at time.Time) {
	t.Helper()
	waitFor(t, "a claim at "+at.Format(time.RFC3339), func() bool {
		last, _ := r.seen.claims()
		return !last.Before(at)
	})
}

// scheduledAt reports whether the schedule holds delivery id due at ms
// (Unix milliseconds) exactly.
func scheduledAt(t *testing.T, s *worker.Schedule, id string, ms int64) bool {
	t.Helper()
	due, err := s.Due(t.Context(), ms, 100)
	if err != nil {
		t.Fatal(err)
	}
	early, err := s.Due(t.Context(), ms-1, 100)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(due, id) && !slices.Contains(early, id)
}

const rigTimeout = 300 * time.Millisecond

func startEngine(t *testing.T) *engineRig { return startEngineReconciling(t, time.Hour) }

// startEngineReconciling starts an engine whose reconciler runs every interval.
func startEngineReconciling(t *testing.T, reconcileInterval time.Duration) *engineRig {
	t.Helper()
	return startEngineWith(t, func(c *worker.EngineConfig) { c.ReconcileInterval = reconcileInterval })
}

// openEmbedded opens what an engine test runs on: a SQLite store in a
// temporary directory, holding the built-in event types, and an embedded
// Redis-protocol server. Both close when t ends.
func openEmbedded(t *testing.T) (store.Store, *worker.Redis) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "webhookd.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.SaveEventTypes(ctx, webhookd.BuiltinEventTypes()); err != nil {
		t.Fatal(err)
	}
	r, err := worker.OpenRedis(ctx, worker.RedisConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return st, r
}

// startEngineWith starts an engine whose configuration configure adjusts.
func startEngineWith(t *testing.T, configure func(*worker.EngineConfig)) *engineRig {
	t.Helper()
	rig := newEngineRig(t, configure)
	rig.run(context.Background())
	return rig
}

// run starts the rig's engine until ctx ends or rig.stop is called.
func (r *engineRig) run(ctx context.Context) {
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = r.engine.Run(runCtx); close(done) }()
	r.stop = func() { cancel(); <-done }
}

// newEngineRig is startEngineWith without starting the engine. The rig
// stops the engine when t ends, if it was started.
func newEngineRig(t *testing.T, configure func(*worker.EngineConfig)) *engineRig {
	t.Helper()
	ctx := t.Context()
	st, r := openEmbedded(t)
	schedule, err := worker.NewSchedule(r.Client, worker.ScheduleConfig{Prefix: "test"})
	if err != nil {
		t.Fatal(err)
	}
	sender, err := worker.NewSender(worker.SenderConfig{
		Timeout:    rigTimeout,
		AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	rig := &engineRig{store: st, schedule: schedule, redis: r, clock: clock, ids: webhookd.NewIDGenerator(clock.Now), seen: &engineSeen{}}
	cfg := worker.EngineConfig{
		Store: st, Schedule: schedule, Sender: sender, Retry: worker.DefaultRetryPolicy(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), IDs: rig.ids, Now: clock.Now,
		Workers: 8, PerEndpoint: 8, Lease: 6 * time.Second,
		PollInterval: 10 * time.Millisecond, ReconcileInterval: time.Hour,
	}
	worker.SetEngineHooks(&cfg, rig.seen.claim, rig.seen.reconcile)
	configure(&cfg)
	engine, err := worker.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rig.engine, rig.cfg, rig.stop = engine, cfg, func() {}
	t.Cleanup(func() { rig.stop() })

	acct := &webhookd.Account{ID: rig.ids.New(webhookd.PrefixAccount), DisplayName: "engine test", CreateTime: clock.Now(), UpdateTime: clock.Now()}
	if err := st.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	rig.account = acct.ID
	return rig
}

func (r *engineRig) endpoint(t *testing.T, url string) *webhookd.Endpoint {
	t.Helper()
	ep := &webhookd.Endpoint{
		ID: r.ids.New(webhookd.PrefixEndpoint), AccountID: r.account, URL: url,
		EventTypes: []string{"property.created"}, Secret: webhookd.NewEndpointSecret(),
		CreateTime: r.clock.Now(), UpdateTime: r.clock.Now(),
	}
	if err := r.store.CreateEndpoint(t.Context(), ep, 0); err != nil {
		t.Fatal(err)
	}
	return ep
}

// publish stores an event and dispatches its deliveries, as the API does.
func (r *engineRig) publish(t *testing.T) *webhookd.Delivery {
	t.Helper()
	ev := &webhookd.Event{ID: r.ids.New(webhookd.PrefixEvent), AccountID: r.account, Type: "property.created",
		Data: []byte(`{"property":{"id":"prop_123456","price":750000}}`), CreateTime: r.clock.Now()}
	_, ds, _, err := r.store.PublishEvent(t.Context(), ev, r.ids.New)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	if err := r.schedule.Add(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	return ds[0]
}

// waitAttempts waits until the delivery has n attempts and returns it.
func (r *engineRig) waitAttempts(t *testing.T, id string, n int) *webhookd.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := r.store.GetDelivery(t.Context(), "", id)
		if err != nil {
			t.Fatal(err)
		}
		if d.AttemptCount >= n {
			if d.AttemptCount > n {
				t.Fatalf("%d attempts, want %d", d.AttemptCount, n)
			}
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery has %d attempts after 10s, want %d (status %s, last error %q)", d.AttemptCount, n, d.Status, d.LastError)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRetrySchedule follows a delivery to an endpoint that always fails
// through the guide's whole schedule: retries 5m, 30m, 2h, 5h and 10h after
// the previous attempt, then failed.
func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	rig := startEngine(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "database down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	rig.endpoint(t, srv.URL)
	d := rig.publish(t)

	want := []time.Duration{5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}
	for i := 0; i <= len(want); i++ {
		got := rig.waitAttempts(t, d.ID, i+1)
		a := got.Attempts[i]
		if a.Error != "unexpected status 500" || a.ResponseStatus != 500 || !strings.Contains(a.ResponseBody, "database down") {
			t.Fatalf("attempt %d: error %q status %d body %q", i+1, a.Error, a.ResponseStatus, a.ResponseBody)
		}
		wantTrigger := webhookd.TriggerRetry
		if i == 0 {
			wantTrigger = webhookd.TriggerInitial
		}
		if a.Trigger != wantTrigger || a.Number != i+1 {
			t.Fatalf("attempt %d: number %d trigger %s", i+1, a.Number, a.Trigger)
		}
		if i == len(want) {
			if got.Status != webhookd.DeliveryFailed || !got.NextAttemptTime.IsZero() {
				t.Fatalf("after the last retry: status %s next %v", got.Status, got.NextAttemptTime)
			}
			break
		}
		if got.Status != webhookd.DeliveryPending || !got.NextAttemptTime.Equal(rig.clock.Now().Add(want[i])) {
			t.Fatalf("after attempt %d: status %s, next attempt %v, want now+%v", i+1, got.Status, got.NextAttemptTime, want[i])
		}
		// Nothing happens before the retry is due: once the schedule holds
		// it at its time, a claim made a second before it claims nothing
		// and no request goes out.
		waitFor(t, "the retry to be scheduled", func() bool {
			return scheduledAt(t, rig.schedule, d.ID, got.NextAttemptTime.UnixMilli())
		})
		_, claimedBefore := rig.seen.claims()
		rig.clock.Advance(want[i] - time.Second)
		rig.waitClaimAt(t, rig.clock.Now())
		if _, claimed := rig.seen.claims(); claimed != claimedBefore {
			t.Fatalf("%d deliveries claimed a second before the retry was due, want none", claimed-claimedBefore)
		}
		if n := int(hits.Load()); n != i+1 {
			t.Fatalf("%d requests before the retry was due, want %d", n, i+1)
		}
		// … and the retry goes out once it is.
		rig.clock.Advance(time.Second)
	}
	if n := hits.Load(); n != 6 {
		t.Fatalf("receiver got %d requests, want 6", n)
	}
}

// TestFailures checks how each kind of failed attempt is recorded and what
// comes next.
func TestFailures(t *testing.T) {
	t.Parallel()
	redirectTarget := atomic.Int32{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { redirectTarget.Add(1) }))
	defer target.Close()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + refused.Addr().String() + "/hook"
	_ = refused.Close()

	tests := []struct {
		name      string
		handler   http.HandlerFunc
		url       string
		wantErr   string
		wantNext  time.Duration // 0: no further attempt
		wantState webhookd.DeliveryStatus
		check     func(t *testing.T, rig *engineRig, ep *webhookd.Endpoint)
	}{
		{name: "2xx succeeds", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) },
			wantState: webhookd.DeliverySucceeded},
		{name: "500", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) },
			wantErr: "unexpected status 500", wantNext: 5 * time.Minute, wantState: webhookd.DeliveryPending},
		{name: "hangs past the timeout", handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, wantErr: "timeout after 300ms", wantNext: 5 * time.Minute, wantState: webhookd.DeliveryPending},
		{name: "connection refused", url: refusedURL,
			wantErr: "connection refused", wantNext: 5 * time.Minute, wantState: webhookd.DeliveryPending},
		{name: "redirect is not followed", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
		}, wantErr: "not followed", wantNext: 5 * time.Minute, wantState: webhookd.DeliveryPending,
			check: func(t *testing.T, _ *engineRig, _ *webhookd.Endpoint) {
				if n := redirectTarget.Load(); n != 0 {
					t.Fatalf("the redirect target got %d requests", n)
				}
			}},
		{name: "429 with Retry-After", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "600")
			w.WriteHeader(http.StatusTooManyRequests)
		}, wantErr: "unexpected status 429", wantNext: 10 * time.Minute, wantState: webhookd.DeliveryPending},
		{name: "410 disables the endpoint", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) },
			wantErr: "unexpected status 410", wantState: webhookd.DeliveryFailed,
			check: func(t *testing.T, rig *engineRig, ep *webhookd.Endpoint) {
				got, err := rig.store.GetEndpoint(t.Context(), "", ep.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Disabled || !strings.Contains(got.DisabledReason, "410") {
					t.Fatalf("endpoint disabled=%v reason %q", got.Disabled, got.DisabledReason)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := startEngine(t)
			url := tc.url
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				defer srv.Close()
				url = srv.URL + "/hook"
			}
			ep := rig.endpoint(t, url)
			d := rig.waitAttempts(t, rig.publish(t).ID, 1)
			a := d.Attempts[0]
			if tc.wantErr == "" && a.Error != "" || !strings.Contains(a.Error, tc.wantErr) {
				t.Fatalf("attempt error %q, want %q", a.Error, tc.wantErr)
			}
			if d.Status != tc.wantState || d.LastError != a.Error {
				t.Fatalf("status %s last error %q", d.Status, d.LastError)
			}
			if tc.wantNext == 0 && !d.NextAttemptTime.IsZero() {
				t.Fatalf("next attempt %v, want none", d.NextAttemptTime)
			}
			if tc.wantNext != 0 && !d.NextAttemptTime.Equal(rig.clock.Now().Add(tc.wantNext)) {
				t.Fatalf("next attempt %v, want now+%v", d.NextAttemptTime, tc.wantNext)
			}
			if tc.check != nil {
				tc.check(t, rig, ep)
			}
		})
	}
}

// TestGoneKeepsConcurrentChanges checks that disabling an endpoint after a
// 410 Gone changes only its state: a secret rotation and an edit made
// while the request was in flight survive it.
func TestGoneKeepsConcurrentChanges(t *testing.T) {
	t.Parallel()
	rig := startEngine(t)
	arrived, answer := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(arrived)
		<-answer
		w.WriteHeader(http.StatusGone)
	}))
	defer srv.Close()
	ep := rig.endpoint(t, srv.URL+"/hook")
	d := rig.publish(t)
	<-arrived
	rotated, err := rig.store.RotateEndpointSecret(t.Context(), "", ep.ID, webhookd.NewEndpointSecret(), rig.clock.Now(), rig.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	edited := *rotated
	edited.Description = "edited during the request"
	if err := rig.store.UpdateEndpoint(t.Context(), "", &edited); err != nil {
		t.Fatal(err)
	}
	close(answer)
	rig.waitAttempts(t, d.ID, 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := rig.store.GetEndpoint(t.Context(), "", ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Disabled {
			if !strings.Contains(got.DisabledReason, "410") || got.Secret != rotated.Secret || got.PreviousSecret != ep.Secret ||
				got.Description != edited.Description {
				t.Fatalf("after the 410: reason %q, secret %q (previous %q), description %q; want the 410, the rotated secret %q (previous %q), %q",
					got.DisabledReason, got.Secret, got.PreviousSecret, got.Description, rotated.Secret, ep.Secret, edited.Description)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("endpoint still enabled 10s after answering 410 Gone")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDisabledEndpointIsNotAttempted checks that a delivery due for a
// disabled endpoint fails without a request, and RecoverEndpoint-style
// rescheduling sends it once the endpoint is enabled again.
func TestDisabledEndpointIsNotAttempted(t *testing.T) {
	t.Parallel()
	rig := startEngine(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	ep := rig.endpoint(t, srv.URL)
	// Published while the endpoint was enabled, but not yet dispatched.
	ev := &webhookd.Event{ID: rig.ids.New(webhookd.PrefixEvent), AccountID: rig.account, Type: "property.created", Data: []byte(`{}`), CreateTime: rig.clock.Now()}
	_, ds, _, err := rig.store.PublishEvent(t.Context(), ev, rig.ids.New)
	if err != nil || len(ds) != 1 {
		t.Fatalf("publish: %v, %d deliveries", err, len(ds))
	}
	d := ds[0]
	if _, err := rig.store.DisableEndpoint(t.Context(), "", ep.ID, "maintenance", rig.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := rig.schedule.Add(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := rig.store.GetDelivery(t.Context(), "", d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == webhookd.DeliveryFailed {
			if got.AttemptCount != 0 || !strings.Contains(got.LastError, "endpoint disabled: maintenance") {
				t.Fatalf("failed delivery: %d attempts, last error %q", got.AttemptCount, got.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery still %s", got.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if hits.Load() != 0 {
		t.Fatal("a disabled endpoint got a request")
	}
	if _, err := rig.store.EnableEndpoint(t.Context(), "", ep.ID, rig.clock.Now()); err != nil {
		t.Fatal(err)
	}
	recovered, err := rig.store.RecoverEndpoint(t.Context(), "", ep.ID, rig.clock.Now().Add(-time.Hour), rig.clock.Now())
	if err != nil || len(recovered) != 1 {
		t.Fatalf("recover: %v, %d deliveries", err, len(recovered))
	}
	if err := rig.schedule.Add(t.Context(), recovered); err != nil {
		t.Fatal(err)
	}
	got := rig.waitAttempts(t, d.ID, 1)
	if got.Status != webhookd.DeliverySucceeded || got.Attempts[0].Trigger != webhookd.TriggerManual || hits.Load() != 1 {
		t.Fatalf("after recovery: status %s trigger %s hits %d", got.Status, got.Attempts[0].Trigger, hits.Load())
	}
}

// TestReconcileRestoresLostSchedule stores deliveries the schedule never
// hears of (a crash between commit and dispatch, a flushed Redis) and checks
// the reconciler puts them back once they are overdue by a lease, so they
// are delivered all the same, and not before: until then they may be
// hand-offs being attempted.
func TestReconcileRestoresLostSchedule(t *testing.T) {
	t.Parallel()
	rig := startEngineReconciling(t, 50*time.Millisecond)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	rig.endpoint(t, srv.URL)
	var ids []string
	for range 5 {
		ev := &webhookd.Event{ID: rig.ids.New(webhookd.PrefixEvent), AccountID: rig.account, Type: "property.created", Data: []byte(`{}`), CreateTime: rig.clock.Now()}
		_, ds, _, err := rig.store.PublishEvent(t.Context(), ev, rig.ids.New)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ds[0].ID) // never dispatched
	}
	// The second pass from now began after the first ended, so after the
	// deliveries were stored: it looked at them, and left them alone.
	passes, _ := rig.seen.reconcilePasses()
	waitFor(t, "two reconcile passes", func() bool {
		p, _ := rig.seen.reconcilePasses()
		return p >= passes+2
	})
	if _, added := rig.seen.reconcilePasses(); added != 0 {
		t.Fatalf("the reconciler put back %d deliveries due for less than a lease, want 0", added)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("receiver got %d requests for deliveries due for less than a lease, want 0", n)
	}
	rig.clock.Advance(6*time.Second + time.Millisecond) // the rig's lease
	for _, id := range ids {
		if got := rig.waitAttempts(t, id, 1); got.Status != webhookd.DeliverySucceeded {
			t.Fatalf("%s: status %s", id, got.Status)
		}
	}
	if n := hits.Load(); n != 5 {
		t.Fatalf("receiver got %d requests, want 5", n)
	}
}

// TestReconcileAtStartWithPrivateSchedule checks that an engine whose
// schedule is its own (the embedded Redis, empty at every start) puts back
// every due delivery when it starts, without waiting for them to be overdue
// by a lease: no other process can be attempting them.
func TestReconcileAtStartWithPrivateSchedule(t *testing.T) {
	t.Parallel()
	rig := newEngineRig(t, func(c *worker.EngineConfig) { c.PrivateSchedule = true })
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	rig.endpoint(t, srv.URL)
	ev := &webhookd.Event{ID: rig.ids.New(webhookd.PrefixEvent), AccountID: rig.account, Type: "property.created", Data: []byte(`{}`), CreateTime: rig.clock.Now()}
	_, ds, _, err := rig.store.PublishEvent(t.Context(), ev, rig.ids.New)
	if err != nil {
		t.Fatal(err)
	}
	rig.run(t.Context()) // the clock does not move: the delivery is due, not overdue
	if d := rig.waitAttempts(t, ds[0].ID, 1); d.Status != webhookd.DeliverySucceeded || hits.Load() != 1 {
		t.Fatalf("status %s after %d requests, want SUCCEEDED after 1", d.Status, hits.Load())
	}
}
