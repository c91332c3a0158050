package app

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestConfigErrorsNameTheSetting checks that every kind of bad setting, on
// the command line or in the environment, is refused by ParseConfig (so
// before webhookd touches anything) in the one documented form:
// --flag (WEBHOOKD_FLAG): problem.
func TestConfigErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	aFile := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // the start of one line of the error
	}{
		{"port not a number", []string{"--http-addr", ":abc"}, nil, `--http-addr (WEBHOOKD_HTTP_ADDR): port "abc" of ":abc" is not a number`},
		{"port out of range", []string{"--grpc-addr=127.0.0.1:70000"}, nil, `--grpc-addr (WEBHOOKD_GRPC_ADDR): port "70000"`},
		{"no port", []string{"--http-addr=127.0.0.1"}, nil, `--http-addr (WEBHOOKD_HTTP_ADDR): "127.0.0.1" is not host:port`},
		{"bad host", []string{"--http-addr=my host:8080"}, nil, `--http-addr (WEBHOOKD_HTTP_ADDR): host "my host"`},
		{"empty address", nil, map[string]string{"WEBHOOKD_GRPC_ADDR": " "}, `--grpc-addr (WEBHOOKD_GRPC_ADDR): " " is not host:port`},
		{"address in the environment", nil, map[string]string{"WEBHOOKD_HTTP_ADDR": ":abc"}, `--http-addr (WEBHOOKD_HTTP_ADDR): port "abc"`},
		{"both listeners on one port", []string{"--http-addr=:9000", "--grpc-addr=127.0.0.1:9000"}, nil, "--grpc-addr (WEBHOOKD_GRPC_ADDR): must differ from --http-addr"},
		{"database URL without a scheme", []string{"--database-url", "nonsense"}, nil, "--database-url (WEBHOOKD_DATABASE_URL): unsupported scheme"},
		{"SQLite URL without a file", []string{"--database-url=sqlite://"}, nil, "--database-url (WEBHOOKD_DATABASE_URL): names no SQLite file"},
		{"PostgreSQL URL with a bad port", []string{"--database-url=postgres://u:hunter2@db:abc/webhookd", "--encryption-keys=k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, nil, "--database-url (WEBHOOKD_DATABASE_URL): cannot parse"},
		{"dashboard URL without a scheme", []string{"--dashboard-url=webhooks.example.com"}, nil, "--dashboard-url (WEBHOOKD_DASHBOARD_URL): "},
		{"dashboard URL with a fragment", []string{"--dashboard-url=https://webhooks.example.com/#x"}, nil, "--dashboard-url (WEBHOOKD_DASHBOARD_URL): "},
		{"portal sessions shorter than a second", []string{"--portal-session-max-ttl=500ms"}, nil, "--portal-session-max-ttl (WEBHOOKD_PORTAL_SESSION_MAX_TTL): must be at least 1s"},
		{"Redis URL with a bad scheme", []string{"--redis-url=http://cache:6379"}, nil, "--redis-url (WEBHOOKD_REDIS_URL): "},
		{"Redis URL with a bad port", nil, map[string]string{"WEBHOOKD_REDIS_URL": "redis://:hunter2@cache:x/0"}, `--redis-url (WEBHOOKD_REDIS_URL): invalid port ":x"`},
		{"data dir is a file", []string{"--data-dir=" + aFile}, nil, "--data-dir (WEBHOOKD_DATA_DIR): " + aFile + " is a file"},
		{"flag value of the wrong type", []string{"--workers=lots"}, nil, `--workers (WEBHOOKD_WORKERS): invalid value "lots": want a whole number`},
		{"bad duration", []string{"--lease", "soon"}, nil, `--lease (WEBHOOKD_LEASE): invalid value "soon": want a duration`},
		{"bad boolean", []string{"--allow-http-endpoints=maybe"}, nil, `--allow-http-endpoints (WEBHOOKD_ALLOW_HTTP_ENDPOINTS): invalid value "maybe": want true or false`},
		{"env value of the wrong type", nil, map[string]string{"WEBHOOKD_MAX_PAYLOAD_BYTES": "lots"}, `--max-payload-bytes (WEBHOOKD_MAX_PAYLOAD_BYTES): invalid value "lots" from the environment: want a whole number`},
		// Settings parsed into typed fields when read: a bad value is refused
		// then, by its flag, on the command line and from the environment.
		{"unknown role", []string{"--roles=api,cron"}, nil, `--roles (WEBHOOKD_ROLES): invalid value "api,cron": unknown role "cron"`},
		{"no role", nil, map[string]string{"WEBHOOKD_ROLES": ","}, `--roles (WEBHOOKD_ROLES): invalid value "," from the environment: unknown role ""`},
		{"retry delay not a duration", []string{"--retry-schedule=5m,soon"}, nil, `--retry-schedule (WEBHOOKD_RETRY_SCHEDULE): invalid value "5m,soon": time: invalid duration "soon"`},
		{"retry delay not positive", nil, map[string]string{"WEBHOOKD_RETRY_SCHEDULE": "5m,0s"}, `--retry-schedule (WEBHOOKD_RETRY_SCHEDULE): delay 0s must be positive`},
		{"too many retries", []string{"--retry-schedule=" + strings.Repeat("1m,", 51)}, nil, `--retry-schedule (WEBHOOKD_RETRY_SCHEDULE): at most 50 retries, got 51`},
		{"SSRF exception not a range", []string{"--allow-cidr=127.0.0.1"}, nil, `--allow-cidr (WEBHOOKD_ALLOW_CIDR): invalid value "127.0.0.1": netip.ParsePrefix`},
		{"trusted proxy range too long", nil, map[string]string{"WEBHOOKD_TRUSTED_PROXIES": "10.0.0.0/8,::/129"}, `--trusted-proxies (WEBHOOKD_TRUSTED_PROXIES): invalid value "10.0.0.0/8,::/129" from the environment: netip.ParsePrefix`},
		{"unknown log level", nil, map[string]string{"WEBHOOKD_LOG_LEVEL": "loud"}, `--log-level (WEBHOOKD_LOG_LEVEL): invalid value "loud" from the environment: slog: level string "loud"`},
		{"dashboard URL relative", nil, map[string]string{"WEBHOOKD_DASHBOARD_URL": "/dashboard"}, `--dashboard-url (WEBHOOKD_DASHBOARD_URL): invalid value "/dashboard" from the environment:`},
		// The refusal of a key does not repeat it: the error goes to logs.
		{"encryption key too short", []string{"--encryption-keys=k1:hunter2hunter2"}, nil, `--encryption-keys (WEBHOOKD_ENCRYPTION_KEYS): invalid value: key "k1": want 32 bytes`},
		{"encryption key without an id", nil, map[string]string{"WEBHOOKD_ENCRYPTION_KEYS": "hunter2hunter2"}, `--encryption-keys (WEBHOOKD_ENCRYPTION_KEYS): invalid value from the environment: entry 1: want id:base64key`},
		{"flag without its value", []string{"--http-addr"}, nil, "--http-addr (WEBHOOKD_HTTP_ADDR): needs a value"},
		{"misspelt flag", []string{"--http-adr=:8081"}, nil, "unknown flag --http-adr (did you mean --http-addr?)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			_, err := ParseConfig(tc.args, func(k string) string { return tc.env[k] }, &out)
			if err == nil {
				t.Fatalf("accepted; want an error starting %q", tc.wantErr)
			}
			lines := strings.Split(err.Error(), "\n")
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, tc.wantErr) }) {
				t.Errorf("error:\n%v\nwant a line starting %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the URL's password: %v", err)
			}
			if out.Len() > 0 {
				t.Errorf("a bad setting printed to the output (the usage?):\n%s", out.String())
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	var help strings.Builder
	if _, err := ParseConfig([]string{"--help"}, func(string) string { return "" }, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: err = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"\n  --http-addr string  (WEBHOOKD_HTTP_ADDR)\n", `(default "127.0.0.1:8080")`, "\n  --allow-http-endpoints  (WEBHOOKD_ALLOW_HTTP_ENDPOINTS)\n", "\n  --version\n"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("--help lacks %q; it printed:\n%s", want, help.String())
		}
	}
	if strings.Contains(help.String(), "\n  -http-addr") {
		t.Errorf("--help shows flags with one dash:\n%s", help.String())
	}
	if _, err := ParseConfig([]string{"--version"}, func(string) string { return "" }, &help); !errors.Is(err, ErrVersion) {
		t.Errorf("--version: err = %v, want ErrVersion", err)
	}
	// --version has no environment twin: it would make every start exit.
	if _, err := ParseConfig(nil, func(k string) string { return map[string]string{"WEBHOOKD_VERSION": "true"}[k] }, &help); err != nil {
		t.Errorf("WEBHOOKD_VERSION=true: err = %v, want it ignored", err)
	}
}

func TestUnknownEnv(t *testing.T) {
	t.Parallel()
	got := UnknownEnv([]string{
		"PATH=/usr/bin", "WEBHOOKD_HTTP_ADDR=:8081", "WEBHOOKD_ADMIN_TOKEN=a-long-enough-token",
		"WEBHOOKD_LOG_LEVL=debug", "WEBHOOKD_DATABASE=postgres://db", "WEBHOOKD_FROBNICATE=1", "WEBHOOKD_VERSION=1",
		"webhookd_http_addr=:1", // not ours: variables are case-sensitive
		// Settings too, once warned about as unknown although read.
		"WEBHOOKD_DASHBOARD_URL=https://webhooks.example.com/", "WEBHOOKD_PORTAL_SESSION_MAX_TTL=1h",
	})
	want := []UnknownVariable{
		{Name: "WEBHOOKD_DATABASE", Suggestion: ""},
		{Name: "WEBHOOKD_FROBNICATE", Suggestion: ""},
		{Name: "WEBHOOKD_LOG_LEVL", Suggestion: "WEBHOOKD_LOG_LEVEL"},
		{Name: "WEBHOOKD_VERSION", Suggestion: ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("UnknownEnv = %+v\nwant %+v", got, want)
	}
}
