// Package app assembles a webhookd process from its Config: it opens the
// database and the schedule, prepares a first start (catalog, operator
// credential), builds the API servers and runs them until asked to stop. It
// exists so that cmd/webhookd stays a thin main and tests can run the same
// assembly in-process.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/web"
	"github.com/webhookd/webhookd/worker"
)

// App is one assembled webhookd process.
type App struct {
	cfg    Config
	logger *slog.Logger
	store  store.Store
	redis  *worker.Redis
	server *server.Server
	engine *worker.Engine // nil without the worker role
	// listeners serves webhookctl listen; nil without the api role.
	listeners *worker.Listeners
	// retention purges old history; nil without the worker role or with
	// --retention=0.
	retention *worker.Retention

	// notice receives the one-time admin token (see New).
	notice io.Writer
	// grpcLis and httpLis are bound first, then handed to the server.
	grpcLis, httpLis net.Listener
}

// NewLogger returns the process logger the configuration asks for.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// New builds a webhookd from a validated cfg. It binds the listen addresses
// before anything else, so that a start that cannot serve fails before it
// creates a file or writes to a database. notice receives the one-time
// message with a generated admin token on a first start, from Run once the
// listeners are up; when nil, the token is logged instead.
func New(ctx context.Context, cfg Config, logger *slog.Logger, notice io.Writer) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, logger: logger, notice: notice}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.grpcLis, err = listen("grpc-addr", cfg.GRPCAddr); err != nil {
		return nil, err
	}
	if a.httpLis, err = listen("http-addr", cfg.HTTPAddr); err != nil {
		return nil, err
	}

	dbURL, err := cfg.databaseURL()
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("--data-dir: %w", err)
		}
	}
	keys, err := encryptionKeys(ctx, cfg, dbURL, logger)
	if err != nil {
		return nil, err
	}
	if a.store, err = store.Open(ctx, store.Config{DatabaseURL: dbURL, Logger: logger, Secrets: keys, MaxConns: cfg.DatabaseMaxConns}); err != nil {
		return nil, err
	}
	if err := reencryptSecrets(ctx, a.store, keys, logger); err != nil {
		return nil, err
	}
	if err := seedEventTypes(ctx, a.store); err != nil {
		return nil, err
	}
	if a.redis, err = worker.OpenRedis(ctx, worker.RedisConfig{URL: cfg.RedisURL, Cluster: cfg.RedisCluster, Logger: logger}); err != nil {
		return nil, err
	}
	schedule, err := worker.NewSchedule(a.redis.Client, worker.ScheduleConfig{
		Prefix: cfg.RedisPrefix, Shards: cfg.scheduleShards(), AnnounceWithin: cfg.PollInterval,
	})
	if err != nil {
		return nil, err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ids := webhookd.NewIDGenerator(nil)
	if cfg.Roles.Worker {
		if a.engine, err = newEngine(cfg, a.store, schedule, registry, ids, logger); err != nil {
			return nil, err
		}
		if cfg.Retention > 0 {
			a.retention, err = worker.NewRetention(worker.RetentionConfig{
				Store: a.store, Redis: a.redis.Client, LeaseKey: cfg.RedisPrefix + ":retention-lease",
				Logger: logger.With("component", "retention"), Registerer: registry, MaxAge: cfg.Retention,
			})
			if err != nil {
				return nil, err
			}
		}
	}

	srvCfg := server.Config{
		GRPCAddr:   cfg.GRPCAddr,
		HTTPAddr:   cfg.HTTPAddr,
		Logger:     logger,
		Ready:      a.ready,
		Metrics:    promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		Registerer: registry,
		// Room for the largest payload twice over (JSON escaping can grow
		// it) plus the rest of the request.
		MaxRequestBytes: 2*cfg.MaxPayloadBytes + 64<<10,
		HTTPMaxConns:    cfg.HTTPMaxConns,
		// An answer may take as long as reading the request and a test
		// event's wait, the longest call.
		HTTPWriteTimeout: max(server.DefaultHTTPWriteTimeout, server.DefaultHTTPReadTimeout+testEventWait(cfg)+10*time.Second),
	}
	srvCfg.TLS = cfg.TLS
	// With the worker role, the engine takes new deliveries itself (see
	// worker.Engine.Enqueue); without it, they go to the schedule for
	// the workers of other processes.
	var queue server.DeliveryQueue = scheduleQueue{schedule}
	if a.engine != nil {
		queue = a.engine
	}
	if cfg.Roles.API {
		a.listeners, err = worker.NewListeners(worker.ListenersConfig{
			Store:    a.store,
			Schedule: schedule,
			Retry:    retryPolicy(cfg),
			IDs:      ids,
			Logger:   logger.With("component", "listeners"),
			// Room for the listener's own request timeout and the network.
			AnswerTimeout: cfg.RequestTimeout + 15*time.Second,
			PollInterval:  cfg.PollInterval,
		})
		if err != nil {
			return nil, err
		}
		srvCfg.Webhooks, err = server.NewWebhookService(server.WebhookServiceConfig{
			Store:                  a.store,
			Logger:                 logger,
			IDs:                    ids,
			Queue:                  queue,
			AllowHTTPEndpoints:     cfg.AllowHTTPEndpoints,
			MaxPayloadBytes:        cfg.MaxPayloadBytes,
			SecretGracePeriod:      cfg.SecretGracePeriod,
			MaxEndpointsPerAccount: cfg.MaxEndpointsPerAccount,
			TestEventWait:          testEventWait(cfg),
			Attempts:               attemptWatcher(a.engine),
			Listeners:              a.listeners,
		})
		if err != nil {
			return nil, err
		}
		if srvCfg.Dashboard, err = web.Handler(web.Config{FrameAncestors: cfg.DashboardFrameAncestors}); err != nil {
			return nil, err
		}
		if srvCfg.Admin, err = server.NewAdminService(server.AdminServiceConfig{
			Store: a.store, IDs: ids,
			DashboardURL:        dashboardURL(cfg.DashboardURL, a.httpLis.Addr()),
			PortalSessionMaxTTL: cfg.PortalSessionMaxTTL,
		}); err != nil {
			return nil, err
		}
		srvCfg.Auth = server.NewAuthenticator(a.store, cfg.AdminToken)
		srvCfg.RateLimit, err = server.NewRateLimiter(server.RateLimitConfig{
			Rate:   cfg.RateLimit,
			Burst:  cfg.RateBurst,
			Redis:  a.redis.Client,
			Prefix: cfg.RedisPrefix,
			Logger: logger,
		})
		if err != nil {
			return nil, err
		}
		srvCfg.AuthFailures, err = server.NewAuthFailureLimiter(server.AuthFailureConfig{
			Rate: cfg.AuthFailureRate, Burst: cfg.AuthFailureBurst, TrustedProxies: cfg.TrustedProxies, Registerer: registry,
		})
		if err != nil {
			return nil, err
		}
	}
	// The server owns the listeners from here on, failing or not.
	srvCfg.GRPCListener, srvCfg.HTTPListener = a.grpcLis, a.httpLis
	a.grpcLis, a.httpLis = nil, nil
	if a.server, err = server.New(ctx, srvCfg); err != nil {
		return nil, err
	}
	return a, nil
}

