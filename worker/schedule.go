package worker

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd"
)

// Schedule is the set of deliveries waiting to be attempted: a Redis sorted
// set of delivery ids scored by due time in Unix milliseconds. The key
// carries a hash tag ({…}) so that a Redis Cluster keeps every key of one
// schedule on one node, where a Lua script can claim atomically.
type Schedule struct {
	client redis.UniversalClient
	dueKey string
}

// NewSchedule returns the schedule stored under keys starting with prefix
// ("webhookd" in production; tests use their own to share one Redis).
func NewSchedule(client redis.UniversalClient, prefix string) (*Schedule, error) {
	if client == nil {
		return nil, errors.New("schedule: client is required")
	}
	if prefix == "" {
		prefix = "webhookd"
	}
	return &Schedule{client: client, dueKey: prefix + ":{schedule}:due"}, nil
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
	return s.client.ZAdd(ctx, s.dueKey, members...).Err()
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
