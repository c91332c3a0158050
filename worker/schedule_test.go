package worker_test

import (
	"slices"
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
	backends := []struct {
		name   string
		url    func(t *testing.T) string
		prefix func(t *testing.T) string
	}{
		{"embedded", func(*testing.T) string { return "" }, func(*testing.T) string { return "webhookd" }},
		{"redis", func(t *testing.T) string { return testenv.RedisURL(t) }, func(t *testing.T) string { return testenv.RedisKeyPrefix(t) }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r, err := worker.OpenRedis(t.Context(), worker.RedisConfig{URL: b.url(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			s, err := worker.NewSchedule(r.Client, b.prefix(t))
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
			if err := s.Dispatch(ctx, deliveries); err != nil {
				t.Fatal(err)
			}
			// Dispatching a new delivery again neither moves nor duplicates it.
			if err := s.Dispatch(ctx, []*webhookd.Delivery{{ID: "dlv_a", NextAttemptTime: base.Add(30 * time.Second)}}); err != nil {
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
			if err != nil || len(claims) != 2 || claims[0].DeliveryID != "dlv_a" || claims[1].DeliveryID != "dlv_b" {
				t.Fatalf("Claim = %v, %v", claims, err)
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
			// Dispatching a new delivery does not break a lease (the
			// reconciler may have scheduled it and a worker claimed it) …
			if err := s.Dispatch(ctx, []*webhookd.Delivery{{ID: "dlv_b", NextAttemptTime: now, NextTrigger: webhookd.TriggerInitial}}); err != nil {
				t.Fatal(err)
			}
			if due, _ := s.Due(ctx, now.UnixMilli(), 10); len(due) != 0 {
				t.Fatalf("a fresh dispatch broke a lease: due %v", due)
			}
			// … but a manual retry during a claim wins over the claim's release.
			if err := s.Dispatch(ctx, []*webhookd.Delivery{{ID: "dlv_b", NextAttemptTime: now, NextTrigger: webhookd.TriggerManual}}); err != nil {
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