// listen binds one of the listen addresses, naming its setting on failure.
func listen(flagName, addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--%s (%s): %w", flagName, envName(flagName), err)
	}
	return l, nil
}

// testEventWait is how long SendTestEvent with wait waits for its attempt:
// the request timeout plus room for a busy queue.
func testEventWait(cfg Config) time.Duration { return cfg.RequestTimeout + 10*time.Second }

// attemptWatcher is the engine as the API's attempt watcher, or none
// without the worker role (a nil *Engine must not become a non-nil
// interface).
func attemptWatcher(e *worker.Engine) server.AttemptWatcher {
	if e == nil {
		return nil
	}
	return e
}

// scheduleQueue puts new deliveries in the schedule alone, for a process
// without the worker role: it has no use for the event.
type scheduleQueue struct{ schedule *worker.Schedule }

func (q scheduleQueue) Enqueue(ctx context.Context, _ *webhookd.Event, deliveries []*webhookd.Delivery) error {
	return q.schedule.Add(ctx, deliveries)
}

// newEngine builds the delivery engine of the worker role.
func newEngine(cfg Config, st store.Store, schedule *worker.Schedule, reg prometheus.Registerer, ids *webhookd.IDGenerator, logger *slog.Logger) (*worker.Engine, error) {
	sender, err := worker.NewSender(worker.SenderConfig{
		Timeout:    cfg.RequestTimeout,
		AllowCIDRs: cfg.AllowCIDRs,
		// A host gets as many sockets as an endpoint may have attempts.
		MaxConnsPerHost:     cfg.EndpointConcurrency,
		MaxIdleConnsPerHost: cfg.EndpointConcurrency,
	})
	if err != nil {
		return nil, err
	}
	metrics, err := worker.NewMetrics(reg, schedule, time.Now)
	if err != nil {
		return nil, err
	}
	return worker.NewEngine(worker.EngineConfig{
		Store:             st,
		Schedule:          schedule,
		Sender:            sender,
		Retry:             retryPolicy(cfg),
		Logger:            logger.With("component", "worker"),
		IDs:               ids,
		Metrics:           metrics,
		Workers:           cfg.Workers,
		PerEndpoint:       cfg.EndpointConcurrency,
		Lease:             cfg.Lease,
		PollInterval:      cfg.PollInterval,
		ReconcileInterval: cfg.ReconcileInterval,
		AutoDisableAfter:  cfg.AutoDisableAfter,
		PrivateSchedule:   cfg.RedisURL == "", // the embedded Redis
	})
}

