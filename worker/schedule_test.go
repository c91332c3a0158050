package worker_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/worker"
)

// TestSchedule runs the same cases on the embedded Redis-protocol server and
// on a real Redis, the two backends webhookd's schedule runs on.
func TestSchedule(t *testing.T) {
	t.Parallel()
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
			ctx := t.Context()
			base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			deliveries := []*webhookd.Delivery{
				{ID: "dlv_c", NextAttemptTime: base.Add(2 * time.Minute)},
				{ID: "dlv_a", NextAttemptTime: base},
				{ID: "dlv_b", NextAttemptTime: base.Add(time.Minute)},
			}
			if err := s.Add(ctx, deliveries); err != nil {
				t.Fatal(err)
			}
			// Adding a new delivery again neither moves nor duplicates it.
			if err := s.Add(ctx, []*webhookd.Delivery{{ID: "dlv_a", NextAttemptTime: base.Add(30 * time.Second)}}); err != nil {
				t.Fatal(err)
			}
			if n, err := s.Len(ctx); err != nil || n != 3 {
				t.Fatalf("Len = %d, %v; want 3", n, err)
			}
			due, err := s.Due(ctx, base.Add(90*time.Second).UnixMilli(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(due, []string{"dlv_a", "dlv_b"}) {
				t.Fatalf("due = %v, want [dlv_a dlv_b] (earliest first, not yet due excluded)", due)
			}
			if due, _ := s.Due(ctx, base.Add(time.Hour).UnixMilli(), 1); !slices.Equal(due, []string{"dlv_a"}) {
				t.Fatalf("limit 1 gave %v", due)
			}

			// Claims lease: a claimed id is not claimed again until its lease ends.
			now := base.Add(90 * time.Second)
			claims, err := s.Claim(ctx, now, now.Add(time.Minute), 10)
			if err != nil || len(claims) != 2 {
				t.Fatalf("Claim = %v, %v", claims, err)
			}
			// Within a shard claims come earliest first; across shards in
			// any order.
			slices.SortFunc(claims, func(a, b worker.Claim) int { return strings.Compare(a.DeliveryID, b.DeliveryID) })
			if claims[0].DeliveryID != "dlv_a" || claims[1].DeliveryID != "dlv_b" {
				t.Fatalf("Claim = %v, want dlv_a and dlv_b", claims)
			}
			if again, _ := s.Claim(ctx, now, now.Add(time.Minute), 10); len(again) != 0 {
				t.Fatalf("claimed leased ids again: %v", again)
			}
			expired, _ := s.Claim(ctx, now.Add(2*time.Minute), now.Add(3*time.Minute), 10)
			if !slices.ContainsFunc(expired, func(c worker.Claim) bool { return c.DeliveryID == "dlv_a" }) {
				t.Fatalf("after the lease ended, Claim = %v, want dlv_a among them", expired)
			}
			// dlv_a's first claim is stale now: finishing it must not remove
			// the entry that the second claim holds.
			if err := s.Finish(ctx, claims[0]); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.Len(ctx); n != 3 {
				t.Fatalf("a stale claim finished a re-claimed entry: Len = %d", n)
			}
			// Adding a new delivery does not break a lease (the
			// reconciler may have scheduled it and a worker claimed it) …
			if err := s.Add(ctx, []*webhookd.Delivery{{ID: "dlv_b", NextAttemptTime: now, NextTrigger: webhookd.TriggerInitial}}); err != nil {
				t.Fatal(err)
			}
			if due, _ := s.Due(ctx, now.UnixMilli(), 10); len(due) != 0 {
				t.Fatalf("a fresh dispatch broke a lease: due %v", due)
			}
			// … but a manual retry during a claim wins over the claim's release.
			if err := s.Add(ctx, []*webhookd.Delivery{{ID: "dlv_b", NextAttemptTime: now, NextTrigger: webhookd.TriggerManual}}); err != nil {
				t.Fatal(err)
			}
			if err := s.Release(ctx, claims[1], now.Add(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if due, _ := s.Due(ctx, now.UnixMilli(), 10); !slices.Equal(due, []string{"dlv_b"}) {
				t.Fatalf("due after a dispatch raced a release: %v", due)
			}
			// An unchanged claim releases and finishes normally.
			c, _ := s.Claim(ctx, now, now.Add(time.Minute), 1)
			if len(c) != 1 {
				t.Fatalf("Claim of the due dlv_b = %v", c)
			}
			if err := s.Release(ctx, c[0], now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if due, _ := s.Due(ctx, now.Add(59*time.Minute).UnixMilli(), 10); slices.Contains(due, "dlv_b") {
				t.Fatalf("released dlv_b is due too early: %v", due)
			}
			c, _ = s.Claim(ctx, now.Add(time.Hour), now.Add(time.Hour+time.Minute), 10)
			for _, cl := range c {
				if err := s.Finish(ctx, cl); err != nil {
					t.Fatal(err)
				}
			}
			if n, _ := s.Len(ctx); n != 0 {
				t.Fatalf("after finishing every fresh claim, Len = %d, want 0", n)
			}
		})
	}
}

// scheduleBackends are the Redis deployments the schedule runs on: the
// embedded server, a standalone Redis with one shard and with several, and
// a real three-node Redis Cluster whose shards land on different nodes.
var scheduleBackends = []struct {
	name    string
	url     func(t testing.TB) string
	prefix  func(t testing.TB) string
	cluster bool
	shards  int
}{
	{name: "embedded", url: func(testing.TB) string { return "" }, prefix: func(testing.TB) string { return "webhookd" }},
	{name: "redis", url: testenv.RedisURL, prefix: testenv.RedisKeyPrefix},
	{name: "redis_sharded", url: testenv.RedisURL, prefix: testenv.RedisKeyPrefix, shards: 5},
	{name: "cluster", url: func(t testing.TB) string { return testenv.RedisCluster(t, 3) }, prefix: testenv.RedisKeyPrefix, cluster: true, shards: 16},
}

// TestScheduleShards checks that a sharded schedule never claims more than
// asked, claims every due delivery exactly once, and serves every shard.
func TestScheduleShards(t *testing.T) {
	t.Parallel()
	for _, b := range scheduleBackends {
		if b.shards < 2 {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			r, err := worker.OpenRedis(ctx, worker.RedisConfig{URL: b.url(t), Cluster: b.cluster})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			s, err := worker.NewSchedule(r.Client, worker.ScheduleConfig{Prefix: b.prefix(t), Shards: b.shards})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			const total = 300
			var deliveries []*webhookd.Delivery
			for i := range total {
				deliveries = append(deliveries, &webhookd.Delivery{ID: fmt.Sprintf("dlv_%04d", i), NextAttemptTime: now.Add(-time.Duration(i) * time.Millisecond)})
			}
			// One not yet due, which no claim may take.
			deliveries = append(deliveries, &webhookd.Delivery{ID: "dlv_later", NextAttemptTime: now.Add(time.Hour)})
			if err := s.Add(ctx, deliveries); err != nil {
				t.Fatal(err)
			}
			if n, err := s.Len(ctx); err != nil || n != total+1 {
				t.Fatalf("Len = %d, %v; want %d", n, err, total+1)
			}
			if lag, err := s.Lag(ctx, now); err != nil || lag != time.Duration(total-1)*time.Millisecond {
				t.Fatalf("Lag = %v, %v; want the oldest due entry's wait, %v", lag, err, time.Duration(total-1)*time.Millisecond)
			}
			// A small first claim takes from as many shards as it may.
			first, err := s.Claim(ctx, now, now.Add(time.Minute), b.shards)
			if err != nil || len(first) != b.shards {
				t.Fatalf("Claim(%d) = %d claims, %v", b.shards, len(first), err)
			}
			if got := distinctShards(s, first); got < b.shards/2 {
				t.Errorf("a claim of %d came from %d shards only", b.shards, got)
			}
			seen := map[string]int{}
			for _, c := range first {
				seen[c.DeliveryID]++
			}
			for _, limit := range []int{1, 7, 1, 64, 3, 500} {
				claims, err := s.Claim(ctx, now, now.Add(time.Minute), limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(claims) > limit {
					t.Fatalf("Claim(%d) returned %d", limit, len(claims))
				}
				for _, c := range claims {
					seen[c.DeliveryID]++
				}
			}
			if len(seen) != total {
				t.Fatalf("claimed %d distinct deliveries, want every one of the %d due", len(seen), total)
			}
			for id, n := range seen {
				if n != 1 || id == "dlv_later" {
					t.Fatalf("%s claimed %d times", id, n)
				}
			}
			if due, err := s.Due(ctx, now.Add(2*time.Hour).UnixMilli(), total+5); err != nil || len(due) != total+1 || due[total] != "dlv_later" {
				t.Fatalf("Due = %d ids, %v; want every lease, then dlv_later last", len(due), err)
			}
		})
	}
}

// distinctShards counts the shards claims came from, by asking the schedule
// where each id lives through a claim-free route: its sorted set's name.
func distinctShards(s *worker.Schedule, claims []worker.Claim) int {
	shards := map[string]bool{}
	for _, c := range claims {
		shards[s.ShardOf(c.DeliveryID)] = true
	}
	return len(shards)
}

func TestOpenRedisRefusesBadURL(t *testing.T) {
	t.Parallel()
	_, err := worker.OpenRedis(t.Context(), worker.RedisConfig{URL: "mysql://nope"})
	if webhookd.KindOf(err) != webhookd.KindInvalid {
		t.Fatalf("err = %v, want an invalid redis-url", err)
	}
	_, err = worker.OpenRedis(t.Context(), worker.RedisConfig{URL: "redis://127.0.0.1:1/0"})
	if webhookd.KindOf(err) != webhookd.KindUnavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
}
