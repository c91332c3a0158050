// Command webhookd-bench measures webhookd's delivery throughput and latency
// on this machine and prints them next to a plain net/http baseline. It is
// run by `make bench` (scripts/bench.sh), once per setup: it starts a
// loopback receiver and a fresh webhookd, creates an account with one
// endpoint per receiver address, then per repeat
//
//  1. baseline: sends events × endpoints signed POSTs to the receiver from
//     --workers goroutines with net/http alone;
//  2. throughput: publishes events over gRPC from --publishers goroutines
//     and waits until every delivery arrived;
//  3. steady: publishes --steady-rate events/s for --steady-duration and
//     measures publish-to-arrival latency.
//
// It prints figures, never fails on them: the exit status is non-zero only
// when the benchmark itself could not run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// benchConfig is the command line.
type benchConfig struct {
	name           string
	binary         string
	databaseURL    string
	redisURL       string
	events         int
	endpoints      int
	publishers     int
	workers        int
	perEndpoint    int
	dataBytes      int
	steadyRate     int
	steadyDuration time.Duration
	repeat         int
	timeout        time.Duration
	targetRatio    float64
	targetP99      time.Duration
	extraArgs      stringList
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var c benchConfig
	flag.StringVar(&c.name, "setup", "", "name of the setup, printed above its table (default: derived from the URLs)")
	flag.StringVar(&c.binary, "webhookd", "bin/webhookd", "path of the webhookd binary to measure")
	flag.StringVar(&c.databaseURL, "database-url", "", "webhookd --database-url (default: embedded SQLite in a fresh data dir)")
	flag.StringVar(&c.redisURL, "redis-url", "", "webhookd --redis-url (default: embedded Redis-protocol server)")
	flag.IntVar(&c.events, "events", 20000, "events published in the throughput run (each makes one delivery per endpoint)")
	flag.IntVar(&c.endpoints, "endpoints", 4, "endpoints subscribed to the event type, each on its own loopback address")
	flag.IntVar(&c.publishers, "publishers", 32, "concurrent PublishEvent calls in the throughput run")
	flag.IntVar(&c.workers, "workers", 32, "webhookd --workers, and the baseline's concurrent POSTs")
	flag.IntVar(&c.perEndpoint, "endpoint-concurrency", 8, "webhookd --endpoint-concurrency")
	flag.IntVar(&c.dataBytes, "data-bytes", 512, "approximate size of each event's data, in bytes of JSON")
	flag.IntVar(&c.steadyRate, "steady-rate", 500, "events per second in the steady run")
	flag.DurationVar(&c.steadyDuration, "steady-duration", 20*time.Second, "length of the steady run")
	flag.IntVar(&c.repeat, "repeat", 1, "runs of each measurement; the table shows medians")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "longest wait for a run's deliveries to arrive")
	flag.Float64Var(&c.targetRatio, "target-ratio", 0.2, "throughput target for PostgreSQL + Redis, as a fraction of the baseline")
	flag.DurationVar(&c.targetP99, "target-p99", 100*time.Millisecond, "latency target: p99 in the steady run")
	flag.Var(&c.extraArgs, "webhookd-flag", "extra flag for webhookd, e.g. -webhookd-flag=--poll-interval=100ms (repeatable)")
	flag.Parse()
	if c.events < 1 || c.endpoints < 1 || c.endpoints > 254 || c.publishers < 1 || c.workers < 1 ||
		c.steadyRate < 1 || c.steadyDuration <= 0 || c.repeat < 1 {
		fmt.Fprintln(os.Stderr, "webhookd-bench: -events, -endpoints (≤ 254), -publishers, -workers, -steady-rate, -steady-duration and -repeat must be positive")
		os.Exit(2)
	}
	if c.name == "" {
		c.name = setupName(c.databaseURL, c.redisURL)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, c)
	if err != nil {
		fmt.Fprintf(os.Stderr, "webhookd-bench: %s: %v\n", c.name, err)
		os.Exit(1)
	}
	res.print(os.Stdout)
}

