package app

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/web"
	"github.com/webhookd/webhookd/worker"
)

// Config is everything an operator can set. Every field has a flag and an
// environment twin: --http-addr and WEBHOOKD_HTTP_ADDR, and so on; a flag
// given on the command line wins over the environment.
type Config struct {
	HTTPAddr string
	GRPCAddr string
	// TLSCertFile and TLSKeyFile, given together, make both listeners
	// serve TLS (tls.go); without them both serve plaintext.
	TLSCertFile string
	TLSKeyFile  string
	// TLS is the listeners' TLS configuration, loaded from TLSCertFile and
	// TLSKeyFile by ParseConfig; nil serves plaintext.
	TLS *tls.Config
	// DataDir holds the SQLite file of the embedded default.
	DataDir string
	// DatabaseURL selects the database; empty means SQLite in DataDir.
	DatabaseURL string
	// RedisURL selects the Redis of the schedule; empty means embedded.
	RedisURL string
	// RedisCluster makes RedisURL the seed of a Redis Cluster.
	RedisCluster bool
	// RedisPrefix starts every Redis key, so several installations can
	// share one Redis.
	RedisPrefix string
	// ScheduleShards is how many sorted sets the schedule is split over;
	// zero picks 1 on a standalone Redis and DefaultClusterShards on a
	// cluster.
	ScheduleShards int
	// AdminToken, when set, is accepted as an internal credential. It is read
	// from the environment only (WEBHOOKD_ADMIN_TOKEN), never from a flag,
	// so it does not show in process listings.
	AdminToken string
	// EncryptionKeys encrypt endpoint secrets at rest: id:base64key
	// entries, the first encrypts, all decrypt (encryption.go). Nil uses
	// a key file beside a SQLite database; PostgreSQL requires keys.
	EncryptionKeys *store.Keyring
	// RateLimit is each account's sustained API calls per second with a
	// customer key (0: unlimited), RateBurst how many an idle account may
	// make at once. Internal keys are not limited.
	RateLimit          float64
	RateBurst          int
	AllowHTTPEndpoints bool
	MaxPayloadBytes    int
	// MaxEndpointsPerAccount is the most endpoints one account may have.
	MaxEndpointsPerAccount int
	// DatabaseMaxConns bounds this process's PostgreSQL connections.
	DatabaseMaxConns  int
	SecretGracePeriod time.Duration
	ShutdownTimeout   time.Duration
	LogLevel          slog.Level
	LogFormat         string
	// PprofAddr, when set, serves net/http/pprof on a loopback address
	// (pprof.go): the hidden --pprof-addr, for profiling.
	PprofAddr string

	// Roles says what this process does: the api role serves gRPC and
	// REST, the worker role delivers; the default runs both.
	Roles Roles
	// Workers bounds concurrent delivery attempts in this process.
	Workers int
	// EndpointConcurrency bounds concurrent attempts to one endpoint.
	EndpointConcurrency int
	// RequestTimeout bounds one attempt: connect, send, response.
	RequestTimeout time.Duration
	// RetrySchedule is the delays between attempts (comma-separated on
	// the command line).
	RetrySchedule []time.Duration
	// AllowCIDRs lists address ranges the SSRF guard lets through (e.g.
	// 127.0.0.0/8 for local development), masked.
	AllowCIDRs []netip.Prefix
	// PollInterval and ReconcileInterval pace the delivery engine.
	PollInterval      time.Duration
	ReconcileInterval time.Duration
	// Lease is how long a claimed delivery is hidden from other workers; a
	// delivery whose worker died is attempted again once it ends.
	Lease time.Duration
	// AutoDisableAfter disables an endpoint whose every attempt has failed
	// for this long; zero never does.
	AutoDisableAfter time.Duration
	// Retention is how long events, deliveries and attempts are kept;
	// zero keeps them forever.
	Retention time.Duration
	// DashboardFrameAncestors is the dashboard's CSP frame-ancestors list:
	// who may embed it in a frame ('none' by default).
	DashboardFrameAncestors string
	// DashboardURL is the dashboard's public address, the base of portal
	// session links; nil derives it from the HTTP listener's address.
	DashboardURL *url.URL
	// PortalSessionMaxTTL bounds how long a portal session may last.
	PortalSessionMaxTTL time.Duration

	// HTTPMaxConns bounds the HTTP connections open at once, so that slow
	// clients cannot take every file descriptor.
	HTTPMaxConns int
	// AuthFailureRate is how many failed authentications per second one
	// client address may make after AuthFailureBurst at once (0: no limit);
	// past it the address's calls are refused before any key lookup.
	AuthFailureRate  float64
	AuthFailureBurst int
	// TrustedProxies lists the address ranges of proxies whose
	// X-Forwarded-For names the client, masked.
	TrustedProxies []netip.Prefix
}

