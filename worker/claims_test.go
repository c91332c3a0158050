package worker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/worker"
)

// pausingStore is a real store that stops the engine at one point of an
// attempt until the test lets it go on: after it loaded the claimed
// deliveries (a worker starved between its read and its request), or
// before it records an attempt (a slow database). Only the first such call
// pauses. This is the slowness of a loaded machine, put exactly where it
// does harm instead of waited for.
type pausingStore struct {
	worker.DeliveryStore
	afterLoad, beforeRecord bool
	paused                  chan struct{} // closed once the call is paused
	resume                  chan struct{} // closed by release
	once, released          sync.Once
}

// newPausingStore wraps st. Tests release it in a cleanup registered after
// the rig's, which therefore runs before the rig stops: a failed test does
// not hang waiting for the paused call.
func newPausingStore(st worker.DeliveryStore) *pausingStore {
	return &pausingStore{DeliveryStore: st, paused: make(chan struct{}), resume: make(chan struct{})}
}

// release lets the paused call go on.
func (s *pausingStore) release() { s.released.Do(func() { close(s.resume) }) }

func (s *pausingStore) pause() {
	s.once.Do(func() {
		close(s.paused)
		<-s.resume
	})
}

func (s *pausingStore) LoadDeliveryWorks(ctx context.Context, ids []string) (map[string]*store.DeliveryWork, error) {
	works, err := s.DeliveryStore.LoadDeliveryWorks(ctx, ids)
	if s.afterLoad {
		s.pause()
	}
	return works, err
}

func (s *pausingStore) RecordAttempts(ctx context.Context, records []store.AttemptRecord) ([]error, error) {
	if s.beforeRecord {
		s.pause()
	}
	return s.DeliveryStore.RecordAttempts(ctx, records)
}

func (s *pausingStore) waitPaused(t *testing.T) {
	t.Helper()
	select {
	case <-s.paused:
	case <-time.After(10 * time.Second):
		t.Fatal("the engine never reached the pause")
	}
}

// testLease is the lease of these tests: long enough that the renewal loop,
// which runs on a real ticker, never fires unless a test asks for it.
const testLease = time.Hour

// countingReceiver answers 200 and counts the requests.
func countingReceiver(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestStaleClaimIsNotSent pauses a worker between loading a claimed
// delivery and sending it until its lease has run out, lets a second worker
// claim, send and record the delivery meanwhile, and then lets the first go
// on. It must notice that its claim is stale and not send: the receiver
// gets the event once. Before the engine checked its claim, the paused
// worker sent the pending copy it had read, a duplicate.
func TestStaleClaimIsNotSent(t *testing.T) {
	t.Parallel()
	var paused *pausingStore
	rig := newEngineRig(t, func(c *worker.EngineConfig) {
		paused = newPausingStore(c.Store)
		paused.afterLoad = true
		c.Store, c.Lease = paused, testLease
	})
	t.Cleanup(paused.release)
	srv, hits := countingReceiver(t)
	rig.endpoint(t, srv.URL)
	d := rig.publish(t)
	rig.run(t.Context())
	paused.waitPaused(t) // the first worker holds the claim and a pending copy

	rig.clock.Advance(testLease + time.Millisecond)
	cfg := rig.cfg
	cfg.Store = rig.store
	second, err := worker.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stopSecond := context.WithCancel(t.Context())
	secondDone := make(chan struct{})
	go func() { _ = second.Run(ctx); close(secondDone) }()
	if got := rig.waitAttempts(t, d.ID, 1); got.Status != webhookd.DeliverySucceeded {
		t.Fatalf("after the second worker: status %s", got.Status)
	}
	stopSecond()
	<-secondDone

	paused.release()
	rig.stop() // returns once the first worker's attempt is over
	if n := hits.Load(); n != 1 {
		t.Fatalf("receiver got the event %d times, want 1: the worker whose lease ran out sent it again", n)
	}
	if got := rig.waitAttempts(t, d.ID, 1); got.Status != webhookd.DeliverySucceeded {
		t.Fatalf("status %s", got.Status)
	}
}

// TestSlowAttemptKeepsItsLease holds an attempt's record back (a slow
// database) while the clock passes the end of its lease, and checks that
// the engine renewed the lease meanwhile: another worker claiming then gets
// nothing, where before it got the delivery and sent it again. A hand-off,
// which the schedule does not hold, is made a scheduled claim, so that the
// reconciler leaves it alone too. Once recorded, the delivery leaves the
// schedule: the settling uses the renewed lease.
func TestSlowAttemptKeepsItsLease(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handOff bool
	}{
		{"claimed from the schedule", false},
		{"handed off", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var paused *pausingStore
			rig := newEngineRig(t, func(c *worker.EngineConfig) {
				paused = newPausingStore(c.Store)
				paused.beforeRecord = true
				c.Store, c.Lease = paused, testLease
				c.RenewInterval = 10 * time.Millisecond // the loop runs; the fake clock says when a lease is old
			})
			t.Cleanup(paused.release)
			srv, hits := countingReceiver(t)
			rig.endpoint(t, srv.URL)
			rig.run(t.Context())
			var d *webhookd.Delivery
			if tc.handOff {
				d = rig.handOff(t)[0]
			} else {
				d = rig.publish(t)
			}
			paused.waitPaused(t) // sent, not recorded
			if n := hits.Load(); n != 1 {
				t.Fatalf("%d requests before the record, want 1", n)
			}
			start := rig.clock.Now()
			rig.clock.Advance(testLease/2 + time.Second)
			// Renewed: no longer due when the first lease would have ended.
			waitFor(t, "the lease to be renewed", func() bool {
				due, err := rig.schedule.Due(t.Context(), start.Add(testLease+time.Second).UnixMilli(), 10)
				if err != nil {
					t.Fatal(err)
				}
				return !slices.Contains(due, d.ID) && scheduleLen(t, rig.schedule) == 1
			})
			rig.clock.Advance(testLease/2 + time.Second) // past the first lease
			rig.engine.Reconcile(t.Context())            // any process's reconciler
			now := rig.clock.Now()
			claims, err := rig.schedule.Claim(t.Context(), now, now.Add(testLease), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(claims) != 0 {
				t.Fatalf("another worker claimed %v while the attempt was still being recorded", claims)
			}

			paused.release()
			if got := rig.waitAttempts(t, d.ID, 1); got.Status != webhookd.DeliverySucceeded {
				t.Fatalf("status %s", got.Status)
			}
			waitFor(t, "the delivery to leave the schedule", func() bool { return scheduleLen(t, rig.schedule) == 0 })
			rig.stop()
			if n := hits.Load(); n != 1 {
				t.Fatalf("receiver got the event %d times, want 1", n)
			}
		})
	}
}

