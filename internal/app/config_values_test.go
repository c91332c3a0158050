package app

import (
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTypedSettings: the settings that are more than a string or a number
// are parsed once, when read, into the typed fields the process is built
// from, and --help shows them as they were written.
func TestTypedSettings(t *testing.T) {
	t.Parallel()
	key := "k1:" + strings.Repeat("A", 43) + "="
	cfg, err := ParseConfig([]string{
		"--retry-schedule=90s, 1h30m,2h", "--allow-cidr=10.1.2.3/8,::1/128", "--roles= worker",
		"--log-level=warn", "--dashboard-url=https://webhooks.example.com",
	}, func(k string) string {
		return map[string]string{
			"WEBHOOKD_TRUSTED_PROXIES": "192.168.7.7/16", "WEBHOOKD_ENCRYPTION_KEYS": key,
		}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{90 * time.Second, 90 * time.Minute, 2 * time.Hour}; !slices.Equal(cfg.RetrySchedule, want) {
		t.Errorf("RetrySchedule = %v, want %v", cfg.RetrySchedule, want)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}; !slices.Equal(cfg.AllowCIDRs, want) {
		t.Errorf("AllowCIDRs = %v, want %v (masked)", cfg.AllowCIDRs, want)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}; !slices.Equal(cfg.TrustedProxies, want) {
		t.Errorf("TrustedProxies = %v, want %v (masked)", cfg.TrustedProxies, want)
	}
	if cfg.Roles != (Roles{Worker: true}) || cfg.LogLevel != slog.LevelWarn {
		t.Errorf("Roles = %+v, LogLevel = %v; want the worker role only, WARN", cfg.Roles, cfg.LogLevel)
	}
	if cfg.DashboardURL == nil || cfg.DashboardURL.String() != "https://webhooks.example.com/" {
		t.Errorf("DashboardURL = %v, want https://webhooks.example.com/", cfg.DashboardURL)
	}
	if cfg.EncryptionKeys == nil || cfg.EncryptionKeys.PrimaryID() != "k1" {
		t.Errorf("EncryptionKeys = %v, want the keyring of k1", cfg.EncryptionKeys)
	}

	// Values print as an operator writes them, and never show a key.
	for _, tc := range []struct {
		value flag.Value
		want  string
	}{
		{durationsValue{&cfg.RetrySchedule}, "1m30s,1h30m,2h"}, {prefixesValue{&cfg.AllowCIDRs}, "10.0.0.0/8,::1/128"},
		{rolesValue{&cfg.Roles}, "worker"}, {levelValue{&cfg.LogLevel}, "warn"},
		{keyringValue{&cfg.EncryptionKeys}, "k1"}, {dashboardURLValue{&cfg.DashboardURL}, "https://webhooks.example.com/"},
	} {
		if got := tc.value.String(); got != tc.want {
			t.Errorf("%T prints as %q, want %q", tc.value, got, tc.want)
		}
	}
	var defaults Config
	fs := defaults.flagSet(io.Discard)
	for name, want := range map[string]string{"retry-schedule": "5m,30m,2h,5h,10h", "roles": "api,worker", "log-level": "info"} {
		if got := fs.Lookup(name).DefValue; got != want {
			t.Errorf("--%s default = %q, want %q", name, got, want)
		}
	}
	if typ, _ := unquoteUsage(fs.Lookup("retry-schedule")); typ != "string" {
		t.Errorf("--retry-schedule shows as a %q in --help, want string", typ)
	}
}

// TestValidateTypedFields: Validate checks the typed fields themselves, for
// a Config not made by ParseConfig.
func TestValidateTypedFields(t *testing.T) {
	t.Parallel()
	base, err := ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"no role", func(c *Config) { c.Roles = Roles{} }, "--roles (WEBHOOKD_ROLES): names no role"},
		{"negative delay", func(c *Config) { c.RetrySchedule = []time.Duration{time.Minute, -time.Second} }, "--retry-schedule (WEBHOOKD_RETRY_SCHEDULE): delay -1s must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := base
			tc.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}