// envPrefix starts the environment twin of every flag.
const envPrefix = "WEBHOOKD_"

// envName is the environment twin of a flag: --max-payload-bytes → WEBHOOKD_MAX_PAYLOAD_BYTES.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ErrVersion is what ParseConfig returns for --version, as it returns
// flag.ErrHelp for --help: the caller prints version.String() and exits 0.
var ErrVersion = errors.New("version requested")

// versionFlag is --version. It has no environment twin: a variable that
// made every start print a version and exit would be a trap.
const versionFlag = "version"

// ParseConfig reads flags from args and their twins from getenv, then
// validates them. --help prints the usage to output. Every error names the
// setting as --flag (WEBHOOKD_FLAG), so that an operator can fix either.
func ParseConfig(args []string, getenv func(string) string, output io.Writer) (Config, error) {
	var c Config
	fs := c.flagSet(output)
	showVersion := fs.Bool(versionFlag, false, "print the version of webhookd and exit")
	usage := fs.Usage
	// The flag package prints its own error and the whole usage on a bad
	// flag; webhookd prints one line per problem instead (main).
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	valueErr, restore := recordValueErrors(fs)
	err := fs.Parse(args)
	restore()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return c, err
		}
		return c, parseError(fs, err, *valueErr)
	}
	if *showVersion {
		return c, ErrVersion
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (webhookd takes flags only; webhookd --help lists them)", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == versionFlag {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, invalidValue(f, v, "from the environment", err))
			}
		}
	})
	c.AdminToken = getenv(envPrefix + "ADMIN_TOKEN")
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	if err := c.loadTLS(); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// flagSet declares every setting of c as a flag. usage is printed to output.
func (c *Config) flagSet(output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("webhookd", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "listen address of the REST API, health checks and OpenAPI document")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "127.0.0.1:9090", "listen address of the gRPC API")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", "", "PEM certificate chain both listeners serve TLS with, with --tls-key-file (default: plaintext)")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
	fs.IntVar(&c.HTTPMaxConns, "http-max-conns", server.DefaultHTTPMaxConns, "most HTTP connections open at once; further clients wait to be accepted")
	fs.StringVar(&c.DataDir, "data-dir", "webhookd-data", "directory of the embedded SQLite database")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "database: postgres://… or sqlite:///path/file.db (default: SQLite file in --data-dir)")
	fs.StringVar(&c.RedisURL, "redis-url", "", "Redis holding the delivery schedule: redis://host:port/db (default: embedded in-process server)")
	fs.BoolVar(&c.RedisCluster, "redis-cluster", false, "--redis-url names a Redis Cluster: redis://host:port?addr=host2:port2&addr=host3:port3")
	fs.IntVar(&c.ScheduleShards, "schedule-shards", 0, "sorted sets the schedule is split over, the same in every process (default: 1, or 16 on a Redis Cluster)")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", "webhookd", "prefix of every Redis key, to share one Redis between installations")
	fs.Var(keyringValue{&c.EncryptionKeys}, "encryption-keys", "keys that encrypt endpoint secrets at rest, id:base64key[,id:base64key…], the first encrypts, all decrypt; prefer the environment twin (default: a key file beside a SQLite database; required with PostgreSQL)")
	fs.Float64Var(&c.RateLimit, "rate-limit", 50, "API calls per second each account may make with customer keys (0: unlimited; internal keys are not limited)")
	fs.IntVar(&c.RateBurst, "rate-burst", 100, "API calls an idle account may make at once with customer keys")
	fs.Float64Var(&c.AuthFailureRate, "auth-failure-rate", 1, "failed authentications per second one client address may make after --auth-failure-burst; past it its calls are refused (0: unlimited)")
	fs.IntVar(&c.AuthFailureBurst, "auth-failure-burst", 20, "failed authentications one client address may make at once")
	fs.Var(prefixesValue{&c.TrustedProxies}, "trusted-proxies", "comma-separated address ranges of proxies whose X-Forwarded-For names the client (for --auth-failure-rate)")
	fs.BoolVar(&c.AllowHTTPEndpoints, "allow-http-endpoints", false, "accept plain http:// endpoint URLs (for development)")
	fs.IntVar(&c.DatabaseMaxConns, "database-max-conns", store.DefaultMaxConns, "most PostgreSQL connections this process opens; callers beyond it wait for one")
	fs.IntVar(&c.MaxPayloadBytes, "max-payload-bytes", 256<<10, "largest event payload accepted, in bytes of JSON")
	fs.IntVar(&c.MaxEndpointsPerAccount, "max-endpoints-per-account", DefaultMaxEndpointsPerAccount, "most endpoints one account may have; a publish writes one delivery per subscribed endpoint in one transaction")
	fs.DurationVar(&c.SecretGracePeriod, "secret-grace-period", 24*time.Hour, "how long a rotated-out endpoint secret keeps signing")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a graceful shutdown may take")
	c.LogLevel = slog.LevelInfo
	fs.Var(levelValue{&c.LogLevel}, "log-level", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.PprofAddr, pprofFlag, "", "loopback address to serve net/http/pprof on, for profiling (hidden)")
	c.Roles = Roles{API: true, Worker: true}
	fs.Var(rolesValue{&c.Roles}, "roles", "what this process does: api (gRPC and REST), worker (deliveries), or both")
	fs.IntVar(&c.Workers, "workers", 32, "concurrent delivery attempts in this process")
	fs.IntVar(&c.EndpointConcurrency, "endpoint-concurrency", 8, "concurrent delivery attempts to any one endpoint")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", 5*time.Second, "time an endpoint has to answer an attempt with a 2xx")
	c.RetrySchedule = []time.Duration{5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}
	fs.Var(durationsValue{&c.RetrySchedule}, "retry-schedule", "delays between attempts after a failed first attempt, each after the previous attempt")
	fs.Var(prefixesValue{&c.AllowCIDRs}, "allow-cidr", "comma-separated address ranges endpoints may resolve to although private or loopback (SSRF guard exceptions)")
	fs.DurationVar(&c.PollInterval, "poll-interval", time.Second, "the longest workers sleep before looking for due retries (they sleep until the earliest, and are woken when one is added sooner)")
	fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", 30*time.Second, "how often pending deliveries overdue by more than --lease and missing from the schedule are put back")
	fs.DurationVar(&c.AutoDisableAfter, "auto-disable-after", 5*24*time.Hour, "disable an endpoint whose every delivery attempt has failed for this long (0: never)")
	fs.DurationVar(&c.Retention, "retention", 30*24*time.Hour, "purge events, with their deliveries and attempts, older than this unless still pending (0: keep forever)")
	fs.DurationVar(&c.Lease, "lease", time.Minute, "how long a claimed delivery is hidden from other workers; after a worker dies its deliveries are retried when this ends (must exceed --request-timeout by 5s)")
	fs.Var(dashboardURLValue{&c.DashboardURL}, "dashboard-url", "the dashboard's public address, to which portal session links add their token, such as https://webhooks.example.com/ (default: http:// and the --http-addr listener)")
	fs.DurationVar(&c.PortalSessionMaxTTL, "portal-session-max-ttl", server.DefaultPortalSessionMaxTTL, "the longest a portal session (a dashboard sign-in link) may last")
	fs.StringVar(&c.DashboardFrameAncestors, "dashboard-frame-ancestors", web.DefaultFrameAncestors, "origins that may show the dashboard in a frame, a CSP frame-ancestors list such as \"'self' https://app.example.com\" ('none': no frame)")
	fs.Usage = func() {
		fmt.Fprintf(output, "Usage: webhookd [flags]\n\nEvery flag can also be set as an environment variable, e.g. --http-addr as WEBHOOKD_HTTP_ADDR.\nWEBHOOKD_ADMIN_TOKEN sets an internal credential (environment only).\n\nFlags:\n")
		printFlags(output, fs)
	}
	return fs
}

