package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// This file limits how many API calls each account makes per second, so
// that one customer's runaway script cannot take the API (and the database
// behind it) from the others.
//
// The limit is a GCRA (generic cell rate algorithm): a token bucket stored
// as one number per account, the theoretical arrival time of the next call.
// With several webhookd processes the number lives in Redis and one Lua
// script reads and advances it, timed by Redis's own clock, so the limit
// holds for the installation, not per process. When Redis cannot answer the
// limiter falls back to the same algorithm in this process's memory (each
// process then allows the full rate), because the API — publishing above
// all — must keep working while Redis is down.
//
// Internal keys are not limited: they are the platform's own services, whose
// publishing rate is the service's load, not abuse, and which the platform
// sizes for; customer keys are.

// RateLimitConfig configures NewRateLimiter.
type RateLimitConfig struct {
	// Rate is the sustained number of calls per second each account may
	// make; zero disables the limit.
	Rate float64
	// Burst is how many calls an idle account may make at once; at least 1
	// when Rate is set.
	Burst int
	// Redis, when set, shares the limit between processes.
	Redis redis.Scripter
	// Prefix starts the Redis keys (--redis-prefix).
	Prefix string
	// Logger reports Redis failures (once per fallback period).
	Logger *slog.Logger
	// RedisTimeout bounds one Redis round trip; past it the call is
	// limited in process. Zero means 250 ms.
	RedisTimeout time.Duration
	// Now is the clock of the in-process limiter; time.Now when nil.
	Now func() time.Time
}

// Validate reports the first bad setting.
func (c *RateLimitConfig) Validate() error {
	switch {
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return errors.New("rate limit: Rate must be a non-negative number")
	case c.Rate > 0 && c.Burst < 1:
		return errors.New("rate limit: Burst must be at least 1")
	case c.Redis != nil && c.Prefix == "":
		return errors.New("rate limit: Prefix is required with Redis")
	case c.Logger == nil:
		return errors.New("rate limit: Logger is required")
	}
	return nil
}

// RateLimiter decides whether an account may make a call now. It is safe for
// concurrent use.
type RateLimiter struct {
	cfg       RateLimitConfig
	interval  time.Duration // between calls at the sustained rate
	tolerance time.Duration // how far ahead of now the bucket may run
	now       func() time.Time

	mu    sync.Mutex
	local map[string]time.Time // account → theoretical arrival time
	calls int
	// redisDownUntil skips Redis for a moment after it failed, so that an
	// outage costs one timeout per period, not one per call.
	redisDownUntil time.Time
}

// redisRetryAfter is how long the in-process limiter is used after a Redis
// failure before Redis is tried again.
const redisRetryAfter = time.Second

// NewRateLimiter returns a limiter, or nil (no limit) when cfg.Rate is zero.
func NewRateLimiter(cfg RateLimitConfig) (*RateLimiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Rate == 0 {
		return nil, nil
	}
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	if interval < time.Microsecond {
		interval = time.Microsecond // the Redis script counts in microseconds
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if cfg.RedisTimeout <= 0 {
		cfg.RedisTimeout = 250 * time.Millisecond
	}
	return &RateLimiter{
		cfg:       cfg,
		interval:  interval,
		tolerance: interval * time.Duration(cfg.Burst-1),
		now:       now,
		local:     map[string]time.Time{},
	}, nil
}

// gcraScript advances one account's theoretical arrival time (TAT, in
// microseconds of Redis's clock) and returns 0 when the call is allowed, or
// how many microseconds to wait. ARGV: interval, tolerance (µs).
var gcraScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return wait end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
return 0
`)

// Allow reports whether account may make a call now and, if not, how long
// it should wait.
func (l *RateLimiter) Allow(ctx context.Context, account string) (bool, time.Duration) {
	if l.cfg.Redis != nil && l.redisUp() {
		rctx, cancel := context.WithTimeout(ctx, l.cfg.RedisTimeout)
		wait, err := gcraScript.Run(rctx, l.cfg.Redis, []string{l.cfg.Prefix + ":ratelimit:" + account},
			l.interval.Microseconds(), l.tolerance.Microseconds()).Int64()
		cancel()
		if err == nil {
			return wait <= 0, time.Duration(wait) * time.Microsecond
		}
		if ctx.Err() != nil {
			return true, 0 // the caller left; let the call fail on its own
		}
		l.redisFailed(ctx, err)
	}
	return l.allowLocal(account)
}

func (l *RateLimiter) redisUp() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.now().Before(l.redisDownUntil)
}

func (l *RateLimiter) redisFailed(ctx context.Context, err error) {
	l.mu.Lock()
	l.redisDownUntil = l.now().Add(redisRetryAfter)
	l.mu.Unlock()
	l.cfg.Logger.WarnContext(ctx, "rate limiter: Redis failed; limiting in this process meanwhile", "error", err)
}

// allowLocal is the GCRA of the script, in this process's memory.
func (l *RateLimiter) allowLocal(account string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.calls++
	if l.calls%4096 == 0 {
		// Forget idle accounts: a TAT in the past means a full bucket,
		// the same as no entry.
		for a, tat := range l.local {
			if tat.Before(now) {
				delete(l.local, a)
			}
		}
	}
	tat, ok := l.local[account]
	if !ok || tat.Before(now) {
		tat = now
	}
	if wait := tat.Sub(now) - l.tolerance; wait > 0 {
		return false, wait
	}
	l.local[account] = tat.Add(l.interval)
	return true, 0
}

// check limits the caller of ctx, authenticated before: customer keys by
// their account, internal principals not at all.
func (l *RateLimiter) check(ctx context.Context) error {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	if p == nil || p.Internal {
		return nil
	}
	if ok, wait := l.Allow(ctx, p.AccountID); !ok {
		return rateLimited(l.cfg.Rate, wait)
	}
	return nil
}

// interceptors return the unary and stream interceptors that limit; they
// run after authentication.
func (l *RateLimiter) interceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := l.check(ctx); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := l.check(ss.Context()); err != nil {
			return err
		}
		return handler(srv, ss)
	}
	return unary, stream
}

// retryAfterSeconds is the Retry-After value for a wait: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(wait time.Duration) int {
	s := int(math.Ceil(wait.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// gatewayErrorHandler is the gateway's error handler: the default one, plus
// a Retry-After header (whole seconds) when the status says when to retry,
// as a rate-limited call's does, and the field violation of a request the
// gateway could not decode (gatewayDecodeError).
func gatewayErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	err = gatewayDecodeError(err)
	if st, ok := status.FromError(err); ok {
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(ri.GetRetryDelay().AsDuration())))
			}
		}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// rateLimitMessage is the message of a rate-limited call.
func rateLimitMessage(rate float64, wait time.Duration) string {
	return fmt.Sprintf("rate limit of %g calls per second for this account exceeded; retry in %s", rate, wait.Round(time.Millisecond))
}
