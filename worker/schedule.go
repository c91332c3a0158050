package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd"
)

// Schedule is the set of deliveries waiting to be attempted: Redis sorted
// sets of delivery ids scored by due time in Unix milliseconds.
//
// The set is split into shards, each a key with its own hash tag
// ({schedule.N}), and a delivery lives in the shard its id hashes to. On a
// Redis Cluster the tags put the shards in different slots, so the schedule
// spreads over the nodes, while every key one Lua script touches stays in
// one slot, where the script can claim atomically. A standalone Redis needs
// one shard, whose key keeps the original name.
type Schedule struct {
	client  redis.UniversalClient
	prefix  string   // starts every key (ScheduleConfig.Prefix)
	shards  []string // the sorted set of each shard
	wakeKey string   // pub/sub channel announcing deliveries due now or soon
	next    atomic.Uint32
	// announceWithin is how soon an entry must be due for Settle to wake
	// the pollers (ScheduleConfig.AnnounceWithin).
	announceWithin time.Duration

	// local holds the channels of this process's Wakeups, signalled
	// without a round trip through Redis.
	mu    sync.Mutex
	local map[chan struct{}]struct{}
}

// ScheduleConfig names the keys of a schedule.
type ScheduleConfig struct {
	// Prefix starts every key ("webhookd" in production; tests use their
	// own to share one Redis). It must not contain braces.
	Prefix string
	// Shards is how many sorted sets the schedule is split over; every
	// process sharing the schedule must use the same number. Zero means 1.
	Shards int
	// AnnounceWithin is how soon a rescheduled delivery (a retry) must be
	// due for Settle to wake every process's poller, which otherwise
	// sleeps until the earliest entry it knew of or its poll interval. It
	// should be the engine's poll interval: a later entry is found by the
	// next poll anyway. Zero means 1s.
	AnnounceWithin time.Duration
}

// MaxScheduleShards bounds ScheduleConfig.Shards: a claim may visit every
// shard, so more shards than this only add round trips.
const MaxScheduleShards = 256

