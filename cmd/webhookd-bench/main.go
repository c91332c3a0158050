// Command webhookd-bench measures webhookd's delivery throughput, latency,
// CPU and memory on this machine and prints them next to a plain net/http
// baseline measured in the same run. It is run by `make bench`
// (scripts/bench.sh), once per setup. It starts a loopback receiver and
// then:
//
//  1. retry lateness: a webhookd with --retry-schedule=1s, an endpoint that
//     refuses each event's first attempt, and how long after its due time
//     each retry arrives;
//  2. a fresh webhookd with its defaults, one account with one endpoint and
//     one with --endpoints; per repeat, a baseline of signed POSTs with
//     net/http alone to 1 and to --endpoints hosts; a burst of events to 1
//     and to --endpoints endpoints, over gRPC and over REST, each waited
//     for until every delivery arrived; a steady run at --steady-rate; a
//     low-rate run at --low-rate, for webhookd's CPU per event;
//  3. pending retries: a third account whose endpoints refuse everything,
//     published to until --pending-retries retries wait, and webhookd's RSS
//     and publish latency with none, half and all of them waiting.
//
// It prints figures and the targets beside them, never fails on a target:
// the exit status is non-zero only when the benchmark could not run or a
// figure could not be measured. -short is the smoke test CI runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/webhookd/webhookd/internal/daemon"
	"github.com/webhookd/webhookd/internal/loopback"
)

// benchConfig is the command line.
type benchConfig struct {
	name           string
	commit         string
	binary         string
	databaseURL    string
	redisURL       string
	events         int
	eventsSingle   int
	endpoints      int
	publishers     int
	workers        int
	perEndpoint    int
	dataBytes      int
	steadyRate     int
	steadyDuration time.Duration
	lowRate        int
	lowDuration    time.Duration
	retryEvents    int
	retryInterval  time.Duration
	pendingRetries int
	pendingSample  time.Duration
	repeat         int
	short          bool
	timeout        time.Duration
	extraArgs      stringList
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// retryDelay is the --retry-schedule of the retry lateness run.
const retryDelay = time.Second

func main() {
	var c benchConfig
	flag.StringVar(&c.name, "setup", "", "name of the setup, printed above its table (default: derived from the URLs)")
	flag.StringVar(&c.commit, "commit", "", "commit of the webhookd measured, printed above the table")
	flag.StringVar(&c.binary, "webhookd", "bin/webhookd", "path of the webhookd binary to measure")
	flag.StringVar(&c.databaseURL, "database-url", "", "webhookd --database-url (default: embedded SQLite in a fresh data dir)")
	flag.StringVar(&c.redisURL, "redis-url", "", "webhookd --redis-url (default: embedded Redis-protocol server)")
	flag.IntVar(&c.events, "events", 20000, "events of each burst to -endpoints endpoints (each makes one delivery per endpoint)")
	flag.IntVar(&c.eventsSingle, "events-single", 5000, "events of each burst to one endpoint")
	flag.IntVar(&c.endpoints, "endpoints", 4, "endpoints of the many-endpoint account, each on its own loopback address")
	flag.IntVar(&c.publishers, "publishers", 32, "concurrent publish calls in the bursts")
	flag.IntVar(&c.workers, "workers", 32, "webhookd --workers, and the baseline's concurrent POSTs")
	flag.IntVar(&c.perEndpoint, "endpoint-concurrency", 8, "webhookd --endpoint-concurrency")
	flag.IntVar(&c.dataBytes, "data-bytes", 512, "approximate size of each event's data, in bytes of JSON")
	flag.IntVar(&c.steadyRate, "steady-rate", 1000, "events per second in the steady run")
	flag.DurationVar(&c.steadyDuration, "steady-duration", 20*time.Second, "length of the steady run")
	flag.IntVar(&c.lowRate, "low-rate", 200, "events per second in the low-rate run (CPU per event), and of the publish latency samples")
	flag.DurationVar(&c.lowDuration, "low-duration", 10*time.Second, "length of the low-rate run")
	flag.IntVar(&c.retryEvents, "retry-events", 200, "events of the retry lateness run")
	flag.DurationVar(&c.retryInterval, "retry-interval", 37*time.Millisecond, "time between the retry lateness run's events")
	flag.IntVar(&c.pendingRetries, "pending-retries", 100000, "retries waiting at the end of the memory run (0: no memory run)")
	flag.DurationVar(&c.pendingSample, "pending-sample", 2*time.Second, "length of each publish latency sample of the memory run, at -low-rate")
	flag.IntVar(&c.repeat, "repeat", 3, "runs of each measurement; the table shows medians")
	flag.BoolVar(&c.short, "short", false, "smoke test: a few hundred events per run, one repeat (flags given win), figures meaningless")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "longest wait for a run's deliveries to arrive")
	flag.Var(&c.extraArgs, "webhookd-flag", "extra flag for webhookd, e.g. -webhookd-flag=--poll-interval=100ms (repeatable)")
	flag.Parse()
	if c.short {
		c.applyShort(setFlags())
	}
	if err := c.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "webhookd-bench:", err)
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
	if missing := res.missing(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "webhookd-bench: %s: not measured: %s\n", c.name, strings.Join(missing, "; "))
		os.Exit(1)
	}
}

