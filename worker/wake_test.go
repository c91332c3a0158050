package worker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/worker"
)

// TestScheduleClaimNext checks that a claim says when the earliest entry
// left is due, on every backend, and that an empty schedule says none.
func TestScheduleClaimNext(t *testing.T) {
	t.Parallel()
	for _, b := range scheduleBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r, err := worker.OpenRedis(t.Context(), worker.RedisConfig{URL: b.url(t), Cluster: b.cluster})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			s, err := worker.NewSchedule(r.Client, worker.ScheduleConfig{Prefix: b.prefix(t) + "next", Shards: b.shards})
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			if claims, next, err := s.ClaimNext(ctx, base, base.Add(time.Hour), 10); err != nil || len(claims) != 0 || !next.IsZero() {
				t.Fatalf("empty: ClaimNext = %v, %v, %v; want nothing, zero", claims, next, err)
			}
			var ds []*webhookd.Delivery
			for i := range 20 { // over every shard
				ds = append(ds, &webhookd.Delivery{ID: "dlv_next" + strings.Repeat("x", i), NextAttemptTime: base.Add(time.Duration(i+1) * time.Minute)})
			}
			if err := s.Add(ctx, ds); err != nil {
				t.Fatal(err)
			}
			if next, err := s.Next(ctx); err != nil || !next.Equal(base.Add(time.Minute)) {
				t.Fatalf("Next = %v, %v; want %v", next, err, base.Add(time.Minute))
			}
			now := base.Add(2 * time.Minute)
			claims, next, err := s.ClaimNext(ctx, now, now.Add(time.Hour), 10)
			if err != nil || len(claims) != 2 {
				t.Fatalf("ClaimNext = %d claims, %v; want 2", len(claims), err)
			}
			// The two claimed are leased for an hour; the third is next. A
			// claim that took from a shard in its second pass read that
			// shard before, and says so with a time already due.
			want := base.Add(3 * time.Minute)
			if !next.After(now) {
				if next, err = s.Next(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if !next.Equal(want) {
				t.Fatalf("next = %v, want %v", next, want)
			}
		})
	}
}

// TestScheduleAnnouncesSoonRetries checks that a delivery rescheduled by
// one process to be due within AnnounceWithin wakes the pollers of
// another, on every backend: two schedule clients share no memory, so only
// the pub/sub message can carry it.
func TestScheduleAnnouncesSoonRetries(t *testing.T) {
	t.Parallel()
	for _, b := range scheduleBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r, err := worker.OpenRedis(t.Context(), worker.RedisConfig{URL: b.url(t), Cluster: b.cluster})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			cfg := worker.ScheduleConfig{Prefix: b.prefix(t) + "announce", Shards: b.shards, AnnounceWithin: time.Hour}
			poller, err := worker.NewSchedule(r.Client, cfg)
			if err != nil {
				t.Fatal(err)
			}
			other, err := worker.NewSchedule(r.Client, cfg)
			if err != nil {
				t.Fatal(err)
			}
			wake := poller.Wakeups(t.Context())
			due := time.Now().Add(time.Minute)
			// The subscription is made in the background: settle again
			// until it is listening.
			deadline := time.Now().Add(10 * time.Second)
			for {
				if err := other.Settle(t.Context(), []worker.Settlement{{Claim: worker.Claim{DeliveryID: "dlv_soon"}, Due: due}}); err != nil {
					t.Fatal(err)
				}
				select {
				case <-wake:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatal("no wake-up after 10s of retries rescheduled to be due soon")
				}
			}
		})
	}
}

// TestEngineSleepsUntilEarliestDue checks that a delivery due shortly is
// attempted when it is due, not after the poll interval (an hour here): the
// engine sleeps until the earliest entry of the schedule.
func TestEngineSleepsUntilEarliestDue(t *testing.T) {
	t.Parallel()
	rig, d := wallClockRig(t)
	rig.run(context.Background())
	later := *d
	later.NextAttemptTime = time.Now().Add(300 * time.Millisecond)
	// The dispatch wakes the engine, which finds nothing due yet.
	if err := rig.schedule.Add(t.Context(), []*webhookd.Delivery{&later}); err != nil {
		t.Fatal(err)
	}
	rig.waitAttempts(t, d.ID, 1)
}

