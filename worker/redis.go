package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd"
)

// RedisConfig says which Redis holds the schedule.
type RedisConfig struct {
	// URL is the --redis-url setting (redis://, rediss:// or unix://). Empty
	// starts an embedded Redis-protocol server in this process, on loopback:
	// the zero-setup default for a single webhookd.
	URL string
	// Cluster makes URL the seed of a Redis Cluster, in the form
	// redis://host:port?addr=host2:port2&addr=host3:port3: the client
	// learns the other nodes and slots from any one that answers.
	Cluster bool
	Logger  *slog.Logger
}

// Validate reports a URL the Redis client cannot use, naming the setting,
// without connecting, so that webhookd refuses it before it starts anything.
func (c RedisConfig) Validate() error {
	if c.URL == "" {
		if c.Cluster {
			return webhookd.Invalid("redis-cluster", "a Redis Cluster needs --redis-url naming at least one of its nodes")
		}
		return nil
	}
	var err error
	if c.Cluster {
		_, err = redis.ParseClusterURL(c.URL)
	} else {
		_, err = redis.ParseURL(c.URL)
	}
	if err != nil {
		// A *url.Error quotes the whole URL, password included.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return webhookd.Invalid("redis-url", "%v (want redis://host:port/db, rediss://… or unix://…)", err)
	}
	return nil
}

// Redis is a connected Redis client and, for the embedded default, the
// server it talks to.
type Redis struct {
	Client   redis.UniversalClient
	cluster  *redis.ClusterClient // Client, when it is a cluster's
	embedded *miniredis.Miniredis
}

// OpenRedis connects to the configured Redis, or starts the embedded one, and
// checks that it answers.
func OpenRedis(ctx context.Context, cfg RedisConfig) (*Redis, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	} else {
		redis.SetLogger(clientLog{logger.With("component", "redis")})
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Redis{}
	switch {
	case cfg.URL == "":
		r.embedded = miniredis.NewMiniRedis()
		if err := r.embedded.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("embedded redis: %w", err)
		}
		r.Client = redis.NewClient(&redis.Options{Addr: r.embedded.Addr(), ContextTimeoutEnabled: true})
		logger.InfoContext(ctx, "started embedded Redis-protocol server", "addr", r.embedded.Addr())
	case cfg.Cluster:
		opts, err := redis.ParseClusterURL(cfg.URL)
		if err != nil {
			return nil, webhookd.Invalid("redis-url", "%v", err)
		}
		opts.ContextTimeoutEnabled = true
		r.cluster = redis.NewClusterClient(opts)
		r.Client = r.cluster
	default:
		opts, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, webhookd.Invalid("redis-url", "%v", err)
		}
		// Let a context's deadline bound a command's reads and writes too,
		// not only the wait for a connection: callers that must not hang on
		// a frozen Redis (dispatch after a publish) give one.
		opts.ContextTimeoutEnabled = true
		r.Client = redis.NewClient(opts)
	}
	if err := r.Ping(ctx); err != nil {
		_ = r.Close()
		return nil, webhookd.Unavailable("redis-url: Redis does not answer", err)
	}
	return r, nil
}

// Ping checks that Redis answers (readiness): on a cluster, every primary,
// since each holds part of the schedule.
func (r *Redis) Ping(ctx context.Context) error {
	if r.cluster != nil {
		return r.cluster.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return c.Ping(ctx).Err()
		})
	}
	return r.Client.Ping(ctx).Err()
}

// IsCluster reports whether the schedule lives on a Redis Cluster.
func (r *Redis) IsCluster() bool { return r.cluster != nil }

// Close disconnects and stops the embedded server, if any.
func (r *Redis) Close() error {
	err := r.Client.Close()
	if r.embedded != nil {
		r.embedded.Close()
	}
	return err
}

// clientLog takes go-redis's own messages (such as "failed to dial after 5
// attempts" while Redis is down), which it prints as plain text on stderr by
// default, into the process logger: with --log-format json, stderr stays a
// pure JSON stream. go-redis has one logger per process; the last OpenRedis
// given a Logger sets it.
type clientLog struct{ logger *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(strings.TrimSpace(fmt.Sprintf(format, v...)), "redis: ")
	l.logger.WarnContext(ctx, "redis client: "+msg)
}
