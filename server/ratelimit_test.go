package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/server"
)

// TestRateLimiter runs the limiter's algorithm on each place it can keep its
// state: a real Redis, the embedded Redis-protocol server, and this process's
// memory (no Redis, or a Redis that does not answer — the fallback that keeps
// the API up during an outage). Each allows a burst, then refuses with a wait
// of about one interval; accounts do not share a bucket.
func TestRateLimiter(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name  string
		redis func(t *testing.T) redis.Scripter
	}{
		{"redis", func(t *testing.T) redis.Scripter {
			opts, err := redis.ParseURL(testenv.RedisURL(t))
			if err != nil {
				t.Fatal(err)
			}
			c := redis.NewClient(opts)
			t.Cleanup(func() { _ = c.Close() })
			return c
		}},
		{"embedded", func(t *testing.T) redis.Scripter {
			m := miniredis.RunT(t)
			c := redis.NewClient(&redis.Options{Addr: m.Addr()})
			t.Cleanup(func() { _ = c.Close() })
			return c
		}},
		{"in-process", func(*testing.T) redis.Scripter { return nil }},
		{"redis down: in-process fallback", func(t *testing.T) redis.Scripter {
			c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
			t.Cleanup(func() { _ = c.Close() })
			return c
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rdb, prefix := tc.redis(t), testenv.RedisKeyPrefix(t)+"{rl}"
			// Generous for a loaded test machine, except where Redis is
			// down on purpose.
			redisTimeout := 10 * time.Second
			if tc.name == "redis down: in-process fallback" {
				redisTimeout = 0
			}
			l, err := server.NewRateLimiter(server.RateLimitConfig{
				Rate: 1, Burst: 3, Redis: rdb, Prefix: prefix, Logger: logger, RedisTimeout: redisTimeout,
			})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for i := range 3 {
				if ok, _ := l.Allow(t.Context(), "acct_a"); !ok {
					t.Fatalf("call %d of the burst refused", i+1)
				}
			}
			ok, wait := l.Allow(t.Context(), "acct_a")
			if ok || wait <= 0 || wait > time.Second {
				t.Fatalf("fourth call: allowed %v, wait %v; want refused with a wait of at most 1s", ok, wait)
			}
			if ok, _ := l.Allow(t.Context(), "acct_b"); !ok {
				t.Fatal("another account was refused: buckets are shared")
			}
			if c, ok := rdb.(*redis.Client); ok && tc.name != "redis down: in-process fallback" {
				// The state is in Redis, not in a silent fallback.
				if n, err := c.Exists(t.Context(), prefix+":ratelimit:acct_a").Result(); err != nil || n != 1 {
					t.Fatalf("no bucket in Redis: %d, %v", n, err)
				}
			}
			time.Sleep(wait + 20*time.Millisecond)
			if ok, w := l.Allow(t.Context(), "acct_a"); !ok {
				t.Fatalf("refused after waiting as told (wait %v)", w)
			}
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Fatalf("took %v: the limiter stalls", elapsed)
			}
		})
	}
}

// TestRateLimitSharedThroughRedis: two limiters (two webhookd processes) on
// one Redis draw from one bucket per account.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	t.Parallel()
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	prefix := testenv.RedisKeyPrefix(t) + "{rl}"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var limiters [2]*server.RateLimiter
	for i := range limiters {
		limiters[i], err = server.NewRateLimiter(server.RateLimitConfig{
			Rate: 0.1, Burst: 4, Redis: c, Prefix: prefix, Logger: logger, RedisTimeout: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if ok, _ := limiters[i%2].Allow(t.Context(), "acct_shared"); !ok {
			t.Fatalf("call %d refused", i+1)
		}
	}
	for i, l := range limiters {
		if ok, _ := l.Allow(t.Context(), "acct_shared"); ok {
			t.Fatalf("limiter %d allowed a fifth call: the bucket is per process", i)
		}
	}
}

// TestRateLimitOverTheAPI: over gRPC, a customer key past its burst gets
// RESOURCE_EXHAUSTED with a RetryInfo; over REST, 429 with Retry-After in
// whole seconds. Internal keys are not limited.
func TestRateLimitOverTheAPI(t *testing.T) {
	t.Parallel()
	// 0.5 calls/s: one every 2 s, so nothing refills during the test.
	a := startApp(t, "sqlite://"+filepath.Join(t.TempDir(), "webhookd.db"), "--rate-limit=0.5", "--rate-burst=3")
	cs := transports(t, a)
	for _, name := range []string{"grpc", "rest"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := cs[name]
			tn := c.newTenant(t)
			for i := range 3 {
				if _, err := c.ws.ListEventTypes(tn.ctx, &webhooksv1.ListEventTypesRequest{}); err != nil {
					t.Fatalf("call %d of the burst: %v", i+1, err)
				}
			}
			_, err := c.ws.ListEventTypes(tn.ctx, &webhooksv1.ListEventTypesRequest{})
			wantCode(t, err, codes.ResourceExhausted)
			var retry *errdetails.RetryInfo
			for _, d := range status.Convert(err).Details() {
				if ri, ok := d.(*errdetails.RetryInfo); ok {
					retry = ri
				}
			}
			if d := retry.GetRetryDelay().AsDuration(); retry == nil || d <= 0 || d > 2*time.Second {
				t.Fatalf("RetryInfo = %v; want a delay in (0, 2s]", retry)
			}
			// The admin (internal) key keeps working, many times over.
			for range 10 {
				if _, err := c.ws.ListEventTypes(adminCtx(t), &webhooksv1.ListEventTypesRequest{}); err != nil {
					t.Fatalf("internal key limited: %v", err)
				}
			}
		})
	}
	t.Run("rest Retry-After", func(t *testing.T) {
		t.Parallel()
		tn := cs["rest"].newTenant(t)
		token := bearerFrom(tn.ctx)
		var resp *http.Response
		for range 4 {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+a.HTTPAddr()+"/v1/eventTypes", nil)
			req.Header.Set("Authorization", token)
			var err error
			if resp, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("fourth call: HTTP %d, want 429", resp.StatusCode)
		}
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 2 {
			t.Fatalf("Retry-After = %q; want 1 or 2 (seconds)", resp.Header.Get("Retry-After"))
		}
	})
}
