package worker

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd"
)

// Schedule is the set of deliveries waiting to be attempted: a Redis sorted
// set of delivery ids scored by due time in Unix milliseconds. The key
// carries a hash tag ({…}) so that a Redis Cluster keeps every key of one
// schedule on one node, where a Lua script can claim atomically.
type Schedule struct {
	client  redis.UniversalClient
	dueKey  string
	wakeKey string // pub/sub channel announcing newly dispatched deliveries
}

// claimScript takes up to ARGV[3] ids due at or before ARGV[1] and leases
// them by moving their score to ARGV[2]. Running in Redis makes the take and
// the lease one atomic step: two workers never claim the same id, and an id
// whose worker dies comes due again when its lease runs out.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
end
return ids
`)

// NewSchedule returns the schedule stored under keys starting with prefix
// ("webhookd" in production; tests use their own to share one Redis).
func NewSchedule(client redis.UniversalClient, prefix string) (*Schedule, error) {
	if client == nil {
		return nil, errors.New("schedule: client is required")
	}
	if prefix == "" {
		prefix = "webhookd"
	}
	return &Schedule{client: client, dueKey: prefix + ":{schedule}:due", wakeKey: prefix + ":{schedule}:wake"}, nil
}

// Dispatch adds deliveries to the schedule, due at their next attempt time,
// and wakes the workers. A new delivery (initial or test) is only added if
// absent: the reconciler may have scheduled it already and a worker may hold
// it leased, and overwriting that lease would send it twice. A manual retry
// moves the delivery to its new time whatever the schedule held.
func (s *Schedule) Dispatch(ctx context.Context, deliveries []*webhookd.Delivery) error {
	if len(deliveries) == 0 {
		return nil
	}
	var fresh, moved []redis.Z
	for _, d := range deliveries {
		z := redis.Z{Score: float64(d.NextAttemptTime.UnixMilli()), Member: d.ID}
		if d.NextTrigger == webhookd.TriggerManual {
			moved = append(moved, z)
		} else {
			fresh = append(fresh, z)
		}
	}
	// One round trip: add, then wake idle workers in every process so new
	// deliveries go out at once rather than on the next poll. A lost wake-up
	// only costs a poll interval.
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		if len(fresh) > 0 {
			p.ZAddNX(ctx, s.dueKey, fresh...)
		}
		if len(moved) > 0 {
			p.ZAdd(ctx, s.dueKey, moved...)
		}
		p.Publish(ctx, s.wakeKey, len(deliveries))
		return nil
	})
	return err
}

// Claim leases up to limit deliveries due at or before now until leaseUntil,
// earliest first.
func (s *Schedule) Claim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	leaseUntil = leaseUntil.Truncate(time.Millisecond) // scores are milliseconds
	ids, err := claimScript.Run(ctx, s.client, []string{s.dueKey},
		now.UnixMilli(), leaseUntil.UnixMilli(), limit).StringSlice()
	if err != nil {
		return nil, err
	}
	claims := make([]Claim, len(ids))
	for i, id := range ids {
		claims[i] = Claim{DeliveryID: id, LeaseUntil: leaseUntil}
	}
	return claims, nil
}

// Claim is a delivery a worker leased: the lease is how the worker proves,
// when it reschedules or finishes the delivery, that nobody has touched the
// entry since (a manual retry dispatched meanwhile must not be undone).
type Claim struct {
	DeliveryID string
	LeaseUntil time.Time
}

// releaseScript moves a leased entry to a new due time, unless someone else
// changed it since the lease (a new dispatch). An entry that vanished (a
// flushed Redis) is added back.
var releaseScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not s) or tonumber(s) == tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
`)

