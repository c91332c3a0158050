package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	// Registers protoc-gen-openapiv2/options/annotations.proto, which the
	// gen module's code imports only by name (see gen/internal/openapiv2opts),
	// so that gRPC reflection can serve every file the API's files import.
	_ "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2/options"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/webhookd/webhookd/gen/openapiv2"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	webhooksv1gw "github.com/webhookd/webhookd/server/gateway/webhooks/v1"
)

// Config configures New.
type Config struct {
	// GRPCAddr and HTTPAddr are the listen addresses; port 0 picks a free port.
	GRPCAddr string
	HTTPAddr string
	Logger   *slog.Logger
	Webhooks *WebhookService
	Admin    *AdminService
	Auth     *Authenticator
	// Ready reports whether the service can serve (database and schedule
	// reachable); /readyz and gRPC health follow it. Nil means always ready.
	Ready func(context.Context) error
	// MaxRequestBytes bounds request bodies on both listeners: larger gRPC
	// messages get RESOURCE_EXHAUSTED, larger REST bodies HTTP 413.
	MaxRequestBytes int
	// RateLimit limits calls per account after authentication; nil does
	// not limit.
	RateLimit *RateLimiter
	// AuthFailures limits failed authentication per client address; nil
	// does not limit.
	AuthFailures *AuthFailureLimiter
	// ReadinessInterval is how often gRPC health re-checks Ready; 5s when zero.
	ReadinessInterval time.Duration
	// Metrics serves /metrics (Prometheus); nil leaves it out.
	Metrics http.Handler
	// TLS, when set, makes both listeners serve TLS with its
	// Certificates; nil serves plaintext.
	TLS *tls.Config
	// Dashboard serves every path the API and health checks do not (the
	// customer dashboard, package web) when the API is served; nil leaves
	// it out.
	Dashboard http.Handler

	// GRPCListener and HTTPListener, when set, are served instead of
	// listening on GRPCAddr and HTTPAddr: webhookd binds its addresses
	// before it touches its data, so that an address it cannot use fails
	// the start with nothing created. New owns them from the call on, and
	// closes them if it fails.
	GRPCListener net.Listener
	HTTPListener net.Listener
	// Registerer receives the server's own series (recovered panics); nil
	// keeps them unregistered.
	Registerer prometheus.Registerer

	// Bounds on client connections (transport_limits.go); zero takes the
	// default of the same name, e.g. DefaultHTTPReadTimeout.
	//
	// HTTPReadHeaderTimeout and HTTPReadTimeout bound reading a request's
	// headers and the whole request; HTTPWriteTimeout bounds a request from
	// its headers to the end of its answer; HTTPIdleTimeout closes idle
	// keep-alive connections.
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
	// HTTPMaxHeaderBytes bounds a request's headers (431 beyond).
	HTTPMaxHeaderBytes int
	// HTTPMaxConns bounds the HTTP connections open at once; further
	// clients wait to be accepted.
	HTTPMaxConns int
	// GRPCHandshakeTimeout bounds a new gRPC connection's setup;
	// GRPCMaxConnectionIdle closes a connection without calls for this
	// long; GRPCKeepaliveTime and GRPCKeepaliveTimeout ping silent
	// connections and close those that do not answer; clients pinging more
	// often than GRPCKeepaliveMinTime are disconnected.
	GRPCHandshakeTimeout  time.Duration
	GRPCMaxConnectionIdle time.Duration
	GRPCKeepaliveTime     time.Duration
	GRPCKeepaliveTimeout  time.Duration
	GRPCKeepaliveMinTime  time.Duration
}

// Validate reports the first missing or invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.GRPCAddr == "" && c.GRPCListener == nil:
		return errors.New("server: GRPCAddr is required")
	case c.HTTPAddr == "" && c.HTTPListener == nil:
		return errors.New("server: HTTPAddr is required")
	case c.Logger == nil:
		return errors.New("server: Logger is required")
	case (c.Webhooks == nil) != (c.Admin == nil):
		return errors.New("server: Webhooks and Admin go together (both for the api role, neither for a worker-only process)")
	case c.Webhooks != nil && c.Auth == nil:
		return errors.New("server: Auth is required with the API")
	case c.MaxRequestBytes <= 0:
		return errors.New("server: MaxRequestBytes must be positive")
	case c.TLS != nil && len(c.TLS.Certificates) == 0:
		return errors.New("server: TLS needs Certificates")
	case c.HTTPReadHeaderTimeout < 0 || c.HTTPReadTimeout < 0 || c.HTTPWriteTimeout < 0 || c.HTTPIdleTimeout < 0 ||
		c.GRPCHandshakeTimeout < 0 || c.GRPCMaxConnectionIdle < 0 || c.GRPCKeepaliveTime < 0 || c.GRPCKeepaliveTimeout < 0 || c.GRPCKeepaliveMinTime < 0:
		return errors.New("server: timeouts must not be negative")
	case c.HTTPMaxHeaderBytes < 0 || c.HTTPMaxConns < 0:
		return errors.New("server: HTTPMaxHeaderBytes and HTTPMaxConns must not be negative")
	}
	return nil
}

