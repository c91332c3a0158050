package app

import (
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		HTTPAddr: "127.0.0.1:8080", GRPCAddr: "127.0.0.1:9090", DataDir: "webhookd-data", RedisPrefix: "webhookd",
		MaxPayloadBytes: 256 << 10, DatabaseMaxConns: 32, SecretGracePeriod: 24 * time.Hour, ShutdownTimeout: 30 * time.Second,
		LogLevel: slog.LevelInfo, LogFormat: "text",
		Roles: Roles{API: true, Worker: true}, Workers: 32, EndpointConcurrency: 8, RequestTimeout: 5 * time.Second,
		RetrySchedule: []time.Duration{5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}, PollInterval: time.Second, ReconcileInterval: 30 * time.Second, Lease: time.Minute,
		RateLimit: 50, RateBurst: 100, AutoDisableAfter: 5 * 24 * time.Hour, Retention: 30 * 24 * time.Hour,
		DashboardFrameAncestors: "'none'", PortalSessionMaxTTL: 24 * time.Hour,
		MaxEndpointsPerAccount: 1000,
		HTTPMaxConns:           1024, AuthFailureRate: 1, AuthFailureBurst: 20,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("defaults = %+v, want %+v", cfg, want)
	}
	url, err := cfg.databaseURL()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "sqlite:///") || !strings.HasSuffix(url, "/webhookd-data/webhookd.db") {
		t.Fatalf("embedded database URL = %q", url)
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string // substring; "" means success
	}{
		{
			name: "env twins",
			env: map[string]string{
				"WEBHOOKD_HTTP_ADDR": ":8081", "WEBHOOKD_DATABASE_URL": "postgres://db/webhookd",
				"WEBHOOKD_REDIS_URL": "redis://cache:6379/0", "WEBHOOKD_ALLOW_HTTP_ENDPOINTS": "true",
				"WEBHOOKD_MAX_PAYLOAD_BYTES": "65536", "WEBHOOKD_ADMIN_TOKEN": "a-long-enough-admin-token",
				"WEBHOOKD_ENCRYPTION_KEYS": "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
				"WEBHOOKD_RATE_LIMIT":      "2.5", "WEBHOOKD_RATE_BURST": "5",
			},
			check: func(t *testing.T, c Config) {
				if c.HTTPAddr != ":8081" || c.DatabaseURL != "postgres://db/webhookd" || c.RedisURL != "redis://cache:6379/0" ||
					!c.AllowHTTPEndpoints || c.MaxPayloadBytes != 65536 || c.AdminToken != "a-long-enough-admin-token" ||
					c.EncryptionKeys == nil || c.RateLimit != 2.5 || c.RateBurst != 5 {
					t.Fatalf("got %+v", c)
				}
			},
		},
		{
			name: "dashboard frame ancestors from the env twin",
			env:  map[string]string{"WEBHOOKD_DASHBOARD_FRAME_ANCESTORS": "'self' https://app.example.com"},
			check: func(t *testing.T, c Config) {
				if c.DashboardFrameAncestors != "'self' https://app.example.com" {
					t.Fatalf("got %q", c.DashboardFrameAncestors)
				}
			},
		},
		{
			name:    "dashboard frame ancestors that would inject a directive",
			args:    []string{"--dashboard-frame-ancestors='self'; script-src *"},
			wantErr: "--dashboard-frame-ancestors (WEBHOOKD_DASHBOARD_FRAME_ANCESTORS)",
		},
		{
			name: "flags win over env",
			args: []string{"--http-addr", "127.0.0.1:7000", "--log-format=json"},
			env:  map[string]string{"WEBHOOKD_HTTP_ADDR": ":8081"},
			check: func(t *testing.T, c Config) {
				if c.HTTPAddr != "127.0.0.1:7000" || c.LogFormat != "json" {
					t.Fatalf("got %+v", c)
				}
			},
		},
		{
			name: "engine settings",
			args: []string{"--roles=worker", "--retry-schedule=1s, 2s", "--allow-cidr=127.0.0.0/8,::1/128"},
			check: func(t *testing.T, c Config) {
				api, worker, delays, cidrs := c.Roles.API, c.Roles.Worker, c.RetrySchedule, c.AllowCIDRs
				if api || !worker || len(delays) != 2 || delays[1] != 2*time.Second || len(cidrs) != 2 {
					t.Fatalf("roles api=%v worker=%v, delays %v, cidrs %v", api, worker, delays, cidrs)
				}
			},
		},
		{
			name: "auto-disable and retention: defaults, env twins, off",
			env:  map[string]string{"WEBHOOKD_RETENTION": "0"},
			check: func(t *testing.T, c Config) {
				if c.AutoDisableAfter != 120*time.Hour || c.Retention != 0 {
					t.Fatalf("auto-disable-after %v, retention %v; want 120h (the default), 0 (from the env)", c.AutoDisableAfter, c.Retention)
				}
			},
		},
		{name: "auto-disable too soon", env: map[string]string{"WEBHOOKD_AUTO_DISABLE_AFTER": "5m"}, wantErr: "WEBHOOKD_AUTO_DISABLE_AFTER"},
		{name: "negative retention", args: []string{"--retention=-24h"}, wantErr: "--retention"},
		{name: "bad env value names the variable", env: map[string]string{"WEBHOOKD_MAX_PAYLOAD_BYTES": "lots"}, wantErr: "WEBHOOKD_MAX_PAYLOAD_BYTES"},
		{name: "payload limit out of range", args: []string{"--max-payload-bytes=10"}, wantErr: "--max-payload-bytes"},
		{name: "endpoint limit from the env", env: map[string]string{"WEBHOOKD_MAX_ENDPOINTS_PER_ACCOUNT": "25"},
			check: func(t *testing.T, c Config) {
				if c.MaxEndpointsPerAccount != 25 {
					t.Fatalf("max endpoints per account %d, want 25", c.MaxEndpointsPerAccount)
				}
			}},
		{name: "zero endpoint limit", args: []string{"--max-endpoints-per-account=0"}, wantErr: "--max-endpoints-per-account (WEBHOOKD_MAX_ENDPOINTS_PER_ACCOUNT): must be between 1 and 10000"},
		{name: "endpoint limit too high", env: map[string]string{"WEBHOOKD_MAX_ENDPOINTS_PER_ACCOUNT": "10001"}, wantErr: "--max-endpoints-per-account"},
		{name: "bad log level", args: []string{"--log-level=loud"}, wantErr: "--log-level"},
		{name: "bad log format", env: map[string]string{"WEBHOOKD_LOG_FORMAT": "xml"}, wantErr: "WEBHOOKD_LOG_FORMAT"},
		{name: "short admin token", env: map[string]string{"WEBHOOKD_ADMIN_TOKEN": "short"}, wantErr: "WEBHOOKD_ADMIN_TOKEN"},
		{name: "zero shutdown timeout", args: []string{"--shutdown-timeout=0s"}, wantErr: "--shutdown-timeout"},
		{name: "redis prefix with a brace", args: []string{"--redis-prefix=a{b}"}, wantErr: "--redis-prefix"},
		{name: "redis cluster without a seed", args: []string{"--redis-cluster"}, wantErr: "--redis-cluster"},
		{name: "too few database connections", args: []string{"--database-max-conns=1"}, wantErr: "--database-max-conns"},
		{name: "too many schedule shards", args: []string{"--schedule-shards=100000"}, wantErr: "--schedule-shards"},
		{name: "negative schedule shards", args: []string{"--schedule-shards=-1"}, wantErr: "--schedule-shards"},
		{name: "unknown role", args: []string{"--roles=api,cron"}, wantErr: "--roles"},
		{name: "bad retry schedule", args: []string{"--retry-schedule=5m,soon"}, wantErr: "--retry-schedule"},
		{name: "negative retry delay", args: []string{"--retry-schedule=5m,-1m"}, wantErr: "--retry-schedule"},
		{name: "bad CIDR", env: map[string]string{"WEBHOOKD_ALLOW_CIDR": "127.0.0.1/40"}, wantErr: "WEBHOOKD_ALLOW_CIDR"},
		{name: "PostgreSQL without encryption keys", args: []string{"--database-url=postgres://db/webhookd"}, wantErr: "--encryption-keys (WEBHOOKD_ENCRYPTION_KEYS): required with a PostgreSQL"},
		{name: "malformed encryption keys", env: map[string]string{"WEBHOOKD_ENCRYPTION_KEYS": "k1:short"}, wantErr: "WEBHOOKD_ENCRYPTION_KEYS"},
		{name: "negative rate limit", args: []string{"--rate-limit=-1"}, wantErr: "--rate-limit"},
		{name: "zero rate burst", args: []string{"--rate-burst=0"}, wantErr: "--rate-burst"},
		{name: "lease shorter than an attempt", args: []string{"--request-timeout=30s", "--lease=20s"}, wantErr: "--lease"},
		{name: "request timeout too short", args: []string{"--request-timeout=1ms"}, wantErr: "--request-timeout"},
		{
			name: "connection cap and failed-authentication limit",
			env:  map[string]string{"WEBHOOKD_HTTP_MAX_CONNS": "64", "WEBHOOKD_AUTH_FAILURE_RATE": "0", "WEBHOOKD_TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8"},
			check: func(t *testing.T, c Config) {
				proxies := c.TrustedProxies
				if c.HTTPMaxConns != 64 || c.AuthFailureRate != 0 || len(proxies) != 2 {
					t.Fatalf("http-max-conns %d, auth-failure-rate %g, trusted proxies %v", c.HTTPMaxConns, c.AuthFailureRate, proxies)
				}
			},
		},
		{name: "no connections", args: []string{"--http-max-conns=0"}, wantErr: "--http-max-conns"},
		{name: "negative auth failure rate", args: []string{"--auth-failure-rate=-1"}, wantErr: "--auth-failure-rate"},
		{name: "zero auth failure burst", args: []string{"--auth-failure-burst=0"}, wantErr: "--auth-failure-burst"},
		{name: "bad trusted proxy", env: map[string]string{"WEBHOOKD_TRUSTED_PROXIES": "10.0.0.0"}, wantErr: "WEBHOOKD_TRUSTED_PROXIES"},
		{name: "positional argument", args: []string{"serve"}, wantErr: "unexpected argument"},
		{name: "unknown flag", args: []string{"--colour=blue"}, wantErr: "colour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}
