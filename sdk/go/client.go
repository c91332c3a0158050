package webhookd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// Client calls webhookd's gRPC API with one API key. It is safe for
// concurrent use; make one per key and process, and Close it when done.
//
// Every unary call made through it, by its own methods or through
// [Client.WebhookService] and [Client.AdminService], carries the key, is
// retried according to the client's [RetryPolicy], and fails with an
// [*Error].
type Client struct {
	conn     *grpc.ClientConn
	webhooks webhooksv1.WebhookServiceClient
	admin    webhooksv1.AdminServiceClient
}

// Option configures a [Client] made by [New].
type Option func(*options)

type options struct {
	tlsConfig   *tls.Config
	plaintext   bool
	retry       RetryPolicy
	onRetry     func(RetryEvent)
	dialOptions []grpc.DialOption
}

// WithTLSConfig sets the TLS configuration of the connection, e.g. to trust
// a private CA. The default is the system's roots with the address's host as
// the server name. Given, it applies to loopback addresses too.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(o *options) { o.tlsConfig = cfg }
}

// WithPlaintext connects without TLS even when the address is not loopback.
// The API key then crosses the network in the clear: use it only on a
// network you trust (a sidecar, a private overlay that encrypts itself).
// Loopback addresses (127.0.0.0/8, ::1, localhost) are plaintext without it.
func WithPlaintext() Option {
	return func(o *options) { o.plaintext = true }
}

// WithRetryPolicy replaces [DefaultRetryPolicy]. RetryPolicy{MaxAttempts: 1}
// turns retries off.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(o *options) { o.retry = p }
}

// WithRetryHook calls fn before every retry, with the failure and the delay
// before the next attempt: for logging or metrics. fn must not block.
func WithRetryHook(fn func(RetryEvent)) Option {
	return func(o *options) { o.onRetry = fn }
}

// WithDialOptions adds gRPC dial options (interceptors, keepalive, a custom
// dialer). The client's own credentials and retry interceptor stay in place.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// New makes a client of the webhookd at address ("host:port" of its gRPC
// listener, or a gRPC target such as "dns:///host:port") that authenticates
// with apiKey (a whk_… token). It connects
// lazily, on the first call, so a webhookd that is not up yet is no error
// here.
func New(address, apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("webhookd: apiKey is empty")
	}
	// A gRPC target with a resolver scheme ("dns:///host:port") names the
	// host after it.
	hostPort := address
	if _, after, ok := strings.Cut(address, ":///"); ok {
		hostPort = after
	}
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, fmt.Errorf("webhookd: address %q: want host:port: %w", address, err)
	}
	o := options{retry: DefaultRetryPolicy()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.retry.Validate(); err != nil {
		return nil, err
	}

	// Loopback is plaintext unless TLS was configured explicitly (a local
	// TLS-terminating proxy, a test server).
	plaintext := o.plaintext || (isLoopback(host) && o.tlsConfig == nil)
	var transport credentials.TransportCredentials
	if plaintext {
		transport = insecure.NewCredentials()
	} else {
		cfg := o.tlsConfig
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		transport = credentials.NewTLS(cfg)
	}
	r := retrier{policy: o.retry, onRetry: o.onRetry, newKey: newIdempotencyKey}
	dial := append([]grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		grpc.WithPerRPCCredentials(apiKeyCredentials{token: apiKey, requireTLS: !plaintext}),
		grpc.WithChainUnaryInterceptor(r.intercept),
		grpc.WithChainStreamInterceptor(wrapStreamErrors),
		grpc.WithUserAgent("webhookd-go/" + Version),
	}, o.dialOptions...)
	conn, err := grpc.NewClient(address, dial...)
	if err != nil {
		return nil, fmt.Errorf("webhookd: %w", err)
	}
	return &Client{
		conn:     conn,
		webhooks: webhooksv1.NewWebhookServiceClient(conn),
		admin:    webhooksv1.NewAdminServiceClient(conn),
	}, nil
}

// Close closes the connection. Calls in flight fail with codes.Canceled.
func (c *Client) Close() error { return c.conn.Close() }

// WebhookService is the generated client of webhooks.v1.WebhookService
// (event types, endpoints, events, deliveries) over the client's connection,
// for the calls the client has no method of its own for.
func (c *Client) WebhookService() webhooksv1.WebhookServiceClient { return c.webhooks }

// AdminService is the generated client of webhooks.v1.AdminService
// (accounts, API keys). It needs an internal key.
func (c *Client) AdminService() webhooksv1.AdminServiceClient { return c.admin }

// PublishEvent publishes an event. When req has no idempotency key the
// client gives it one (req itself is not modified), the same on every retry
// of this call, so that a publish whose answer was lost is not stored twice.
// Set req.IdempotencyKey yourself to make a publish idempotent across
// processes too (e.g. the id of the row that caused the event).
func (c *Client) PublishEvent(ctx context.Context, req *webhooksv1.PublishEventRequest, opts ...grpc.CallOption) (*webhooksv1.Event, error) {
	return c.webhooks.PublishEvent(ctx, req, opts...)
}

// apiKeyCredentials puts the API key on every call as webhookd expects it,
// "authorization: Bearer whk_…".
type apiKeyCredentials struct {
	token      string
	requireTLS bool
}

func (k apiKeyCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + k.token}, nil
}

// RequireTransportSecurity makes gRPC refuse to send the key over a
// plaintext connection unless plaintext was chosen (loopback or
// WithPlaintext).
func (k apiKeyCredentials) RequireTransportSecurity() bool { return k.requireTLS }

// isLoopback reports whether host names this machine: plaintext there
// exposes the key to no network.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