// finishScript removes a leased entry, unless someone else changed it since.
var finishScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
`)

// Settlement ends one claim: Due is when the delivery is due again, or
// zero when it needs no more attempts.
type Settlement struct {
	Claim Claim
	Due   time.Time
}

// Settle ends many claims in one round trip, each as Release or Finish
// would. Scripts missing from Redis (it restarted) are loaded on the way.
func (s *Schedule) Settle(ctx context.Context, settlements []Settlement) error {
	if len(settlements) == 0 {
		return nil
	}
	cmds, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, st := range settlements {
			s.settleCmd(ctx, p, st, true)
		}
		return nil
	})
	if err == nil {
		return nil
	}
	// NOSCRIPT after a Redis restart, or another failure: settle one by
	// one, which loads the scripts and reports a real error.
	var errs []error
	for i, st := range settlements {
		if i < len(cmds) && cmds[i].Err() == nil {
			continue
		}
		if err := s.settleCmd(ctx, s.client, st, false).Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Schedule) settleCmd(ctx context.Context, c redis.Scripter, st Settlement, shaOnly bool) *redis.Cmd {
	keys := []string{s.dueKey}
	lease := st.Claim.LeaseUntil.UnixMilli()
	script, args := finishScript, []any{st.Claim.DeliveryID, lease}
	if !st.Due.IsZero() {
		script, args = releaseScript, []any{st.Claim.DeliveryID, lease, st.Due.UnixMilli()}
	}
	if shaOnly {
		return script.EvalSha(ctx, c, keys, args...)
	}
	return script.Run(ctx, c, keys, args...)
}

// Release ends a claim by making the delivery due at due.
func (s *Schedule) Release(ctx context.Context, c Claim, due time.Time) error {
	return releaseScript.Run(ctx, s.client, []string{s.dueKey}, c.DeliveryID, c.LeaseUntil.UnixMilli(), due.UnixMilli()).Err()
}

// Finish ends a claim on a delivery that needs no more attempts.
func (s *Schedule) Finish(ctx context.Context, c Claim) error {
	return finishScript.Run(ctx, s.client, []string{s.dueKey}, c.DeliveryID, c.LeaseUntil.UnixMilli()).Err()
}

// AddMissing schedules deliveries that the schedule does not hold, leaving
// present ones (and their leases) alone. It reports how many were added.
func (s *Schedule) AddMissing(ctx context.Context, deliveries []*webhookd.Delivery) (int64, error) {
	if len(deliveries) == 0 {
		return 0, nil
	}
	members := make([]redis.Z, 0, len(deliveries))
	for _, d := range deliveries {
		members = append(members, redis.Z{Score: float64(d.NextAttemptTime.UnixMilli()), Member: d.ID})
	}
	return s.client.ZAddNX(ctx, s.dueKey, members...).Result()
}

// Lag is how long the earliest due delivery has been waiting (0 when none is due).
func (s *Schedule) Lag(ctx context.Context, now time.Time) (time.Duration, error) {
	first, err := s.client.ZRangeWithScores(ctx, s.dueKey, 0, 0).Result()
	if err != nil || len(first) == 0 {
		return 0, err
	}
	lag := now.Sub(time.UnixMilli(int64(first[0].Score)))
	return max(lag, 0), nil
}

// Wakeups returns a channel that receives a value whenever deliveries are
// dispatched by any process, until ctx ends.
func (s *Schedule) Wakeups(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	sub := s.client.Subscribe(ctx, s.wakeKey)
	go func() {
		defer sub.Close()
		msgs := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-msgs:
				if !ok {
					return
				}
				select {
				case out <- struct{}{}:
				default: // a wake-up is already pending
				}
			}
		}
	}()
	return out
}

// Due returns up to limit delivery ids due at or before ms (Unix
// milliseconds), earliest first, without claiming them.
func (s *Schedule) Due(ctx context.Context, ms int64, limit int64) ([]string, error) {
	return s.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.dueKey, Start: "-inf", Stop: ms, ByScore: true, Count: limit,
	}).Result()
}

// Len is the number of scheduled deliveries.
func (s *Schedule) Len(ctx context.Context) (int64, error) {
	return s.client.ZCard(ctx, s.dueKey).Result()
}