// setFlags names the flags given on the command line.
func setFlags() map[string]bool {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// applyShort scales every run down to a smoke test, except what set says
// was given.
func (c *benchConfig) applyShort(set map[string]bool) {
	for name, apply := range map[string]func(){
		"events":          func() { c.events = 400 },
		"events-single":   func() { c.eventsSingle = 200 },
		"steady-duration": func() { c.steadyDuration = time.Second },
		"low-duration":    func() { c.lowDuration = 2 * time.Second },
		"retry-events":    func() { c.retryEvents = 20 },
		"pending-retries": func() { c.pendingRetries = 2000 },
		"pending-sample":  func() { c.pendingSample = time.Second },
		"repeat":          func() { c.repeat = 1 },
		"timeout":         func() { c.timeout = 2 * time.Minute },
	} {
		if !set[name] {
			apply()
		}
	}
}

func (c *benchConfig) validate() error {
	if c.events < 1 || c.eventsSingle < 1 || c.endpoints < 1 || c.publishers < 1 || c.workers < 1 ||
		c.steadyRate < 1 || c.steadyDuration <= 0 || c.lowRate < 1 || c.lowDuration <= 0 ||
		c.retryEvents < 1 || c.retryInterval <= 0 || c.pendingRetries < 0 || c.pendingSample <= 0 || c.repeat < 1 {
		return fmt.Errorf("-events, -events-single, -endpoints, -publishers, -workers, -steady-rate, -steady-duration, " +
			"-low-rate, -low-duration, -retry-events, -retry-interval, -pending-sample and -repeat must be positive, -pending-retries not negative")
	}
	// Healthy, refusing and one failing-first endpoint, each on its own address.
	if 2*c.endpoints+1 > loopback.MaxEndpoints {
		return fmt.Errorf("-endpoints must be at most %d", (loopback.MaxEndpoints-1)/2)
	}
	return nil
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

// bench is one setup's measurement in progress.
type bench struct {
	c    benchConfig
	dir  string
	recv *receiver
	data map[string]any
	// The receiver's endpoints: healthy (answerOK) first, then refusing
	// (answerFail), then one failing each first attempt.
	healthy, refusing []string
	flaky             string
}

// run measures one setup.
func run(ctx context.Context, c benchConfig) (*setupResult, error) {
	dir, err := os.MkdirTemp("", "webhookd-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	answers := make([]answer, 2*c.endpoints+1)
	for i := range c.endpoints {
		answers[c.endpoints+i] = answerFail
	}
	answers[2*c.endpoints] = answerFailFirst
	recv, err := startReceiver(answers)
	if err != nil {
		return nil, err
	}
	defer recv.close()
	b := &bench{
		c: c, dir: dir, recv: recv, data: eventData(c.dataBytes),
		healthy:  recv.urls[:c.endpoints],
		refusing: recv.urls[c.endpoints : 2*c.endpoints],
		flaky:    recv.urls[2*c.endpoints],
	}
	res := &setupResult{
		name:              c.name,
		cfg:               c,
		postgres:          strings.HasPrefix(c.databaseURL, "postgres") && c.redisURL != "",
		webhookdArgsShown: fmt.Sprintf("--workers=%d --endpoint-concurrency=%d %s", c.workers, c.perEndpoint, c.extraArgs.String()),
	}
	if res.retries, err = b.retryLateness(ctx); err != nil {
		return nil, fmt.Errorf("retry lateness: %w", err)
	}
	if err := b.main(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// start starts a webhookd of this setup in its own data dir.
func (b *bench) start(ctx context.Context, name string, extra ...string) (*daemon.Process, error) {
	dir := filepath.Join(b.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf("%s: starting webhookd (%s)", b.c.name, name)
	return startDaemon(ctx, daemonConfig{
		Binary:      b.c.binary,
		DatabaseURL: b.c.databaseURL,
		RedisURL:    b.c.redisURL,
		DataDir:     dir,
		Workers:     b.c.workers,
		PerEndpoint: b.c.perEndpoint,
		ExtraArgs:   append(append([]string{}, b.c.extraArgs...), extra...),
	})
}

// retryLateness runs a webhookd whose only endpoint refuses each event's
// first attempt, with --retry-schedule=1s and the default --poll-interval,
// and measures, per repeat, how late the retries arrive. It has a process
// of its own because the memory run needs the default retry schedule, under
// which no retry comes due during the benchmark.
func (b *bench) retryLateness(ctx context.Context) ([]result, error) {
	d, err := b.start(ctx, "retries", fmt.Sprintf("--retry-schedule=%s", retryDelay))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	account, err := setupAccount(ctx, d, []string{b.flaky}, benchEventType)
	if err != nil {
		return nil, err
	}
	pub, err := newGRPCPublisher(d, account, b.data)
	if err != nil {
		return nil, err
	}
	var out []result
	for i := range b.c.repeat {
		logf("%s [%d/%d]: retry lateness, %d events %s apart, each refused once", b.c.name, i+1, b.c.repeat, b.c.retryEvents, b.c.retryInterval)
		rc := b.recv.expectRetries(b.c.retryEvents)
		if _, err := pub.steady(ctx, b.c.retryEvents, b.c.retryInterval, b.c.publishers); err != nil {
			return nil, err
		}
		if err := rc.wait(ctx, b.c.timeout); err != nil {
			return nil, fmt.Errorf("%w; webhookd's log:\n%s", err, d.LogTail(20))
		}
		r := latencies(rc.lateness(retryDelay))
		logf("%s [%d/%d]: retries late by p50 %s, p99 %s", b.c.name, i+1, b.c.repeat, ms(r.p50), ms(r.p99))
		out = append(out, r)
	}
	return out, nil
}

// main measures the bursts, the steady and low-rate runs and memory with
// pending retries on one webhookd with its default settings.
func (b *bench) main(ctx context.Context, res *setupResult) error {
	c := b.c
	d, err := b.start(ctx, "main")
	if err != nil {
		return err
	}
	defer d.Close()
	one, err := setupAccount(ctx, d, b.healthy[:1], benchEventType)
	if err != nil {
		return err
	}
	many, err := setupAccount(ctx, d, b.healthy, benchEventType)
	if err != nil {
		return err
	}
	var pubs [2][2]*publisher // [transport][single, many]
	for i, account := range []string{one, many} {
		if pubs[grpcTransport][i], err = newGRPCPublisher(d, account, b.data); err != nil {
			return err
		}
		if pubs[restTransport][i], err = newRESTPublisher(d, account, b.data, c.publishers); err != nil {
			return err
		}
	}
	fanouts := [2]int{1, c.endpoints}
	counts := [2]int{c.eventsSingle, c.events}

	for i := range c.repeat {
		tag := fmt.Sprintf("%s [%d/%d]", c.name, i+1, c.repeat)
		var rep repeatResult
		for shape := range 2 {
			n := counts[shape] * fanouts[shape]
			logf("%s: baseline, %d POSTs to %d hosts from %d goroutines", tag, n, fanouts[shape], c.workers)
			if rep.baseline[shape], err = baseline(ctx, b.recv, b.healthy[:fanouts[shape]], b.data, n, c.workers); err != nil {
				return err
			}
			logf("%s: baseline %.0f deliveries/s", tag, rep.baseline[shape].rate())
		}
		for _, tr := range []transport{grpcTransport, restTransport} {
			for shape := range 2 {
				logf("%s: burst, %d events over %s → %d endpoint%s from %d publishers", tag, counts[shape], tr, fanouts[shape], plural(fanouts[shape]), c.publishers)
				r, err := b.measure(ctx, d, fanouts[shape], func() ([]published, error) {
					return pubs[tr][shape].burst(ctx, counts[shape], c.publishers)
				})
				if err != nil {
					return fmt.Errorf("burst %s → %d: %w", tr, fanouts[shape], err)
				}
				logf("%s: %.0f deliveries/s (ratio %.3f), p99 %s, CPU %.2f ms/event", tag, r.rate(), r.rate()/rep.baseline[shape].rate(), ms(r.p99), r.cpuPerEvent())
				rep.burst[tr][shape] = r
			}
		}
		logf("%s: steady, %d events/s × %d endpoints for %s", tag, c.steadyRate, c.endpoints, c.steadyDuration)
		if rep.steady, err = b.steady(ctx, d, pubs[grpcTransport][1], c.steadyRate, c.steadyDuration); err != nil {
			return fmt.Errorf("steady run: %w", err)
		}
		logf("%s: steady p50 %s, p99 %s", tag, ms(rep.steady.p50), ms(rep.steady.p99))
		logf("%s: low rate, %d events/s × %d endpoints for %s", tag, c.lowRate, c.endpoints, c.lowDuration)
		if rep.low, err = b.steady(ctx, d, pubs[grpcTransport][1], c.lowRate, c.lowDuration); err != nil {
			return fmt.Errorf("low-rate run: %w", err)
		}
		logf("%s: low rate CPU %.2f ms/event (burst %.2f)", tag, rep.low.cpuPerEvent(), rep.burst[grpcTransport][1].cpuPerEvent())
		res.repeats = append(res.repeats, rep)
	}
	m, err := readMemory(d.PID())
	if err != nil {
		return err
	}
	res.runPeakRSS = m.peak
	if c.pendingRetries > 0 {
		if res.pending, err = b.pending(ctx, d, pubs[grpcTransport][1]); err != nil {
			return fmt.Errorf("pending retries: %w", err)
		}
	}
	if m, err = readMemory(d.PID()); err != nil {
		return err
	}
	res.endRSS = m.rss
	return nil
}

// measure runs publish and waits until its events' deliveries (fanout
// each) arrived, with webhookd's CPU time over it all.
func (b *bench) measure(ctx context.Context, d *daemon.Process, fanout int, publish func() ([]published, error)) (result, error) {
	// The collector must want the deliveries of exactly the events
	// published; publish says how many only when done, so count first.
	col := b.recv.expect(-1)
	cpu0, err := cpuTime(d.PID())
	if err != nil {
		return result{}, err
	}
	pubs, err := publish()
	if err != nil {
		return result{}, err
	}
	col.setWant(len(pubs) * fanout)
	if err := col.wait(ctx, b.c.timeout); err != nil {
		return result{}, fmt.Errorf("%w; webhookd's log:\n%s", err, d.LogTail(20))
	}
	r := analyze(pubs, col)
	cpu1, err := quiesce(ctx, d.PID())
	if err != nil {
		return result{}, err
	}
	r.events, r.cpu = len(pubs), cpu1-cpu0
	return r, nil
}

// quiesce waits until webhookd is idle and returns its CPU time then.
// Deliveries arrive before their attempts are recorded: the work a run
// leaves behind belongs to its CPU figure, not to the next run's.
func quiesce(ctx context.Context, pid int) (time.Duration, error) {
	const interval, idle, longest = 250 * time.Millisecond, 10 * time.Millisecond, 30 * time.Second
	last, err := cpuTime(pid)
	if err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(longest); time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(interval):
		}
		now, err := cpuTime(pid)
		if err != nil {
			return 0, err
		}
		if now-last <= idle { // one tick of /proc's clock: idle
			return now, nil
		}
		last = now
	}
	return last, nil
}

// steady publishes rate events/s for length to pub's account.
func (b *bench) steady(ctx context.Context, d *daemon.Process, pub *publisher, rate int, length time.Duration) (result, error) {
	n := max(1, int(float64(rate)*length.Seconds()))
	return b.measure(ctx, d, b.c.endpoints, func() ([]published, error) {
		return pub.steady(ctx, n, time.Second/time.Duration(rate), b.c.publishers)
	})
}

// pending publishes to an account whose endpoints refuse every attempt
// until -pending-retries retries wait (none comes due during the benchmark
// at the default --retry-schedule, 5 minutes first), and measures RSS and
// publish latency (samples at -low-rate to the healthy endpoints) with
// none, half and all of them waiting.
func (b *bench) pending(ctx context.Context, d *daemon.Process, sampler *publisher) (pendingResult, error) {
	c := b.c
	account, err := setupAccount(ctx, d, b.refusing, benchEventType)
	if err != nil {
		return pendingResult{}, err
	}
	refused, err := newGRPCPublisher(d, account, b.data)
	if err != nil {
		return pendingResult{}, err
	}
	if err := resetPeakRSS(d.PID()); err != nil {
		return pendingResult{}, fmt.Errorf("resetting the peak RSS: %w", err)
	}
	var out pendingResult
	queued := 0
	for _, level := range []int{0, c.pendingRetries / 2, c.pendingRetries} {
		if level > queued {
			events := (level - queued + len(b.refusing) - 1) / len(b.refusing)
			want := b.recv.failed.Load() + int64(events*len(b.refusing))
			logf("%s: queuing retries, %d events × %d refusing endpoints", c.name, events, len(b.refusing))
			if _, err := refused.burst(ctx, events, c.publishers); err != nil {
				return pendingResult{}, err
			}
			queued += events * len(b.refusing)
			if err := b.waitPending(ctx, d, want, int64(queued)); err != nil {
				return pendingResult{}, err
			}
		}
		lv := pendingLevel{target: level}
		if lv.depth, err = scheduleDepth(ctx, d.HTTPAddr); err != nil {
			return pendingResult{}, err
		}
		m, err := readMemory(d.PID())
		if err != nil {
			return pendingResult{}, err
		}
		lv.rss = m.rss
		for range c.repeat {
			r, err := b.steady(ctx, d, sampler, c.lowRate, c.pendingSample)
			if err != nil {
				return pendingResult{}, err
			}
			lv.samples = append(lv.samples, r)
		}
		logf("%s: %d retries waiting: RSS %s, publish p99 %s", c.name, lv.depth, mib(lv.rss), ms(median(lv.samples, func(r result) time.Duration { return r.callP99 })))
		out.levels = append(out.levels, lv)
	}
	m, err := readMemory(d.PID())
	if err != nil {
		return pendingResult{}, err
	}
	out.peakRSS = m.peak
	return out, nil
}

// waitPending waits until the refusing endpoints refused want requests in
// all and webhookd's schedule holds at least depth deliveries.
func (b *bench) waitPending(ctx context.Context, d *daemon.Process, want, depth int64) error {
	deadline := time.Now().Add(b.c.timeout)
	for {
		got := b.recv.failed.Load()
		if got >= want {
			n, err := scheduleDepth(ctx, d.HTTPAddr)
			if err != nil {
				return err
			}
			if n >= depth {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the schedule holds %d deliveries, want %d", n, depth)
			}
		} else if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d first attempts refused within %s", got, want, b.c.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