// Validate reports a setting that cannot work.
func (c ScheduleConfig) Validate() error {
	switch {
	case c.Shards < 0 || c.Shards > MaxScheduleShards:
		return fmt.Errorf("schedule: shards must be between 1 and %d, not %d", MaxScheduleShards, c.Shards)
	case strings.ContainsAny(c.Prefix, "{}"):
		return errors.New("schedule: the prefix must not contain braces (they would break the Redis Cluster hash tags)")
	case c.AnnounceWithin < 0:
		return errors.New("schedule: AnnounceWithin must not be negative")
	}
	return nil
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

// NewSchedule returns the schedule cfg describes, kept in client.
func NewSchedule(client redis.UniversalClient, cfg ScheduleConfig) (*Schedule, error) {
	if client == nil {
		return nil, errors.New("schedule: client is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	prefix := cmp.Or(cfg.Prefix, "webhookd")
	s := &Schedule{
		client: client, prefix: prefix, wakeKey: prefix + ":{schedule}:wake",
		announceWithin: cmp.Or(cfg.AnnounceWithin, time.Second),
		local:          make(map[chan struct{}]struct{}),
	}
	if cfg.Shards <= 1 {
		s.shards = []string{prefix + ":{schedule}:due"}
	} else {
		for i := range cfg.Shards {
			s.shards = append(s.shards, fmt.Sprintf("%s:{schedule.%d}:due", prefix, i))
		}
	}
	return s, nil
}

// ShardOf names the sorted set that holds delivery id.
func (s *Schedule) ShardOf(id string) string { return s.keyOf(id) }

// keyOf returns the sorted set holding delivery id.
func (s *Schedule) keyOf(id string) string {
	if len(s.shards) == 1 {
		return s.shards[0]
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return s.shards[h.Sum32()%uint32(len(s.shards))]
}

// byShard groups deliveries by the key of their shard.
func (s *Schedule) byShard(deliveries []*webhookd.Delivery, keep func(*webhookd.Delivery) bool) map[string][]redis.Z {
	out := make(map[string][]redis.Z)
	for _, d := range deliveries {
		if keep != nil && !keep(d) {
			continue
		}
		key := s.keyOf(d.ID)
		out[key] = append(out[key], redis.Z{Score: float64(d.NextAttemptTime.UnixMilli()), Member: d.ID})
	}
	return out
}

// Add puts deliveries in the schedule, due at their next attempt time, and
// wakes the workers. A new delivery (initial or test) is only added if
// absent: the reconciler may have scheduled it already and a worker may hold
// it leased, and overwriting that lease would send it twice. A manual retry
// moves the delivery to its new time whatever the schedule held.
func (s *Schedule) Add(ctx context.Context, deliveries []*webhookd.Delivery) error {
	if len(deliveries) == 0 {
		return nil
	}
	manual := func(d *webhookd.Delivery) bool { return d.NextTrigger == webhookd.TriggerManual }
	fresh := s.byShard(deliveries, func(d *webhookd.Delivery) bool { return !manual(d) })
	moved := s.byShard(deliveries, manual)
	// One round trip (per node of a cluster): add, then wake idle workers in
	// every process so new deliveries go out at once rather than on the next
	// poll. A lost wake-up only costs a poll interval.
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for key, members := range fresh {
			p.ZAddNX(ctx, key, members...)
		}
		for key, members := range moved {
			p.ZAdd(ctx, key, members...)
		}
		p.Publish(ctx, s.wakeKey, len(deliveries))
		return nil
	})
	if err == nil {
		s.wakeLocal()
	}
	return err
}

// Claim leases up to limit deliveries due at or before now until leaseUntil,
// earliest first within a shard. Shards are visited from a rotating start so
// that each gets its turn: the limit is first split over the shards in one
// round trip, and what remains is then asked of the shards that may hold
// more, one by one.
func (s *Schedule) Claim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Claim, error) {
	claims, _, err := s.ClaimNext(ctx, now, leaseUntil, limit)
	return claims, err
}

// ClaimNext is Claim, and also says when the earliest entry left in the
// schedule is due (a retry, or a lease running out), read in the same round
// trip: what a poller sleeps until instead of a fixed interval. next is zero
// when the schedule is empty or a shard did not answer. It may be at or
// before now when the claim took more in its second pass, or another
// process added an entry meanwhile; Next then tells.
func (s *Schedule) ClaimNext(ctx context.Context, now, leaseUntil time.Time, limit int) (claims []Claim, next time.Time, err error) {
	if limit <= 0 {
		return nil, time.Time{}, nil
	}
	leaseUntil = leaseUntil.Truncate(time.Millisecond) // scores are milliseconds
	n := len(s.shards)
	start := int(s.next.Add(1)) % n
	order := make([]string, n)
	for i := range n {
		order[i] = s.shards[(start+i)%n]
	}
	args := func(want int) []any { return []any{now.UnixMilli(), leaseUntil.UnixMilli(), want} }

	// First pass: every shard with a share of the limit, in one pipeline.
	quota := make([]int, n)
	for i := range n {
		quota[i] = limit / n
		if i < limit%n {
			quota[i]++
		}
	}
	var (
		ids      []string
		again    []string // shards that may hold more than they gave
		firstErr error
	)
	pending := make([]bool, n)
	for i := range n {
		pending[i] = quota[i] > 0
	}
	// The script is sent by hash; after a restart a node no longer knows
	// it, so it is loaded and the shards that said NOSCRIPT are asked again.
	// The earliest entry of every shard is read after its claim, in the
	// same pipeline: on a cluster both go to the shard's node, in order.
	firsts := make([]*redis.ZSliceCmd, n)
	for try := 0; try < 2 && slices.Contains(pending, true); try++ {
		cmds := make([]*redis.Cmd, n)
		_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, key := range order {
				if pending[i] {
					cmds[i] = claimScript.EvalSha(ctx, p, []string{key}, args(quota[i])...)
				}
				firsts[i] = p.ZRangeWithScores(ctx, key, 0, 0)
			}
			return nil
		})
		noScript := false
		for i := range order {
			if !pending[i] {
				continue
			}
			got, err := cmds[i].StringSlice()
			switch {
			case isNoScript(err):
				noScript = true
				continue // still pending
			case err != nil:
				firstErr = cmp.Or(firstErr, err)
			default:
				ids = append(ids, got...)
				if len(got) == quota[i] {
					again = append(again, order[i])
				}
			}
			pending[i] = false
		}
		if noScript {
			if err := claimScript.Load(ctx, s.client).Err(); err != nil {
				firstErr = cmp.Or(firstErr, err)
			}
		}
	}
	for i, key := range order {
		if quota[i] == 0 || pending[i] {
			again = append(again, key) // not asked yet
		}
	}
	// Second pass: what the limit still allows, shard by shard.
	for _, key := range again {
		want := limit - len(ids)
		if want <= 0 {
			break
		}
		got, err := claimScript.Run(ctx, s.client, []string{key}, args(want)...).StringSlice()
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		ids = append(ids, got...)
	}
	// A shard that failed (a cluster node down) must not hold back the
	// claims made on the others: they are leased already.
	if len(ids) == 0 && firstErr != nil {
		return nil, time.Time{}, firstErr
	}
	claims = make([]Claim, len(ids))
	for i, id := range ids {
		claims[i] = Claim{DeliveryID: id, Leased: true, LeaseUntil: leaseUntil}
	}
	if firstErr == nil && firsts[0] != nil {
		next, _ = earliest(firsts) // a shard that failed leaves next unknown
	}
	return claims, next, nil
}

