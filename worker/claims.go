package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// A claim's lease is how long other workers keep off its delivery, and the
// engine's guard against sending a delivery twice. On a starved machine an
// attempt can outlast it: the claim waits for the database, the request
// for the CPU, the outcome for the recorder. Once the lease runs out,
// another worker claims the delivery, reads it still pending, and sends it
// again. Hand-offs have the same weakness through the reconciler, which
// schedules a pending delivery once it is overdue by a lease.
//
// So the engine follows every claim it works on (heldClaim), from the claim
// to the recording of its outcome, and:
//
//   - renews, every RenewInterval, the leases of those that have used half
//     of theirs, and turns hand-offs waiting longer than a quarter of a
//     lease into scheduled claims, so that a slow attempt keeps its
//     delivery (renewLeases);
//   - checks, before a request goes out on a claim that old, that the claim
//     is still held, and drops the attempt if it is not: a worker that was
//     paused past its lease never sends what another worker has claimed
//     since (mayHaveSent).
//
// What it cannot prevent is a process dying between the receiver's answer
// and the record: that delivery is sent again, as at-least-once delivery
// allows.

// heldClaim is one claim the engine works on. Its claim changes when the
// lease is renewed; the settling of the attempt uses the latest.
type heldClaim struct {
	// renewing is held while the claim's lease is being renewed, so that
	// two renewals (the loop's and the one before the request) do not race,
	// the loser finding the lease changed and taking the claim for lost.
	renewing sync.Mutex
	mu       sync.Mutex
	claim    Claim
	due      time.Time // when the delivery was due: the reconciler counts from it
	sent     bool      // the request may have gone out
	lost     bool      // a renewal found the claim held by no one, or by another
}

func (h *heldClaim) current() Claim {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.claim
}

// heldClaims is the set of claims an engine works on.
type heldClaims struct {
	mu sync.Mutex
	m  map[*heldClaim]struct{}
}

// add starts following claim c of a delivery due at due.
func (s *heldClaims) add(c Claim, due time.Time) *heldClaim {
	h := &heldClaim{claim: c, due: due}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[*heldClaim]struct{})
	}
	s.m[h] = struct{}{}
	return h
}

// done stops following h, so that no renewal changes its lease any more,
// and returns its claim as it now is, to settle the attempt with.
func (s *heldClaims) done(h *heldClaim) Claim {
	h.renewing.Lock() // a renewal under way ends first: its lease is the one to settle
	defer h.renewing.Unlock()
	s.mu.Lock()
	delete(s.m, h)
	s.mu.Unlock()
	return h.current()
}

// len is how many claims are followed.
func (s *heldClaims) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// needsRenewal says whether claim c of a delivery due at due should be
// renewed at now: a lease with less than half of it left, or a hand-off
// due for more than a quarter of a lease (the reconciler takes it over at a
// whole lease).
func (e *Engine) needsRenewal(c Claim, due, now time.Time) bool {
	if !c.Leased { // a hand-off
		return now.Sub(due) > e.cfg.Lease/4
	}
	return c.LeaseUntil.Sub(now) < e.cfg.Lease/2
}

// mayHaveSent is called just before the request of an attempt on h goes
// out, and reports whether it may. A claim that needs renewal is renewed
// first, and refused if it is no longer held; if Redis does not answer, the
// request goes out only while the lease (or, for a hand-off, the
// reconciler's wait) still has a request timeout to run.
func (e *Engine) mayHaveSent(ctx context.Context, log *slog.Logger, h *heldClaim) bool {
	h.renewing.Lock()
	defer h.renewing.Unlock()
	now := e.now()
	h.mu.Lock()
	c, due, lost := h.claim, h.due, h.lost
	if !lost && !e.needsRenewal(c, due, now) {
		h.sent = true
	}
	sent := h.sent
	h.mu.Unlock()
	if lost {
		log.InfoContext(ctx, "lease ran out before the attempt; left to the worker that holds the delivery now")
		return false
	}
	if sent {
		return true
	}
	leaseUntil := now.Add(e.cfg.Lease)
	err := e.cfg.Schedule.Renew(ctx, now, leaseUntil, []Renewal{{Claim: c}})[0]
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.claim.Leased, h.claim.LeaseUntil, h.sent = true, leaseUntil.Truncate(time.Millisecond), true
		return true
	case errors.Is(err, ErrClaimLost):
		h.lost = true
		log.InfoContext(ctx, "lease ran out before the attempt and the delivery was claimed again; not sent")
		return false
	}
	// Redis did not answer, so no other worker can claim from it either;
	// but once the lease (or the reconciler's wait) may end during the
	// request, another might once it answers again.
	left := c.LeaseUntil.Sub(now)
	if !c.Leased {
		left = due.Add(e.cfg.Lease).Sub(now)
	}
	if left > e.cfg.Sender.Timeout() {
		h.sent = true
		return true
	}
	log.WarnContext(ctx, "cannot renew the lease of a claim about to run out; it comes due again after it", "error", err)
	return false
}

// renewLeases renews the claims that need it (see needsRenewal), in one
// round trip. A claim found lost is marked so: if its request has not gone
// out, it will not.
func (e *Engine) renewLeases(ctx context.Context) {
	now := e.now()
	var (
		held     []*heldClaim
		renewals []Renewal
	)
	e.claims.mu.Lock()
	for h := range e.claims.m {
		if !h.renewing.TryLock() {
			continue // being renewed before its request
		}
		h.mu.Lock()
		if !h.lost && e.needsRenewal(h.claim, h.due, now) {
			held = append(held, h)
			renewals = append(renewals, Renewal{Claim: h.claim, Sent: h.sent})
		} else {
			h.renewing.Unlock()
		}
		h.mu.Unlock()
	}
	e.claims.mu.Unlock()
	defer func() {
		for _, h := range held {
			h.renewing.Unlock()
		}
	}()
	if len(renewals) == 0 {
		return
	}
	leaseUntil := now.Add(e.cfg.Lease)
	errs := e.cfg.Schedule.Renew(ctx, now, leaseUntil, renewals)
	renewed, lost := 0, 0
	var failed error
	for i, h := range held {
		h.mu.Lock()
		switch err := errs[i]; {
		case err == nil:
			h.claim.Leased, h.claim.LeaseUntil = true, leaseUntil.Truncate(time.Millisecond)
			renewed++
		case errors.Is(err, ErrClaimLost):
			h.lost = true
			lost++
		default:
			failed = err
		}
		h.mu.Unlock()
	}
	e.cfg.Metrics.leasesRenewed(renewed, lost)
	if lost > 0 {
		e.cfg.Logger.InfoContext(ctx, "leases of attempts in flight were lost to other workers", "count", lost)
	}
	if failed != nil {
		e.cfg.Logger.WarnContext(ctx, "renewing the leases of slow attempts failed", "error", failed)
	}
}

// renewLoop runs renewLeases every RenewInterval until ctx ends.
func (e *Engine) renewLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.RenewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.renewLeases(ctx)
		}
	}
}
