package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lease is a time-limited claim on a Redis key that makes a periodic job
// (the retention purge) run in one webhookd process at a time. It is not an
// election: whoever takes the free key holds it until it releases it or
// stops renewing it, and then anyone may take it. The key holds a random
// token, and renewing or releasing checks that token in a script, so a
// process whose lease ran out (a long pause) can never extend or delete the
// lease another process took since.
//
// A Lease is used by one goroutine at a time.
type Lease struct {
	client redis.UniversalClient
	key    string
	ttl    time.Duration
	token  string // "" while not held
}

// NewLease returns a lease on key that lasts ttl unless renewed.
func NewLease(client redis.UniversalClient, key string, ttl time.Duration) *Lease {
	return &Lease{client: client, key: key, ttl: ttl}
}

// renewLease extends the lease only while the key still holds our token.
var renewLease = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

// releaseLease deletes the key only while it still holds our token.
var releaseLease = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// Acquire takes the lease if no one holds it and reports whether it did.
// A lease already held by l is renewed instead.
func (l *Lease) Acquire(ctx context.Context) (bool, error) {
	if l.token != "" {
		return l.Renew(ctx)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return false, err
	}
	token := hex.EncodeToString(b[:])
	ok, err := l.client.SetNX(ctx, l.key, token, l.ttl).Result()
	if err != nil {
		return false, err
	}
	if ok {
		l.token = token
	}
	return ok, nil
}

// Renew extends a held lease by its ttl from now. It reports false, and
// forgets the lease, when the lease had run out and is no longer ours.
func (l *Lease) Renew(ctx context.Context) (bool, error) {
	if l.token == "" {
		return false, nil
	}
	n, err := renewLease.Run(ctx, l.client, []string{l.key}, l.token, l.ttl.Milliseconds()).Int()
	if err != nil {
		return false, err
	}
	if n == 0 {
		l.token = ""
		return false, nil
	}
	return true, nil
}

// Release gives the lease up, if it is still ours, so another process may
// take it at once instead of after its ttl.
func (l *Lease) Release(ctx context.Context) error {
	if l.token == "" {
		return nil
	}
	token := l.token
	l.token = ""
	err := releaseLease.Run(ctx, l.client, []string{l.key}, token).Err()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// Held reports whether l believes it holds the lease: it took or renewed it
// and has not released it since. Only a renewal proves it is still held.
func (l *Lease) Held() bool { return l.token != "" }
