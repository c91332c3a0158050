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

// Dispatch adds deliveries to the schedule, due at their next attempt time.
// Adding an id already present only moves it, so dispatching twice is safe.
func (s *Schedule) Dispatch(ctx context.Context, deliveries []*webhookd.Delivery) error {
	if len(deliveries) == 0 {
		return nil
	}
	members := make([]redis.Z, 0, len(deliveries))
	for _, d := range deliveries {
		members = append(members, redis.Z{Score: float64(d.NextAttemptTime.UnixMilli()), Member: d.ID})
	}
	if err := s.client.ZAdd(ctx, s.dueKey, members...).Err(); err != nil {
		return err
	}
	// Wake idle workers in every process so new deliveries go out at once
	// rather than on the next poll. A lost message only costs a poll interval.
	return s.client.Publish(ctx, s.wakeKey, len(deliveries)).Err()
}

// Claim leases up to limit deliveries due at or before now until leaseUntil
// and returns their ids, earliest first.
func (s *Schedule) Claim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	return claimScript.Run(ctx, s.client, []string{s.dueKey},
		now.UnixMilli(), leaseUntil.UnixMilli(), limit).StringSlice()
}

// Reschedule makes a delivery due at due, ending any lease on it.
func (s *Schedule) Reschedule(ctx context.Context, id string, due time.Time) error {
	return s.client.ZAdd(ctx, s.dueKey, redis.Z{Score: float64(due.UnixMilli()), Member: id}).Err()
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

// Remove drops a delivery that needs no more attempts.
func (s *Schedule) Remove(ctx context.Context, id string) error {
	return s.client.ZRem(ctx, s.dueKey, id).Err()
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