// Server owns webhookd's two listeners: gRPC (the API, health, reflection)
// and HTTP (the REST gateway, /healthz, /readyz, /openapi.json).
type Server struct {
	cfg        Config
	grpcLis    net.Listener
	httpLis    net.Listener
	grpcServer *grpc.Server
	httpServer *http.Server
	health     *health.Server
}

// New binds both listeners (so their addresses are known before Serve) and
// builds the servers.
// grpcStreamWorkers is how many goroutines serve gRPC calls before more
// are started: as many as make bench's concurrent publishers, twice over.
const grpcStreamWorkers = 64

func New(ctx context.Context, cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, health: health.NewServer(), grpcLis: cfg.GRPCListener, httpLis: cfg.HTTPListener}
	closeListeners := func() {
		for _, l := range []net.Listener{s.grpcLis, s.httpLis} {
			if l != nil {
				_ = l.Close()
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		closeListeners()
		return nil, err
	}
	cfg.setTransportDefaults()
	s.cfg = cfg
	var err error
	if s.grpcLis == nil {
		if s.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
			closeListeners()
			return nil, fmt.Errorf("grpc-addr %s: %w", cfg.GRPCAddr, err)
		}
	}
	if s.httpLis == nil {
		if s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			closeListeners()
			return nil, fmt.Errorf("http-addr %s: %w", cfg.HTTPAddr, err)
		}
	}
	s.httpLis = netutil.LimitListener(s.httpLis, cfg.HTTPMaxConns)

	recovery, err := newPanicRecovery(cfg.Logger, cfg.Registerer)
	if err != nil {
		closeListeners()
		return nil, err
	}
	recoverUnary, recoverStream := recovery.interceptors()
	errUnary, errStream := errorInterceptors(cfg.Logger)
	unary := []grpc.UnaryServerInterceptor{recoverUnary}
	stream := []grpc.StreamServerInterceptor{recoverStream}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes),
		// Decodes the API's requests so that a failure names the field
		// (decode.go); other services decode as with gRPC's default.
		grpc.ForceServerCodecV2(newRequestCodec()),
		// Calls are served by long-lived goroutines (more start when all
		// are busy) instead of one new goroutine each, whose stack grew
		// several times over in every call: a fifth of the CPU gRPC took
		// under make bench's publishing load.
		grpc.NumStreamWorkers(grpcStreamWorkers),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	opts = append(opts, cfg.grpcConnectionOptions()...)
	if cfg.Auth != nil {
		// Errors are mapped before authentication runs so that its
		// failures are mapped the same way as handler failures.
		unary = append(unary, errUnary)
		stream = append(stream, errStream)
		if cfg.AuthFailures != nil {
			// Around authentication: it sees whether authentication failed.
			failUnary, failStream := cfg.AuthFailures.interceptors()
			unary, stream = append(unary, failUnary), append(stream, failStream)
		}
		authUnary, authStream := cfg.Auth.interceptors()
		unary, stream = append(unary, authUnary), append(stream, authStream)
		if cfg.RateLimit != nil {
			// After authentication: the limit is the caller's account's.
			rateUnary, rateStream := cfg.RateLimit.interceptors()
			unary, stream = append(unary, rateUnary), append(stream, rateStream)
		}
	}
	// Panics are recovered outermost, whichever interceptor or handler
	// panicked. The same chain serves the gateway's calls (inprocess.go).
	chain := grpcChain{unary: chainUnary(unary), stream: chainStream(stream)}
	opts = append(opts, grpc.UnaryInterceptor(chain.unary), grpc.StreamInterceptor(chain.stream))
	s.grpcServer = grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(s.grpcServer, s.health)
	reflection.Register(s.grpcServer)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)

	mux := http.NewServeMux()
	if cfg.Webhooks != nil {
		// Registered through decodeCheckedService, so that every request is
		// decoded and its strings checked before interceptors and handlers.
		s.grpcServer.RegisterService(decodeCheckedService(&webhooksv1.WebhookService_ServiceDesc, cfg.Logger), cfg.Webhooks)
		s.grpcServer.RegisterService(decodeCheckedService(&webhooksv1.AdminService_ServiceDesc, cfg.Logger), cfg.Admin)
		gateway, err := s.newGateway(ctx, chain)
		if err != nil {
			_ = s.grpcLis.Close()
			_ = s.httpLis.Close()
			return nil, err
		}
		// A body is read only for a caller with a valid key.
		var api http.Handler = s.authenticateBeforeBody(limitRequestBody(gateway, cfg.MaxRequestBytes))
		if cfg.AuthFailures != nil {
			api = cfg.AuthFailures.httpMiddleware(api)
		}
		mux.Handle("/v1/", api)
		mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(openapiv2.Document)
		})
		if cfg.Dashboard != nil {
			mux.Handle("/", cfg.Dashboard)
		}
	}
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	s.httpServer = &http.Server{
		TLSConfig:         cfg.TLS,
		Handler:           recovery.middleware(mux),
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    cfg.HTTPMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// newGateway builds the REST gateway on an in-process connection to the
// API's handlers, so REST calls pass the same interceptors as gRPC calls.
func (s *Server) newGateway(ctx context.Context, chain grpcChain) (http.Handler, error) {
	conn := newInProcessConn(chain, s.cfg.Logger)
	conn.register(&webhooksv1.WebhookService_ServiceDesc, s.cfg.Webhooks)
	conn.register(&webhooksv1.AdminService_ServiceDesc, s.cfg.Admin)
	mux := runtime.NewServeMux(
		runtime.WithErrorHandler(gatewayErrorHandler),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{
			Marshaler: bodyDecoding{&runtime.JSONPb{
				MarshalOptions: protojson.MarshalOptions{EmitDefaultValues: true},
				// Unknown fields are refused, so a misspelt field is an
				// error rather than a silently ignored setting.
				UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
			}},
		}),
	)
	if err := webhooksv1gw.RegisterWebhookServiceHandlerClient(ctx, mux, webhooksv1.NewWebhookServiceClient(conn)); err != nil {
		return nil, err
	}
	if err := webhooksv1gw.RegisterAdminServiceHandlerClient(ctx, mux, webhooksv1.NewAdminServiceClient(conn)); err != nil {
		return nil, err
	}
	return &restPublish{gateway: mux, conn: conn, svc: s.cfg.Webhooks}, nil
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.cfg.Logger.WarnContext(ctx, "not ready", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

// followReadiness keeps the gRPC health status in step with Ready, so gRPC
// clients and balancers see what /readyz reports.
func (s *Server) followReadiness(ctx context.Context) {
	interval := s.cfg.ReadinessInterval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		st := healthpb.HealthCheckResponse_SERVING
		if s.cfg.Ready != nil {
			checkCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if err := s.cfg.Ready(checkCtx); err != nil && ctx.Err() == nil {
				st = healthpb.HealthCheckResponse_NOT_SERVING
			}
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		s.health.SetServingStatus("", st)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// GRPCAddr is the bound gRPC address.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// Serve serves both listeners until ctx is done or one of them fails, then
// shuts down gracefully within shutdownTimeout.
func (s *Server) Serve(ctx context.Context, shutdownTimeout time.Duration) error {
	errc := make(chan error, 2)
	go func() { errc <- s.grpcServer.Serve(s.grpcLis) }()
	go func() {
		serve := s.httpServer.Serve
		if s.cfg.TLS != nil {
			// The certificates are in TLSConfig; ServeTLS also offers h2.
			serve = func(l net.Listener) error { return s.httpServer.ServeTLS(l, "", "") }
		}
		if err := serve(s.httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			return
		}
		errc <- nil
	}()
	healthCtx, stopHealth := context.WithCancel(ctx)
	healthDone := make(chan struct{})
	go func() { defer close(healthDone); s.followReadiness(healthCtx) }()
	s.cfg.Logger.InfoContext(ctx, "serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	stopHealth()
	<-healthDone
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	s.shutdown(shutdownCtx)
	return serveErr
}

// shutdown stops in an order that loses no accepted request: health goes
// NOT_SERVING first so balancers stop sending; HTTP drains (REST calls run
// the API's handlers in process, see inprocess.go); gRPC then finishes its
// in-flight calls (or is stopped hard when the deadline passes).
func (s *Server) shutdown(ctx context.Context) {
	s.health.Shutdown()
	if err := s.httpServer.Shutdown(ctx); err != nil {
		s.cfg.Logger.Warn("http shutdown incomplete", "error", err)
	}
	done := make(chan struct{})
	go func() { s.grpcServer.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpcServer.Stop()
		<-done
	}
}