// TestScheduleRenew checks which claims Renew extends, on every schedule
// backend. Before a request (not sent) only a claim provably still held
// counts; after it, keeping other workers off matters more, so a vanished
// entry is added back and a due, unclaimed one taken over.
func TestScheduleRenew(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lease := base.Add(time.Minute)
	tests := []struct {
		name string
		// setup leaves the schedule as the case needs and returns the
		// claim to renew.
		setup    func(t *testing.T, s *worker.Schedule, id string) worker.Claim
		sent     bool
		wantHeld bool
	}{
		{"the claim's own lease, run out but claimed by no one since", claimed(base, lease), false, true},
		{"claimed by another worker since", claimedAgain(base, lease), false, false},
		{"claimed by another worker since, sent", claimedAgain(base, lease), true, false},
		{"finished by another worker (no entry)", finishedByAnother(base, lease), false, false},
		{"vanished (a Redis node restarted empty), sent", finishedByAnother(base, lease), true, true},
		{"a hand-off, no entry", handOff(nil), false, true},
		{"a hand-off the reconciler scheduled", handOff(&base), false, false},
		{"a hand-off the reconciler scheduled, sent", handOff(&base), true, true},
	}
	for _, b := range scheduleBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r, err := worker.OpenRedis(t.Context(), worker.RedisConfig{URL: b.url(t), Cluster: b.cluster})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			s, err := worker.NewSchedule(r.Client, worker.ScheduleConfig{Prefix: b.prefix(t), Shards: b.shards})
			if err != nil {
				t.Fatal(err)
			}
			for i, tc := range tests {
				id := fmt.Sprintf("dlv_renew%d", i)
				c := tc.setup(t, s, id)
				now := lease.Add(time.Second) // every lease here has run out
				until := now.Add(time.Minute)
				err := s.Renew(t.Context(), now, until, []worker.Renewal{{Claim: c, Sent: tc.sent}})[0]
				if err != nil && !errors.Is(err, worker.ErrClaimLost) {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if held := err == nil; held != tc.wantHeld {
					t.Fatalf("%s: held %v, want %v", tc.name, held, tc.wantHeld)
				}
				// A renewed claim holds the entry until the new lease; what
				// is not renewed is left as it was.
				claims, err := s.Claim(t.Context(), now, until, 100)
				if err != nil {
					t.Fatal(err)
				}
				if got := slices.ContainsFunc(claims, func(c worker.Claim) bool { return c.DeliveryID == id }); got && tc.wantHeld {
					t.Fatalf("%s: claimable after its renewal", tc.name)
				}
				for _, c := range claims { // leave nothing due for the next case
					if err := s.Finish(t.Context(), c); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// claimed schedules id due at due and claims it until lease.
func claimed(due, lease time.Time) func(*testing.T, *worker.Schedule, string) worker.Claim {
	return func(t *testing.T, s *worker.Schedule, id string) worker.Claim {
		t.Helper()
		if err := s.Add(t.Context(), []*webhookd.Delivery{{ID: id, NextAttemptTime: due}}); err != nil {
			t.Fatal(err)
		}
		claims, err := s.Claim(t.Context(), due, lease, 1)
		if err != nil || len(claims) != 1 || claims[0].DeliveryID != id {
			t.Fatalf("Claim = %v, %v", claims, err)
		}
		return claims[0]
	}
}

// claimedAgain is claimed, after which another worker claims id once the
// lease ran out.
func claimedAgain(due, lease time.Time) func(*testing.T, *worker.Schedule, string) worker.Claim {
	return func(t *testing.T, s *worker.Schedule, id string) worker.Claim {
		t.Helper()
		c := claimed(due, lease)(t, s, id)
		again, err := s.Claim(t.Context(), lease, lease.Add(time.Hour), 1)
		if err != nil || len(again) != 1 {
			t.Fatalf("second Claim = %v, %v", again, err)
		}
		return c
	}
}

// finishedByAnother is claimedAgain, after which the other worker finishes.
func finishedByAnother(due, lease time.Time) func(*testing.T, *worker.Schedule, string) worker.Claim {
	return func(t *testing.T, s *worker.Schedule, id string) worker.Claim {
		t.Helper()
		c := claimed(due, lease)(t, s, id)
		again, err := s.Claim(t.Context(), lease, lease.Add(time.Hour), 1)
		if err != nil || len(again) != 1 {
			t.Fatalf("second Claim = %v, %v", again, err)
		}
		if err := s.Finish(t.Context(), again[0]); err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// handOff is a claim never scheduled; with reconciled set, the reconciler
// has put the delivery in the schedule, due then.
func handOff(reconciled *time.Time) func(*testing.T, *worker.Schedule, string) worker.Claim {
	return func(t *testing.T, s *worker.Schedule, id string) worker.Claim {
		t.Helper()
		if reconciled != nil {
			if _, err := s.AddMissing(t.Context(), []*webhookd.Delivery{{ID: id, NextAttemptTime: *reconciled}}); err != nil {
				t.Fatal(err)
			}
		}
		return worker.Claim{DeliveryID: id}
	}
}

// failingRecords is a real store whose RecordAttempts fails, as during a
// database outage, for outage from its first call.
type failingRecords struct {
	worker.DeliveryStore
	outage time.Duration
	mu     sync.Mutex
	first  time.Time
	failed int
}

func (s *failingRecords) RecordAttempts(ctx context.Context, records []store.AttemptRecord) ([]error, error) {
	s.mu.Lock()
	if s.first.IsZero() {
		s.first = time.Now()
	}
	down := time.Since(s.first) < s.outage
	if down {
		s.failed++
	}
	s.mu.Unlock()
	if down {
		return nil, webhookd.Unavailable("database unavailable: cannot connect to it; retry shortly", errors.New("connection refused"))
	}
	return s.DeliveryStore.RecordAttempts(ctx, records)
}

// TestAttemptIsRecordedAfterAnOutage sends an attempt just before the
// database goes away for 2.5 s and checks that it is recorded once the
// database answers again, rather than given up and sent again once its
// lease runs out. The recorder used to retry for a quarter of a lease
// (1.5 s here); now it retries for a lease (6 s), and its backoff has it
// call again by 3.9 s.
func TestAttemptIsRecordedAfterAnOutage(t *testing.T) {
	t.Parallel()
	var failing *failingRecords
	rig := startEngineWith(t, func(c *worker.EngineConfig) {
		failing = &failingRecords{DeliveryStore: c.Store, outage: 2500 * time.Millisecond}
		c.Store = failing
	})
	srv, hits := countingReceiver(t)
	rig.endpoint(t, srv.URL)
	d := rig.publish(t)
	if got := rig.waitAttempts(t, d.ID, 1); got.Status != webhookd.DeliverySucceeded {
		t.Fatalf("status %s", got.Status)
	}
	failing.mu.Lock()
	failed := failing.failed
	failing.mu.Unlock()
	if failed == 0 {
		t.Fatal("no record failed: the outage never happened")
	}
	rig.stop()
	if n := hits.Load(); n != 1 {
		t.Fatalf("receiver got the event %d times, want 1", n)
	}
}