// TestEngineWokenByAnotherProcess checks that a retry another process
// reschedules to be due sooner than the engine's sleep (an hour: the
// schedule is empty) is attempted when due: the other process's schedule
// client shares no memory with the engine, so the wake-up comes by pub/sub.
func TestEngineWokenByAnotherProcess(t *testing.T) {
	t.Parallel()
	rig, d := wallClockRig(t)
	rig.run(context.Background())
	other, err := worker.NewSchedule(rig.redis.Client, worker.ScheduleConfig{Prefix: "test"})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(200 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Again until the engine's subscription listens (it is made in
		// the background); once added, the entry stays as it is.
		if err := other.Settle(t.Context(), []worker.Settlement{{Claim: worker.Claim{DeliveryID: d.ID}, Due: due}}); err != nil {
			t.Fatal(err)
		}
		got, err := rig.store.GetDelivery(t.Context(), "", d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.AttemptCount > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the retry was not attempted within 10s of being due")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEngineIdleDoesNotSpin checks that an engine whose schedule holds
// nothing due (an entry an hour away) does not claim in a loop: a few
// claim rounds in a second, where a spinning one makes thousands.
func TestEngineIdleDoesNotSpin(t *testing.T) {
	t.Parallel()
	rig := newEngineRig(t, func(c *worker.EngineConfig) { c.Now = time.Now; c.PollInterval = time.Hour })
	var rounds atomic.Int64
	rig.redis.Client.AddHook(claimCounter{&rounds})
	later := &webhookd.Delivery{ID: "dlv_later", NextAttemptTime: time.Now().Add(time.Hour)}
	if err := rig.schedule.Add(t.Context(), []*webhookd.Delivery{later}); err != nil {
		t.Fatal(err)
	}
	rig.run(context.Background())
	time.Sleep(time.Second)
	if n := rounds.Load(); n == 0 || n > 10 {
		t.Fatalf("%d claim rounds in a second of idling, want 1 to 10", n)
	}
}

// wallClockRig is an engine rig on the wall clock with a poll interval of
// an hour, and a delivery stored (not dispatched) to a receiver that
// accepts it.
func wallClockRig(t *testing.T) (*engineRig, *webhookd.Delivery) {
	t.Helper()
	rig := newEngineRig(t, func(c *worker.EngineConfig) { c.Now = time.Now; c.PollInterval = time.Hour })
	// Stored times on the wall clock too: the reconcile at start must not
	// find the delivery overdue and schedule it.
	rig.clock.Advance(time.Since(rig.clock.Now()))
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	rig.endpoint(t, srv.URL)
	ev := &webhookd.Event{ID: rig.ids.New(webhookd.PrefixEvent), AccountID: rig.account, Type: "property.created",
		Data: []byte(`{}`), CreateTime: time.Now()}
	_, ds, _, err := rig.store.PublishEvent(t.Context(), ev, rig.ids.New)
	if err != nil || len(ds) != 1 {
		t.Fatalf("PublishEvent = %d deliveries, %v", len(ds), err)
	}
	return rig, ds[0]
}

// claimCounter counts the pipelines that run the claim script.
type claimCounter struct{ n *atomic.Int64 }

func (claimCounter) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (claimCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (c claimCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if strings.HasPrefix(strings.ToLower(cmd.Name()), "evalsha") {
				c.n.Add(1)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// TestEngineRetriesAfterClaimingOnTime checks that retries due one after
// the other are all attempted with a poll interval of an hour: a claim made
// when the first is due takes it, and the engine must still wake for the
// second, whose wake-up came before.
func TestEngineRetriesAfterClaimingOnTime(t *testing.T) {
	t.Parallel()
	rig := newEngineRig(t, func(c *worker.EngineConfig) {
		c.Now, c.PollInterval = time.Now, time.Hour
		c.Retry = worker.RetryPolicy{Schedule: []time.Duration{300 * time.Millisecond}}
	})
	rig.clock.Advance(time.Since(rig.clock.Now()))
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if id := r.Header.Get("Webhook-Id"); !seen[id] {
			seen[id] = true
			w.WriteHeader(http.StatusInternalServerError) // the first attempt fails
		}
	}))
	t.Cleanup(srv.Close)
	rig.endpoint(t, srv.URL)
	rig.run(context.Background())
	first := rig.publish(t)
	time.Sleep(150 * time.Millisecond)
	rig.clock.Advance(time.Since(rig.clock.Now()))
	second := rig.publish(t)
	rig.waitAttempts(t, first.ID, 2)
	rig.waitAttempts(t, second.ID, 2)
}