// retryPolicy is the default policy with the configured schedule.
func retryPolicy(cfg Config) worker.RetryPolicy {
	retry := worker.DefaultRetryPolicy()
	retry.Schedule = cfg.RetrySchedule
	return retry
}

// ready checks the database and the schedule.
func (a *App) ready(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := a.redis.Ping(ctx); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// HTTPAddr and GRPCAddr are the bound listen addresses.
func (a *App) HTTPAddr() string { return a.server.HTTPAddr() }

// GRPCAddr is the bound gRPC address.
func (a *App) GRPCAddr() string { return a.server.GRPCAddr() }

// Run serves and delivers until ctx is done, then shuts down in order:
//
//  1. gRPC health goes NOT_SERVING, so that balancers stop sending;
//  2. the HTTP server stops accepting and finishes its requests in flight
//     (REST calls travel through the gRPC server, so HTTP drains first);
//  3. the gRPC server stops gracefully (server.Serve does 1 to 3, within
//     --shutdown-timeout);
//  4. the engine stops claiming, hands its queued deliveries back to the
//     schedule and lets the attempts in flight finish and be recorded, and
//     the retention purger stops;
//  5. the schedule and the database are closed (Close).
//
// The engine runs until the servers have stopped, not only until ctx ends:
// a request still being answered may need it, such as a test event sent
// with wait, whose attempt the engine makes. The listeners of webhookctl
// listen end with ctx, at step 1, because gRPC's graceful stop waits for
// their streams.
//
// A generated admin key is created here, with the listeners bound and
// nothing left that can fail the start, and its token shown at once: a key
// committed by a start that then failed would never be shown, and the next
// start, finding one, would print none.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	if err := bootstrapAdmin(ctx, a.store, a.cfg.AdminToken, a.logger, a.notice); err != nil {
		return err
	}
	if a.cfg.PprofAddr != "" {
		srv, _, err := servePprof(a.cfg.PprofAddr, a.logger)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	// workCtx ends once the servers have stopped (step 4).
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	engineDone := make(chan error, 1)
	if a.engine != nil {
		go func() { engineDone <- a.engine.Run(workCtx) }()
	} else {
		engineDone <- nil
	}
	retentionDone := make(chan error, 1)
	if a.retention != nil {
		go func() { retentionDone <- a.retention.Run(workCtx) }()
	} else {
		retentionDone <- nil
	}
	listenCtx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	listenersDone := make(chan error, 1)
	if a.listeners != nil {
		// Stopping ends every listener's stream, which the gRPC server's
		// graceful stop waits for.
		go func() { listenersDone <- a.listeners.Run(listenCtx) }()
	} else {
		listenersDone <- nil
	}
	err := a.server.Serve(ctx, a.cfg.ShutdownTimeout)
	stopListening() // Serve returns early when a listener fails
	stopWork()
	if listenersErr := <-listenersDone; err == nil {
		err = listenersErr
	}
	if engineErr := <-engineDone; err == nil {
		err = engineErr
	}
	if retentionErr := <-retentionDone; err == nil {
		err = retentionErr
	}
	a.logger.Info("stopped")
	return err
}

