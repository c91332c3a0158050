package webhookd

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// RetryPolicy says which failed calls the client makes again, and when.
//
// Two failures are retried:
//
//   - RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail: webhookd's rate
//     limit, which refused the call before doing anything and says when to
//     come back. The client waits exactly that long. RESOURCE_EXHAUSTED
//     without RetryInfo (a message over the size limit) is not retried: it
//     would fail again.
//   - UNAVAILABLE (webhookd unreachable, restarting, or its database or Redis
//     down), with exponential backoff and jitter, for calls that are safe to
//     repeat: reads (Get…, List…) and PublishEvent, which always carries an
//     idempotency key. Other writes are not retried on UNAVAILABLE: webhookd
//     may have applied them before the connection failed.
//
// A wait that would pass the call's deadline is not started: the call fails
// at once with the last error.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts of one call, the first included
	// (1: no retries).
	MaxAttempts int
	// InitialBackoff is the wait before the first retry after UNAVAILABLE;
	// each further wait is Multiplier times longer, up to MaxBackoff. Each
	// wait is drawn at random between half and all of that (jitter), so that
	// clients failing together do not retry together.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Multiplier     float64
}

// DefaultRetryPolicy is the policy of a client made without
// [WithRetryPolicy]: 5 attempts, backoff from 100 ms doubling up to 5 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, Multiplier: 2}
}

// Validate reports a policy that cannot work, naming the field.
func (p RetryPolicy) Validate() error {
	switch {
	case p.MaxAttempts < 1:
		return fmt.Errorf("webhookd: RetryPolicy.MaxAttempts is %d: want at least 1", p.MaxAttempts)
	case p.MaxAttempts == 1:
		return nil // the backoff fields are unused
	case p.InitialBackoff <= 0:
		return fmt.Errorf("webhookd: RetryPolicy.InitialBackoff is %v: want more than 0", p.InitialBackoff)
	case p.MaxBackoff < p.InitialBackoff:
		return fmt.Errorf("webhookd: RetryPolicy.MaxBackoff (%v) is less than InitialBackoff (%v)", p.MaxBackoff, p.InitialBackoff)
	case p.Multiplier < 1:
		return fmt.Errorf("webhookd: RetryPolicy.Multiplier is %v: want at least 1", p.Multiplier)
	}
	return nil
}

// backoff is the wait before retry number retry (1 for the first) after
// UNAVAILABLE, before jitter.
func (p RetryPolicy) backoff(retry int) time.Duration {
	d := float64(p.InitialBackoff)
	for range retry - 1 {
		d *= p.Multiplier
		if d >= float64(p.MaxBackoff) {
			return p.MaxBackoff
		}
	}
	return time.Duration(d)
}

// RetryEvent describes a retry about to happen, for [WithRetryHook].
type RetryEvent struct {
	Method  string        // the full gRPC method, "/webhooks.v1.WebhookService/PublishEvent"
	Attempt int           // the attempt that failed (1 for the first)
	Err     *Error        // its failure
	Delay   time.Duration // the wait before the next attempt
}

// retrier is the client's unary interceptor: it gives publishes their
// idempotency key, retries what RetryPolicy allows, and turns failures into
// *Error.
type retrier struct {
	policy  RetryPolicy
	onRetry func(RetryEvent)
	newKey  func() string
}

const publishMethod = webhooksv1.WebhookService_PublishEvent_FullMethodName

func (r retrier) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if p, ok := req.(*webhooksv1.PublishEventRequest); ok && p.GetIdempotencyKey() == "" {
		// A copy, so that a caller who reuses its request for the next
		// event does not publish it under this event's key.
		p = proto.CloneOf(p)
		p.IdempotencyKey = r.newKey()
		req = p
	}
	for attempt := 1; ; attempt++ {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil {
			return nil
		}
		e := toError(err)
		delay, ok := r.retryDelay(method, e, attempt)
		if !ok || attempt >= r.policy.MaxAttempts {
			return e
		}
		if deadline, has := ctx.Deadline(); has && time.Until(deadline) < delay {
			return e
		}
		if r.onRetry != nil {
			r.onRetry(RetryEvent{Method: method, Attempt: attempt, Err: e, Delay: delay})
		}
		if err := sleepContext(ctx, delay); err != nil {
			return e
		}
	}
}

// retryDelay is how long to wait before retrying after attempt failed with
// e, and whether to retry at all.
func (r retrier) retryDelay(method string, e *Error, attempt int) (time.Duration, bool) {
	switch e.Code() {
	case codes.ResourceExhausted:
		return e.RetryDelay()
	case codes.Unavailable:
		if !safeToRepeat(method) {
			return 0, false
		}
		d := r.policy.backoff(attempt)
		return d/2 + rand.N(d/2+1), true
	}
	return 0, false
}

// safeToRepeat reports whether a call may be made again after UNAVAILABLE,
// when webhookd may or may not have received it.
func safeToRepeat(method string) bool {
	if method == publishMethod {
		return true // always sent with an idempotency key
	}
	name := method[strings.LastIndexByte(method, '/')+1:]
	return strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List")
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newIdempotencyKey is a key no other publish has: 128 random bits.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = cryptorand.Read(b[:]) // crypto/rand.Read never fails
	return "webhookd-go-" + hex.EncodeToString(b[:])
}

// retryInfoDelay is the delay of a status's RetryInfo detail.
func retryInfoDelay(st *status.Status) (time.Duration, bool) {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			delay := ri.GetRetryDelay().AsDuration()
			if delay < 0 {
				delay = 0
			}
			return delay, true
		}
	}
	return 0, false
}