// earliest is the lowest score of the first entries firsts read, as a
// time; zero when every shard is empty. It fails when a read did.
func earliest(firsts []*redis.ZSliceCmd) (time.Time, error) {
	var next time.Time
	for _, c := range firsts {
		first, err := c.Result()
		if err != nil {
			return time.Time{}, err
		}
		if len(first) > 0 {
			if due := time.UnixMilli(int64(first[0].Score)); next.IsZero() || due.Before(next) {
				next = due
			}
		}
	}
	return next, nil
}

// Next is when the earliest entry in the schedule is due (a retry, or a
// lease running out), zero when the schedule is empty.
func (s *Schedule) Next(ctx context.Context) (time.Time, error) {
	firsts := make([]*redis.ZSliceCmd, len(s.shards))
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range s.shards {
			firsts[i] = p.ZRangeWithScores(ctx, key, 0, 0)
		}
		return nil
	}); err != nil {
		return time.Time{}, err
	}
	return earliest(firsts)
}

func isNoScript(err error) bool {
	return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT")
}

// Claim is a delivery a worker works on. A claim taken from the schedule is
// Leased: its lease is how the worker proves, when it reschedules or
// finishes the delivery, that nobody has touched the entry since (a manual
// retry dispatched meanwhile must not be undone).
//
// A claim that is not Leased (the zero value) is of a delivery the schedule
// was never given, a hand-off (see Engine.Enqueue): releasing it adds it
// unless an entry exists, finishing it has nothing to remove, and renewing
// it adds it leased unless an entry exists, which makes it Leased.
type Claim struct {
	DeliveryID string
	// Leased says the claim holds the delivery's entry in the schedule,
	// scored LeaseUntil.
	Leased     bool
	LeaseUntil time.Time // when Leased
}

// releaseScript moves a leased entry to a new due time, unless someone else
// changed it since the lease ARGV[2] (a new dispatch). An entry that
// vanished (a flushed Redis) is added back. A claim never scheduled (ARGV[2]
// = 0, see leaseMillis) only adds an entry that does not exist.
var releaseScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
local old = tonumber(ARGV[2])
if (not s) or (old ~= 0 and tonumber(s) == old) then
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
	settlements = slices.DeleteFunc(slices.Clone(settlements), func(st Settlement) bool {
		return st.Due.IsZero() && !st.Claim.Leased // finished, and never scheduled
	})
	if len(settlements) == 0 {
		return nil
	}
	// A delivery due before the pollers' next poll wakes them: those of
	// this process at once, those of others by a message. With one shard
	// the message goes in the same pipeline, after the writes and on the
	// same node (the channel has the shard's hash tag); the shards of a
	// cluster may be on other nodes, so it follows the pipeline there, or
	// a poller could look before the entry is written.
	announce := s.dueSoon(settlements)
	inline := announce && len(s.shards) == 1
	cmds, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, st := range settlements {
			s.settleCmd(ctx, p, st, true)
		}
		if inline {
			p.Publish(ctx, s.wakeKey, "due")
		}
		return nil
	})
	defer func() {
		if announce {
			s.wakeLocal()
			if !inline || err != nil {
				// A lost message costs a poll interval at most.
				_ = s.client.Publish(ctx, s.wakeKey, "due").Err()
			}
		}
	}()
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