// Close releases the schedule and the database; servers must be stopped.
func (a *App) Close() {
	for _, l := range []*net.Listener{&a.grpcLis, &a.httpLis} {
		if *l != nil {
			_ = (*l).Close()
			*l = nil
		}
	}
	if a.redis != nil {
		if err := a.redis.Close(); err != nil {
			a.logger.Warn("closing redis", "error", err)
		}
		a.redis = nil
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.logger.Warn("closing database", "error", err)
		}
		a.store = nil
	}
}

// seedEventTypes writes the built-in catalog on every start.
func seedEventTypes(ctx context.Context, st store.EventTypes) error {
	types := webhookd.BuiltinEventTypes()
	now := time.Now().UTC()
	for _, t := range types {
		t.CreateTime = now
	}
	if err := st.SaveEventTypes(ctx, types); err != nil {
		return fmt.Errorf("writing the event type catalog: %w", err)
	}
	return nil
}

// bootstrapAdmin leaves the operator a working credential on a first start:
// with WEBHOOKD_ADMIN_TOKEN set there is one already; otherwise, when the
// database holds no active internal key, one is created and its token
// written to notice, once — only its hash is stored.
func bootstrapAdmin(ctx context.Context, st store.APIKeys, adminToken string, logger *slog.Logger, notice io.Writer) error {
	if adminToken != "" {
		logger.InfoContext(ctx, "admin token accepted from WEBHOOKD_ADMIN_TOKEN")
		return nil
	}
	n, err := st.CountInternalAPIKeys(ctx)
	if err != nil {
		return fmt.Errorf("counting internal keys: %w", err)
	}
	if n > 0 {
		return nil
	}
	token := webhookd.NewAPIToken()
	key := &webhookd.APIKey{
		ID:          webhookd.NewIDGenerator(nil).New(webhookd.PrefixAPIKey),
		Internal:    true,
		DisplayName: "generated on first start",
		TokenHash:   webhookd.HashAPIToken(token),
		CreateTime:  time.Now().UTC(),
	}
	if err := st.CreateAPIKey(ctx, key); err != nil {
		return fmt.Errorf("creating the first admin key: %w", err)
	}
	if notice == nil {
		// Structured logs only (e.g. --log-format json): a free-text banner
		// would break the stream, so the token goes out as one log record.
		logger.WarnContext(ctx, "generated an admin API key on this first start; the token is shown once",
			"token", token, "key", key.ID)
		return nil
	}
	_, err = fmt.Fprintf(notice, "\n"+
		"  webhookd generated an admin API key on this first start. It is shown once:\n\n"+
		"    %s\n\n"+
		"  Use it as 'Authorization: Bearer <token>'. Keep it safe; create more keys with\n"+
		"  POST /v1/apiKeys and revoke this one with POST /v1/apiKeys/%s:revoke.\n\n",
		token, key.ID)
	return err
}

// dashboardURL is the configured dashboard address or, by default, the HTTP
// listener's: a wildcard address becomes localhost, which is where a link is
// most likely opened from when the operator named no public address.
func dashboardURL(configured *url.URL, addr net.Addr) string {
	if configured != nil {
		return configured.String()
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
