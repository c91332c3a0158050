package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything an operator can set. Every field has a flag and an
// environment twin: --http-addr and WEBHOOKD_HTTP_ADDR, and so on; a flag
// given on the command line wins over the environment.
type Config struct {
	HTTPAddr string
	GRPCAddr string
	// DataDir holds the SQLite file of the embedded default.
	DataDir string
	// DatabaseURL selects the database; empty means SQLite in DataDir.
	DatabaseURL string
	// RedisURL selects the Redis of the schedule; empty means embedded.
	RedisURL string
	// AdminToken, when set, is accepted as an internal credential. It is read
	// from the environment only (WEBHOOKD_ADMIN_TOKEN), never from a flag,
	// so it does not show in process listings.
	AdminToken         string
	AllowHTTPEndpoints bool
	MaxPayloadBytes    int
	SecretGracePeriod  time.Duration
	ShutdownTimeout    time.Duration
	LogLevel           string
	LogFormat          string
}

// envPrefix starts the environment twin of every flag.
const envPrefix = "WEBHOOKD_"

// envName is the environment twin of a flag: --max-payload-bytes → WEBHOOKD_MAX_PAYLOAD_BYTES.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ParseConfig reads flags from args and their twins from getenv. Usage and
// errors go to output.
func ParseConfig(args []string, getenv func(string) string, output io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("webhookd", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "listen address of the REST API, health checks and OpenAPI document")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "127.0.0.1:9090", "listen address of the gRPC API")
	fs.StringVar(&c.DataDir, "data-dir", "webhookd-data", "directory of the embedded SQLite database")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "database: postgres://… or sqlite:///path/file.db (default: SQLite file in --data-dir)")
	fs.StringVar(&c.RedisURL, "redis-url", "", "Redis holding the delivery schedule: redis://host:port/db (default: embedded in-process server)")
	fs.BoolVar(&c.AllowHTTPEndpoints, "allow-http-endpoints", false, "accept plain http:// endpoint URLs (for development)")
	fs.IntVar(&c.MaxPayloadBytes, "max-payload-bytes", 256<<10, "largest event payload accepted, in bytes of JSON")
	fs.DurationVar(&c.SecretGracePeriod, "secret-grace-period", 24*time.Hour, "how long a rotated-out endpoint secret keeps signing")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a graceful shutdown may take")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.Usage = func() {
		fmt.Fprintf(output, "Usage: webhookd [flags]\n\nEvery flag can also be set as an environment variable, e.g. --http-addr as WEBHOOKD_HTTP_ADDR.\nWEBHOOKD_ADMIN_TOKEN sets an internal credential (environment only).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (webhookd takes flags only)", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: invalid value %q: %v", envName(f.Name), v, err))
			}
		}
	})
	c.AdminToken = getenv(envPrefix + "ADMIN_TOKEN")
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate reports every bad setting, each named by its flag.
func (c *Config) Validate() error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s (%s): %s", flagName, envName(flagName), fmt.Sprintf(format, args...)))
	}
	if c.HTTPAddr == "" {
		bad("http-addr", "required")
	}
	if c.GRPCAddr == "" {
		bad("grpc-addr", "required")
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		bad("data-dir", "required when --database-url is not set")
	}
	if c.MaxPayloadBytes < 1024 || c.MaxPayloadBytes > 16<<20 {
		bad("max-payload-bytes", "must be between 1024 and %d, got %d", 16<<20, c.MaxPayloadBytes)
	}
	if c.SecretGracePeriod < 0 {
		bad("secret-grace-period", "must not be negative")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive")
	}
	if _, err := c.logLevel(); err != nil {
		bad("log-level", "%v", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "must be text or json, got %q", c.LogFormat)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, fmt.Errorf("%sADMIN_TOKEN: must be at least 16 characters", envPrefix))
	}
	return errors.Join(errs...)
}

func (c *Config) logLevel() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
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
