package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/webhookd/webhookd"
)

// This file limits failed authentication per client address. A call
// without a valid key is refused, but refusing it costs a key lookup in the
// database (and, over REST, reading the body): a client sending bad keys
// as fast as it can would cost webhookd that much per call. Each address
// may fail Burst times at once and Rate times per second after that; past
// it, its calls are refused with RESOURCE_EXHAUSTED (HTTP 429, Retry-After)
// before any lookup, valid keys included, until its budget refills. Calls
// that authenticate are never counted.
//
// The budget lives in this process's memory: an address that spreads its
// failures over several processes gets each one's. Behind a proxy every
// client has the proxy's address, so the proxy's addresses must be listed
// in TrustedProxies for the client's own address (the last untrusted one
// in X-Forwarded-For) to be the one limited.

// AuthFailureConfig configures NewAuthFailureLimiter.
type AuthFailureConfig struct {
	// Rate is the sustained failed authentications per second one client
	// address may make; zero disables the limit.
	Rate float64
	// Burst is how many failures an address may make at once.
	Burst int
	// TrustedProxies are the address ranges of proxies whose
	// X-Forwarded-For (HTTP header or gRPC metadata) names the client.
	TrustedProxies []netip.Prefix
	// Registerer receives webhookd_auth_failures_total; nil keeps it
	// unregistered.
	Registerer prometheus.Registerer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Validate reports the first bad setting.
func (c *AuthFailureConfig) Validate() error {
	switch {
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return errors.New("auth failure limit: Rate must be a non-negative number")
	case c.Rate > 0 && c.Burst < 1:
		return errors.New("auth failure limit: Burst must be at least 1")
	}
	return nil
}

// AuthFailureLimiter counts failed authentications per client address. It
// is safe for concurrent use.
type AuthFailureLimiter struct {
	cfg       AuthFailureConfig
	interval  time.Duration // one failure's worth of budget
	tolerance time.Duration // how far ahead of now an address's budget may run
	now       func() time.Time
	failures  *prometheus.CounterVec

	mu      sync.Mutex
	tat     map[netip.Addr]time.Time // address → theoretical arrival time of its next failure
	inserts int
}

// maxTrackedAddresses bounds the memory the limiter takes: past it (after
// forgetting addresses whose budget is full again) new addresses go
// uncounted rather than growing the map without end.
const maxTrackedAddresses = 100_000

// NewAuthFailureLimiter returns a limiter, or nil (no limit) when cfg.Rate
// is zero.
func NewAuthFailureLimiter(cfg AuthFailureConfig) (*AuthFailureLimiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Rate == 0 {
		return nil, nil
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	l := &AuthFailureLimiter{
		cfg:       cfg,
		interval:  interval,
		tolerance: interval * time.Duration(cfg.Burst-1),
		now:       now,
		tat:       map[netip.Addr]time.Time{},
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_auth_failures_total",
			Help: "API calls without a valid key, by result: unauthenticated (refused after a key lookup) or limited (refused unlooked-up, the client address being over its failure budget).",
		}, []string{"result"}),
	}
	l.failures.WithLabelValues("unauthenticated")
	l.failures.WithLabelValues("limited")
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(l.failures); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// limited reports whether addr has used up its failure budget and, if so,
// how long until it may fail again.
func (l *AuthFailureLimiter) limited(addr netip.Addr) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, ok := l.tat[addr]
	if !ok {
		return false, 0
	}
	if wait := tat.Sub(l.now()) - l.tolerance; wait > 0 {
		l.failures.WithLabelValues("limited").Inc()
		return true, wait
	}
	return false, 0
}

// failed spends one failure of addr's budget.
func (l *AuthFailureLimiter) failed(addr netip.Addr) {
	l.failures.WithLabelValues("unauthenticated").Inc()
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	tat, ok := l.tat[addr]
	if !ok {
		l.inserts++
		if l.inserts%4096 == 0 || len(l.tat) >= maxTrackedAddresses {
			l.forgetRefilled(now)
		}
		if len(l.tat) >= maxTrackedAddresses {
			return
		}
	}
	if !ok || tat.Before(now) {
		tat = now
	}
	l.tat[addr] = tat.Add(l.interval)
}

// forgetRefilled drops addresses whose budget is full again: a TAT in the
// past is the same as no entry.
func (l *AuthFailureLimiter) forgetRefilled(now time.Time) {
	for a, tat := range l.tat {
		if tat.Before(now) {
			delete(l.tat, a)
		}
	}
}

// authFailuresExceeded is the status of a call refused for its address's
// failures.
func authFailuresExceeded(wait time.Duration) error {
	st := status.New(codes.ResourceExhausted, fmt.Sprintf(
		"too many calls without a valid API key from this address; retry in %s", wait.Round(time.Millisecond)))
	if withDetails, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		st = withDetails
	}
	return st.Err()
}

// clientAddr is the address a call is counted against: the peer's, or,
// when the peer is a trusted proxy, the last address in forwardedFor
// (X-Forwarded-For values, oldest first) that is not a trusted proxy.
// IPv6 addresses count by their /64, which one client usually holds whole.
func (l *AuthFailureLimiter) clientAddr(remote netip.Addr, forwardedFor []string) netip.Addr {
	addr := remote.Unmap()
	if l.trusted(addr) {
		var hops []string
		for _, v := range forwardedFor {
			hops = append(hops, strings.Split(v, ",")...)
		}
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a mangled header names no one: count the proxy
			}
			addr = hop.Unmap()
			if !l.trusted(addr) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		addr = p.Addr()
	}
	return addr
}

func (l *AuthFailureLimiter) trusted(a netip.Addr) bool {
	for _, p := range l.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// httpMiddleware refuses REST calls from addresses over their budget
// before anything else runs, and counts the calls answered 401.
func (l *AuthFailureLimiter) httpMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		addr := l.clientAddr(ap.Addr(), r.Header.Values("X-Forwarded-For"))
		if limited, wait := l.limited(addr); limited {
			// The body stays unread: close rather than drain it.
			w.Header().Set("Connection", "close")
			writeStatus(w, authFailuresExceeded(wait))
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusUnauthorized {
			l.failed(addr)
		}
	})
}

// interceptors count gRPC calls by their peer's address, except the
// gateway's (calledInProcess): those were counted by httpMiddleware against
// the REST client's address. They run after error mapping and before
// authentication.
func (l *AuthFailureLimiter) interceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	client := func(ctx context.Context, method string) (netip.Addr, bool) {
		if !strings.HasPrefix(method, apiPrefix) || calledInProcess(ctx) {
			return netip.Addr{}, false // health and reflection need no key
		}
		md, _ := metadata.FromIncomingContext(ctx)
		p, ok := peer.FromContext(ctx)
		if !ok {
			return netip.Addr{}, false
		}
		tcp, ok := p.Addr.(*net.TCPAddr)
		if !ok {
			return netip.Addr{}, false
		}
		return l.clientAddr(tcp.AddrPort().Addr(), md.Get("x-forwarded-for")), true
	}
	check := func(ctx context.Context, method string, call func() error) error {
		addr, ok := client(ctx, method)
		if !ok {
			return call()
		}
		if limited, wait := l.limited(addr); limited {
			return authFailuresExceeded(wait)
		}
		err := call()
		if webhookd.KindOf(err) == webhookd.KindUnauthenticated {
			l.failed(addr)
		}
		return err
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		err = check(ctx, info.FullMethod, func() error {
			resp, err = handler(ctx, req)
			return err
		})
		return resp, err
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return check(ss.Context(), info.FullMethod, func() error { return handler(srv, ss) })
	}
	return unary, stream
}