// dueSoon says whether a settlement makes a delivery due within
// announceWithin: scores are wall-clock milliseconds.
func (s *Schedule) dueSoon(settlements []Settlement) bool {
	soon := time.Now().Add(s.announceWithin)
	for _, st := range settlements {
		if !st.Due.IsZero() && st.Due.Before(soon) {
			return true
		}
	}
	return false
}

// wakeLocal signals every Wakeups channel of this process.
func (s *Schedule) wakeLocal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.local {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

func (s *Schedule) settleCmd(ctx context.Context, c redis.Scripter, st Settlement, shaOnly bool) *redis.Cmd {
	keys := []string{s.keyOf(st.Claim.DeliveryID)}
	lease := leaseMillis(st.Claim)
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
	return s.Settle(ctx, []Settlement{{Claim: c, Due: due}}) // which wakes the pollers if due soon
}

// Finish ends a claim on a delivery that needs no more attempts.
func (s *Schedule) Finish(ctx context.Context, c Claim) error {
	return s.Settle(ctx, []Settlement{{Claim: c}}) // which skips a claim never scheduled
}

// renewScript extends a claim to ARGV[3] if it is still the claimer's:
// the entry still has the claim's lease ARGV[2], or, for a claim never
// scheduled (a hand-off, ARGV[2] = 0), there is no entry yet. With ARGV[5]
// = 1 (the attempt's request may have gone out), an entry that vanished (a
// Redis node restarted empty) is added back and one that is due but
// unclaimed (put back by the reconciler) is taken over: either would
// otherwise be claimed and sent again while the attempt is being recorded.
// Before a request (ARGV[5] = 0) only a claim provably still held counts:
// a missing entry may be one another worker finished after the lease ran
// out. It returns 1 when the claim now lasts until ARGV[3], 0 otherwise.
var renewScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
local old, sent = tonumber(ARGV[2]), ARGV[5] == '1'
local ok
if not s then
  ok = old == 0 or sent
else
  s = tonumber(s)
  ok = (old ~= 0 and s == old) or (sent and s <= tonumber(ARGV[4]))
end
if ok then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
`)

// Renewal asks Renew to extend one claim.
type Renewal struct {
	Claim Claim
	// Sent says the attempt's request may have gone out already, so that
	// keeping other workers off the delivery matters more than proving the
	// claim was never lost (see renewScript).
	Sent bool
}

// ErrClaimLost is Renew's answer for a claim that is no longer held.
var ErrClaimLost = errors.New("schedule: the claim is no longer held")

// Renew extends claims to leaseUntil, for attempts that take longer than
// their lease allows (a starved machine, a slow database): without it, a
// lease that runs out while its attempt is still being sent or recorded
// lets another worker claim the delivery and send it again. It returns one
// error per renewal: nil when the claim is held, now until leaseUntil;
// ErrClaimLost when it is not (another worker has it, or it was finished),
// and the delivery must then not be attempted; another error when Redis did
// not answer. A hand-off (a claim not Leased) that is renewed becomes a
// scheduled claim, which the reconciler then leaves alone.
func (s *Schedule) Renew(ctx context.Context, now, leaseUntil time.Time, renewals []Renewal) []error {
	leaseUntil = leaseUntil.Truncate(time.Millisecond)
	errs := make([]error, len(renewals))
	run := func(c redis.Scripter, r Renewal, shaOnly bool) *redis.Cmd {
		sent := 0
		if r.Sent {
			sent = 1
		}
		keys := []string{s.keyOf(r.Claim.DeliveryID)}
		args := []any{r.Claim.DeliveryID, leaseMillis(r.Claim), leaseUntil.UnixMilli(), now.UnixMilli(), sent}
		if shaOnly {
			return renewScript.EvalSha(ctx, c, keys, args...)
		}
		return renewScript.Run(ctx, c, keys, args...)
	}
	cmds := make([]*redis.Cmd, len(renewals))
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range renewals {
			cmds[i] = run(p, r, true)
		}
		return nil
	})
	for i, r := range renewals {
		n, err := cmds[i].Int()
		if err != nil {
			// NOSCRIPT after a Redis restart, or a node down: once more
			// alone, which loads the script and reports a real error.
			n, err = run(s.client, r, false).Int()
		}
		switch {
		case err != nil:
			errs[i] = err
		case n != 1:
			errs[i] = ErrClaimLost
		}
	}
	return errs
}

// leaseMillis is a claim's lease as the schedule scores it, and 0, which
// the scripts read as "never scheduled", for a claim not Leased.
func leaseMillis(c Claim) int64 {
	if !c.Leased {
		return 0
	}
	return c.LeaseUntil.UnixMilli()
}

// AddMissing schedules deliveries that the schedule does not hold, leaving
// present ones (and their leases) alone. It reports how many were added.
func (s *Schedule) AddMissing(ctx context.Context, deliveries []*webhookd.Delivery) (int64, error) {
	if len(deliveries) == 0 {
		return 0, nil
	}
	var adds []*redis.IntCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for key, members := range s.byShard(deliveries, nil) {
			adds = append(adds, p.ZAddNX(ctx, key, members...))
		}
		return nil
	})
	var added int64
	for _, c := range adds {
		added += c.Val()
	}
	return added, err
}

// Lag is how long the earliest due delivery has been waiting (0 when none is due).
func (s *Schedule) Lag(ctx context.Context, now time.Time) (time.Duration, error) {
	firsts := make([]*redis.ZSliceCmd, len(s.shards))
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range s.shards {
			firsts[i] = p.ZRangeWithScores(ctx, key, 0, 0)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	var lag time.Duration
	for _, c := range firsts {
		if first := c.Val(); len(first) > 0 {
			lag = max(lag, now.Sub(time.UnixMilli(int64(first[0].Score))))
		}
	}
	return lag, nil
}

// Wakeups returns a channel that receives a value whenever deliveries are
// dispatched, or rescheduled to be due soon (see AnnounceWithin), by any
// process, until ctx ends.
func (s *Schedule) Wakeups(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	s.mu.Lock()
	s.local[out] = struct{}{}
	s.mu.Unlock()
	sub := s.client.Subscribe(ctx, s.wakeKey)
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.local, out)
			s.mu.Unlock()
		}()
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
	cmds := make([]*redis.ZSliceCmd, len(s.shards))
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range s.shards {
			cmds[i] = p.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{
				Key: key, Start: "-inf", Stop: ms, ByScore: true, Count: limit,
			})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var due []redis.Z
	for _, c := range cmds {
		due = append(due, c.Val()...)
	}
	slices.SortFunc(due, func(a, b redis.Z) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Member.(string), b.Member.(string)))
	})
	ids := make([]string, 0, min(int64(len(due)), limit))
	for _, z := range due[:min(int64(len(due)), limit)] {
		ids = append(ids, z.Member.(string))
	}
	return ids, nil
}

// Len is the number of scheduled deliveries.
func (s *Schedule) Len(ctx context.Context) (int64, error) {
	cards := make([]*redis.IntCmd, len(s.shards))
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range s.shards {
			cards[i] = p.ZCard(ctx, key)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	var n int64
	for _, c := range cards {
		n += c.Val()
	}
	return n, nil
}

// Shards is how many sorted sets the schedule is split over.
func (s *Schedule) Shards() int { return len(s.shards) }