// Validate reports every bad setting, each named by its flag.
func (c *Config) Validate() error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s (%s): %s", flagName, envName(flagName), fmt.Sprintf(format, args...)))
	}
	// Everything is checked here, before anything is created: a start that
	// fails must leave no database, key file or admin key behind.
	httpAddr, httpErr := checkListenAddr(c.HTTPAddr)
	grpcAddr, grpcErr := checkListenAddr(c.GRPCAddr)
	if httpErr != nil {
		bad("http-addr", "%v", httpErr)
	}
	if grpcErr != nil {
		bad("grpc-addr", "%v", grpcErr)
	}
	if httpErr == nil && grpcErr == nil && sameListenAddr(httpAddr, grpcAddr) {
		bad("grpc-addr", "must differ from --http-addr (%s): they are two listeners", c.HTTPAddr)
	}
	if c.HTTPMaxConns < 1 || c.HTTPMaxConns > 1_000_000 {
		bad("http-max-conns", "must be between 1 and 1000000, got %d", c.HTTPMaxConns)
	}
	if err := c.validateTLS(); err != nil {
		errs = append(errs, err)
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		bad("data-dir", "required when --database-url is not set")
	}
	if c.DatabaseURL == "" && c.DataDir != "" {
		if info, err := os.Stat(c.DataDir); err == nil && !info.IsDir() {
			bad("data-dir", "%s is a file, not a directory", c.DataDir)
		}
	}
	if c.DatabaseURL != "" {
		if err := (store.Config{DatabaseURL: c.DatabaseURL}).Validate(); err != nil {
			bad("database-url", "%s", fieldMessage(err))
		}
	}
	if c.RedisURL != "" {
		if err := (worker.RedisConfig{URL: c.RedisURL, Cluster: c.RedisCluster}).Validate(); err != nil {
			bad("redis-url", "%s", fieldMessage(err))
		}
	}
	if c.RedisPrefix == "" || strings.ContainsAny(c.RedisPrefix, "{} \t\r\n") {
		bad("redis-prefix", "must be non-empty without braces or whitespace (braces would break the Redis Cluster hash tag)")
	}
	if c.RedisCluster && c.RedisURL == "" {
		bad("redis-cluster", "needs --redis-url naming at least one node of the cluster")
	}
	if c.ScheduleShards < 0 || c.ScheduleShards > worker.MaxScheduleShards {
		bad("schedule-shards", "must be between 1 and %d (0 picks the default)", worker.MaxScheduleShards)
	}
	if c.DatabaseMaxConns < 4 || c.DatabaseMaxConns > 1000 {
		bad("database-max-conns", "must be between 4 and 1000, got %d", c.DatabaseMaxConns)
	}
	if c.MaxPayloadBytes < 1024 || c.MaxPayloadBytes > 16<<20 {
		bad("max-payload-bytes", "must be between 1024 and %d, got %d", 16<<20, c.MaxPayloadBytes)
	}
	if c.MaxEndpointsPerAccount < 1 || c.MaxEndpointsPerAccount > MaxEndpointsPerAccountLimit {
		bad("max-endpoints-per-account", "must be between 1 and %d, got %d", MaxEndpointsPerAccountLimit, c.MaxEndpointsPerAccount)
	}
	if c.SecretGracePeriod < 0 {
		bad("secret-grace-period", "must not be negative")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive")
	}
	if err := checkPprofAddr(c.PprofAddr); err != nil {
		bad(pprofFlag, "%v", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "must be text or json, got %q", c.LogFormat)
	}
	if !c.Roles.API && !c.Roles.Worker {
		bad("roles", "names no role: want api, worker or api,worker")
	}
	if c.Workers < 1 || c.Workers > 10000 {
		bad("workers", "must be between 1 and 10000, got %d", c.Workers)
	}
	if c.EndpointConcurrency < 1 {
		bad("endpoint-concurrency", "must be at least 1, got %d", c.EndpointConcurrency)
	}
	if c.RequestTimeout < 100*time.Millisecond || c.RequestTimeout > 5*time.Minute {
		bad("request-timeout", "must be between 100ms and 5m, got %s", c.RequestTimeout)
	}
	if i := slices.IndexFunc(c.RetrySchedule, func(d time.Duration) bool { return d <= 0 }); i >= 0 {
		bad("retry-schedule", "delay %s must be positive", shortDuration(c.RetrySchedule[i]))
	}
	if len(c.RetrySchedule) > 50 {
		bad("retry-schedule", "at most 50 retries, got %d", len(c.RetrySchedule))
	}
	if c.PollInterval < 10*time.Millisecond {
		bad("poll-interval", "must be at least 10ms")
	}
	if c.ReconcileInterval < 100*time.Millisecond {
		bad("reconcile-interval", "must be at least 100ms")
	}
	if c.Lease <= c.RequestTimeout+5*time.Second {
		bad("lease", "must exceed --request-timeout (%s) by more than 5s, got %s", c.RequestTimeout, c.Lease)
	}
	if c.AutoDisableAfter != 0 && c.AutoDisableAfter < time.Hour {
		bad("auto-disable-after", "must be 0 (never) or at least 1h, got %s", c.AutoDisableAfter)
	}
	if c.Retention != 0 && c.Retention < time.Hour {
		bad("retention", "must be 0 (keep forever) or at least 1h, got %s", c.Retention)
	}
	if err := (web.Config{FrameAncestors: c.DashboardFrameAncestors}).Validate(); err != nil {
		bad("dashboard-frame-ancestors", "%v", err)
	}
	if c.PortalSessionMaxTTL < time.Second {
		bad("portal-session-max-ttl", "must be at least 1s, got %s", c.PortalSessionMaxTTL)
	}
	if c.EncryptionKeys == nil && isPostgres(c.DatabaseURL) {
		errs = append(errs, errors.New(missingKeysMessage))
	}
	if c.RateLimit < 0 || c.RateLimit > 1e6 || c.RateLimit != c.RateLimit {
		bad("rate-limit", "must be between 0 (unlimited) and 1000000, got %g", c.RateLimit)
	}
	if c.RateBurst < 1 {
		bad("rate-burst", "must be at least 1, got %d", c.RateBurst)
	}
	if c.AuthFailureRate < 0 || c.AuthFailureRate > 1e6 || c.AuthFailureRate != c.AuthFailureRate {
		bad("auth-failure-rate", "must be between 0 (unlimited) and 1000000, got %g", c.AuthFailureRate)
	}
	if c.AuthFailureBurst < 1 {
		bad("auth-failure-burst", "must be at least 1, got %d", c.AuthFailureBurst)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, fmt.Errorf("%sADMIN_TOKEN: must be at least 16 characters", envPrefix))
	}
	return errors.Join(errs...)
}

