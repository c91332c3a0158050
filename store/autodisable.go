package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/endpoint"
)

// This file keeps each endpoint's failure clock and disables an endpoint
// whose every attempt has failed for the auto-disable period. The clock is
// written with the attempts that move it, in the same statement (PostgreSQL)
// or transaction (SQLite), so the engine's hot path gains no round trip, and
// it is written only when it changes: a healthy endpoint's row, and a failing
// one's once its clock runs, are not touched per attempt.

// autoDisableReasonPrefix starts the reason an auto-disabled endpoint shows.
const autoDisableReasonPrefix = "every delivery attempt failed since "

// autoDisableReason says why an endpoint failing since since was disabled.
// PostgreSQL builds the same text in SQL (endpointHealthPostgres).
func autoDisableReason(since time.Time) string {
	return autoDisableReasonPrefix + since.UTC().Format(time.RFC3339)
}

// endpointHealth sums up one endpoint's attempts in a batch of records.
type endpointHealth struct {
	endpointID string
	lastOK     time.Time // the last successful attempt; zero when none
	firstFail  time.Time // the first failed attempt after lastOK; zero when none
	lastFail   time.Time // the last failed attempt; zero when none
	// cutoff is lastFail minus the auto-disable period of its record: an
	// endpoint failing since then or earlier is disabled. Zero: never.
	cutoff time.Time
}

// endpointHealths sums up the attempts of the valid records (errs[i] nil)
// per endpoint, ordered by endpoint id. A record whose guard later fails
// counts too: its request was made, and the receiver's answer says as much
// about the endpoint as any other.
func endpointHealths(records []AttemptRecord, errs []error) []endpointHealth {
	counted := func(i int) bool {
		r := records[i]
		return errs[i] == nil && r.Attempt != nil && r.Delivery.EndpointID != ""
	}
	byID := map[string]*endpointHealth{}
	for i, r := range records {
		if !counted(i) {
			continue
		}
		h := byID[r.Delivery.EndpointID]
		if h == nil {
			h = &endpointHealth{endpointID: r.Delivery.EndpointID}
			byID[r.Delivery.EndpointID] = h
		}
		at := dbTime(r.Attempt.StartTime)
		switch {
		case r.Delivery.Status == webhookd.DeliverySucceeded:
			if at.After(h.lastOK) {
				h.lastOK = at
			}
		case !at.Before(h.lastFail):
			h.lastFail, h.cutoff = at, time.Time{}
			if r.AutoDisableAfter > 0 {
				h.cutoff = at.Add(-r.AutoDisableAfter)
			}
		}
	}
	// The current run of failures starts after the last success.
	for i, r := range records {
		if !counted(i) || r.Delivery.Status == webhookd.DeliverySucceeded {
			continue
		}
		h := byID[r.Delivery.EndpointID]
		if at := dbTime(r.Attempt.StartTime); at.After(h.lastOK) && (h.firstFail.IsZero() || at.Before(h.firstFail)) {
			h.firstFail = at
		}
	}
	hs := make([]endpointHealth, 0, len(byID))
	for _, h := range byID {
		hs = append(hs, *h)
	}
	slices.SortFunc(hs, func(a, b endpointHealth) int { return strings.Compare(a.endpointID, b.endpointID) })
	return hs
}

// next returns the endpoint's failure clock after the batch, given the
// stored one (nil when not failing), and whether the endpoint, enabled or
// not (disabled), must now be disabled.
func (h endpointHealth) next(stored *time.Time, disabled bool) (failingSince *time.Time, disable bool) {
	switch {
	case h.firstFail.IsZero():
		return nil, false // the last attempt succeeded
	case h.lastOK.IsZero() && stored != nil:
		failingSince = stored // the run goes on
	default:
		fs := h.firstFail
		failingSince = &fs
	}
	disable = !disabled && !h.cutoff.IsZero() && !failingSince.After(h.cutoff)
	return failingSince, disable
}

// recordEndpointHealthTx applies the batch's endpoint healths in tx: read,
// decide, write what changed. SQLite serialises writers, so the read and the
// write see the same row.
func recordEndpointHealthTx(ctx context.Context, tx *ent.Tx, hs []endpointHealth) error {
	for _, h := range hs {
		row, err := tx.Endpoint.Query().
			Where(endpoint.ID(h.endpointID)).
			Select(endpoint.FieldFailingSince, endpoint.FieldDisabled).
			Only(ctx)
		if ent.IsNotFound(err) {
			continue // deleted meanwhile
		}
		if err != nil {
			return classify(err, "recording endpoint health")
		}
		fs, disable := h.next(row.FailingSince, row.Disabled)
		if !disable && equalTimes(fs, row.FailingSince) {
			continue
		}
		u := tx.Endpoint.UpdateOneID(h.endpointID).SetNillableFailingSince(fs)
		if fs == nil {
			u.ClearFailingSince()
		}
		if disable {
			u.SetDisabled(true).
				SetDisabledReason(autoDisableReason(*fs)).
				SetDisableTime(h.lastFail).
				SetUpdateTime(h.lastFail).
				AddRevision(1)
		}
		if err := u.Exec(ctx); err != nil && !ent.IsNotFound(err) {
			return classify(err, "recording endpoint health")
		}
	}
	return nil
}

func equalTimes(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// endpointHealthCTE is the part of recordAttemptsStatement that does what
// recordEndpointHealthTx does, for every endpoint of the batch at once, in
// the same round trip: it reads the batch's endpoint healths from eh. Its
// WHERE clause leaves untouched (and unlocked) every row whose clock would
// not change, so two batches rarely contend for an endpoint's row.
const endpointHealthCTE = `ep AS (UPDATE endpoints AS p SET failing_since = ` + failingSinceSQL + `,
	disabled = p.disabled OR ` + disableSQL + `,
	disabled_reason = CASE WHEN ` + disableSQL + ` THEN '` + autoDisableReasonPrefix + `' ||
		to_char(` + failingSinceSQL + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ELSE p.disabled_reason END,
	disable_time = CASE WHEN ` + disableSQL + ` THEN eh.last_fail ELSE p.disable_time END,
	update_time = CASE WHEN ` + disableSQL + ` THEN eh.last_fail ELSE p.update_time END,
	revision = CASE WHEN ` + disableSQL + ` THEN p.revision + 1 ELSE p.revision END
	FROM eh WHERE p.id = eh.id AND (` + failingSinceSQL + ` IS DISTINCT FROM p.failing_since OR ` + disableSQL + `) RETURNING 1)`

// failingSinceSQL and disableSQL are endpointHealth.next in SQL.
const (
	failingSinceSQL = `(CASE WHEN eh.first_fail IS NULL THEN NULL
	WHEN eh.last_ok IS NULL THEN COALESCE(p.failing_since, eh.first_fail) ELSE eh.first_fail END)`
	disableSQL = `COALESCE(NOT p.disabled AND ` + failingSinceSQL + ` <= eh.cutoff, false)`
)