// setupName says which database and Redis a setup uses.
func setupName(databaseURL, redisURL string) string {
	db, redis := "SQLite (embedded)", "in-process Redis (embedded)"
	switch {
	case strings.HasPrefix(databaseURL, "postgres"):
		db = "PostgreSQL"
	case databaseURL != "":
		db = "SQLite"
	}
	if redisURL != "" {
		redis = "Redis"
	}
	return db + " + " + redis
}

// logf reports progress on stderr, so that stdout holds only the tables.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// run measures one setup.
func run(ctx context.Context, c benchConfig) (*setupResult, error) {
	dir, err := os.MkdirTemp("", "webhookd-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	recv, err := startReceiver(c.endpoints)
	if err != nil {
		return nil, err
	}
	defer recv.close()

	cfg := daemonConfig{
		Binary:      c.binary,
		DatabaseURL: c.databaseURL,
		RedisURL:    c.redisURL,
		DataDir:     dir,
		Workers:     c.workers,
		PerEndpoint: c.perEndpoint,
		ExtraArgs:   c.extraArgs,
	}
	logf("%s: starting webhookd", c.name)
	d, err := startDaemon(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	account, err := setupAccount(ctx, d, recv.urls, benchEventType)
	if err != nil {
		return nil, err
	}
	data := eventData(c.dataBytes)
	pub, err := newPublisher(d, account, data)
	if err != nil {
		return nil, err
	}

	res := &setupResult{
		name:              c.name,
		cfg:               c,
		checkRatio:        strings.HasPrefix(c.databaseURL, "postgres") && c.redisURL != "",
		targetRatio:       c.targetRatio,
		targetSteadyP99:   c.targetP99,
		webhookdArgsShown: fmt.Sprintf("--workers=%d --endpoint-concurrency=%d %s", c.workers, c.perEndpoint, c.extraArgs.String()),
	}
	deliveries := c.events * c.endpoints
	for i := range c.repeat {
		tag := fmt.Sprintf("%s [%d/%d]", c.name, i+1, c.repeat)

		logf("%s: baseline, %d POSTs from %d goroutines", tag, deliveries, c.workers)
		base, err := baseline(ctx, recv, data, deliveries, c.workers)
		if err != nil {
			return nil, err
		}
		logf("%s: baseline %.0f deliveries/s", tag, base.rate())

		logf("%s: throughput, publishing %d events from %d publishers", tag, c.events, c.publishers)
		col := recv.expect(deliveries)
		pubs, err := pub.burst(ctx, c.events, c.publishers)
		if err != nil {
			return nil, err
		}
		logf("%s: published; %d of %d deliveries arrived so far", tag, col.count(), deliveries)
		if err := col.wait(ctx, c.timeout); err != nil {
			return nil, fmt.Errorf("throughput run: %w; webhookd's log:\n%s", err, d.LogTail(20))
		}
		burst := analyze(pubs, col)
		logf("%s: webhookd %.0f deliveries/s, p99 %s", tag, burst.rate(), ms(burst.p99))

		n := int(float64(c.steadyRate) * c.steadyDuration.Seconds())
		logf("%s: steady, %d events/s for %s", tag, c.steadyRate, c.steadyDuration)
		col = recv.expect(n * c.endpoints)
		pubs, err = pub.steady(ctx, c.steadyRate, c.steadyDuration, c.publishers)
		if err != nil {
			return nil, err
		}
		if err := col.wait(ctx, c.timeout); err != nil {
			return nil, fmt.Errorf("steady run: %w; webhookd's log:\n%s", err, d.LogTail(20))
		}
		steady := analyze(pubs, col)
		logf("%s: steady p50 %s, p99 %s", tag, ms(steady.p50), ms(steady.p99))

		res.baseline = append(res.baseline, base)
		res.burst = append(res.burst, burst)
		res.steady = append(res.steady, steady)
		res.ratios = append(res.ratios, burst.rate()/base.rate())
	}
	if res.peakRSS, err = d.PeakRSS(); err != nil {
		return nil, err
	}
	return res, nil
}