// listenAddr is a listen address split into its host and port.
type listenAddr struct{ host, port string }

// checkListenAddr splits a listen address, reporting one net.Listen would
// refuse or read differently: it must be host:port with a numeric port
// (":8080" listens on every interface, port 0 on a free port).
func checkListenAddr(addr string) (listenAddr, error) {
	if addr == "" {
		return listenAddr{}, errors.New("required, e.g. 127.0.0.1:8080 or :8080")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return listenAddr{}, fmt.Errorf("%q is not host:port, e.g. 127.0.0.1:8080 or :8080", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port != strconv.FormatUint(n, 10) {
		return listenAddr{}, fmt.Errorf("port %q of %q is not a number from 0 to 65535", port, addr)
	}
	split := listenAddr{host: host, port: port}
	if host == "" {
		return split, nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return split, nil
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
			strings.IndexFunc(label, func(r rune) bool { return !isHostnameRune(r) }) >= 0 {
			return listenAddr{}, fmt.Errorf("host %q of %q is neither an IP address nor a hostname", host, addr)
		}
	}
	return split, nil
}

func isHostnameRune(r rune) bool {
	return r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// sameListenAddr reports whether two listen addresses would claim the same
// port: the same host, or one of them every interface.
func sameListenAddr(a, b listenAddr) bool {
	if a.port != b.port || a.port == "0" {
		return false
	}
	anyHost := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return a.host == b.host || anyHost(a.host) || anyHost(b.host)
}

// fieldMessage is the message of a domain error without its field, which
// Validate names in its own form.
func fieldMessage(err error) string {
	if e := (*webhookd.Error)(nil); errors.As(err, &e) && e.Field != "" {
		return strings.TrimPrefix(err.Error(), e.Field+": ")
	}
	return err.Error()
}

// databaseURL is the configured database, or the embedded SQLite file.
func (c *Config) databaseURL() (string, error) {
	if c.DatabaseURL != "" {
		return c.DatabaseURL, nil
	}
	dir, err := filepath.Abs(c.DataDir)
	if err != nil {
		return "", fmt.Errorf("--data-dir: %w", err)
	}
	return "sqlite://" + filepath.ToSlash(filepath.Join(dir, "webhookd.db")), nil
}

// DefaultMaxEndpointsPerAccount is --max-endpoints-per-account's default:
// far more than one customer's integrations need, few enough that a
// publish to all of them stays one short transaction.
const DefaultMaxEndpointsPerAccount = 1000

// MaxEndpointsPerAccountLimit bounds --max-endpoints-per-account: every
// publish writes one delivery per subscribed endpoint in one transaction,
// so a publish to this many takes the database a good fraction of a second.
const MaxEndpointsPerAccountLimit = 10000

// DefaultClusterShards is the schedule's shard count on a Redis Cluster when
// --schedule-shards is not given: enough hash slots to spread over the
// nodes of a typical cluster, few enough that an idle claim stays cheap.
const DefaultClusterShards = 16

// scheduleShards is the shard count the schedule uses.
func (c Config) scheduleShards() int {
	switch {
	case c.ScheduleShards > 0:
		return c.ScheduleShards
	case c.RedisCluster:
		return DefaultClusterShards
	}
	return 1
}
