// Command webhookd-chaos checks that webhookd loses no delivery when the
// parts of a production installation fail under load. It is run by
// `make chaos` (scripts/chaos.sh), which starts PostgreSQL and a Redis
// Cluster and passes them in; this command then
//
//  1. starts three webhookd processes on them (api+worker, worker,
//     api+worker) and a receiver with one loopback listener per endpoint
//     that checks every request's X-Webhook-Signature and records each
//     (event id, endpoint) it is sent;
//  2. creates accounts and endpoints, then publishes a fixed workload over
//     gRPC at a steady rate, retrying a failed publish with the same
//     idempotency key, so an event counts as published once the API
//     acknowledged it;
//  3. meanwhile injects, one after another: one endpoint hangs past the
//     request timeout; the worker process is SIGKILLed and restarted; one
//     Redis node is killed and started again (empty); PostgreSQL is
//     killed (pg_ctl stop -m immediate) and started again;
//  4. waits until every expected delivery arrived, or the deadline, and
//     prints the figures.
//
// It exits non-zero when a delivery is lost, a signature is wrong, an event
// reaches an endpoint it was not for, a publish never got through, or a
// webhookd process died without being killed: each of those is a bug.
// Duplicates are reported, not failed: delivery is at least once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// chaosConfig is the command line.
type chaosConfig struct {
	binary       string
	workDir      string
	databaseURL  string
	redisURL     string
	redisCluster bool
	redisServer  string
	redisConf    string
	pgCtl        string
	pgData       string

	short      bool
	events     int
	rate       int
	accounts   int
	endpoints  int
	hang       time.Duration
	down       time.Duration
	timeout    time.Duration
	inFlight   int
	extraFlags stringList
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// The two workloads: long by default, short with -short (what CI runs).
const (
	longEvents  = 24000
	longRate    = 100
	longHang    = 20 * time.Second
	shortEvents = 3000
	shortRate   = 50
	shortHang   = 12 * time.Second
)

// Validate reports every bad setting.
func (c *chaosConfig) Validate() error {
	var errs []error
	if c.binary == "" || c.databaseURL == "" || c.redisURL == "" {
		errs = append(errs, errors.New("-webhookd, -database-url and -redis-url are required"))
	}
	if c.redisConf == "" || c.pgCtl == "" || c.pgData == "" {
		errs = append(errs, errors.New("-redis-node-conf, -pg-ctl and -pg-data are required: they say how to restart Redis and PostgreSQL"))
	}
	if !strings.HasPrefix(c.databaseURL, "postgres") {
		errs = append(errs, errors.New("-database-url must be a PostgreSQL URL: three processes share it"))
	}
	if c.events < 100 || c.rate < 1 || c.accounts < 1 || c.endpoints < c.accounts || c.endpoints > 254 || c.inFlight < 1 {
		errs = append(errs, errors.New("-events (≥ 100), -rate, -accounts, -in-flight must be positive, and -accounts ≤ -endpoints ≤ 254"))
	}
	if c.hang <= 5*time.Second {
		errs = append(errs, errors.New("-hang must exceed webhookd's 5s request timeout, or nothing is retried"))
	}
	if c.down <= 0 || c.timeout <= 0 {
		errs = append(errs, errors.New("-down and -timeout must be positive"))
	}
	return errors.Join(errs...)
}

func main() {
	var c chaosConfig
	flag.StringVar(&c.binary, "webhookd", "bin/webhookd", "path of the webhookd binary")
	flag.StringVar(&c.workDir, "work-dir", "", "directory for webhookd's logs and data dirs (default: a temporary one, removed at exit)")
	flag.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL URL every webhookd uses")
	flag.StringVar(&c.redisURL, "redis-url", "", "Redis URL every webhookd uses (with -redis-cluster: the cluster seed URL, redis://h:p?addr=h:p&addr=h:p)")
	flag.BoolVar(&c.redisCluster, "redis-cluster", false, "run webhookd with --redis-cluster")
	flag.StringVar(&c.redisServer, "redis-server", "redis-server", "redis-server binary, to start the killed node again")
	flag.StringVar(&c.redisConf, "redis-node-conf", "", "redis.conf of the Redis node to kill and restart (port and pidfile are read from it)")
	flag.StringVar(&c.pgCtl, "pg-ctl", "", "pg_ctl binary, to kill and restart PostgreSQL (run as the data directory's owner)")
	flag.StringVar(&c.pgData, "pg-data", "", "PostgreSQL data directory")
	flag.BoolVar(&c.short, "short", false, fmt.Sprintf("the short form: -events %d -rate %d -hang %s unless given (about a minute of publishing)", shortEvents, shortRate, shortHang))
	flag.IntVar(&c.events, "events", longEvents, "events published")
	flag.IntVar(&c.rate, "rate", longRate, "events published per second")
	flag.IntVar(&c.accounts, "accounts", 4, "accounts; event i belongs to account i mod -accounts")
	flag.IntVar(&c.endpoints, "endpoints", 10, "endpoints, spread over the accounts (endpoint j belongs to account j mod -accounts); all subscribe to the events")
	flag.DurationVar(&c.hang, "hang", longHang, "how long endpoint 0 stops answering")
	flag.DurationVar(&c.down, "down", 5*time.Second, "how long the killed Redis node and PostgreSQL stay down")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "longest wait for the deliveries after the last publish")
	flag.IntVar(&c.inFlight, "in-flight", 128, "most PublishEvent calls outstanding at once (retries included)")
	flag.Var(&c.extraFlags, "webhookd-flag", "extra flag for every webhookd, e.g. -webhookd-flag=--workers=16 (repeatable)")
	flag.Parse()
	if c.short {
		given := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if !given["events"] {
			c.events = shortEvents
		}
		if !given["rate"] {
			c.rate = shortRate
		}
		if !given["hang"] {
			c.hang = shortHang
		}
	}
	if err := c.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "webhookd-chaos: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, c)
	if err != nil {
		fmt.Fprintf(os.Stderr, "webhookd-chaos: %v\n", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if problems := rep.problems(); len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "\nwebhookd-chaos: FAIL: %s\n", strings.Join(problems, "; "))
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "\nwebhookd-chaos: PASS: no delivery lost")
}

// logf reports progress on stderr, so that stdout holds only the report.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
