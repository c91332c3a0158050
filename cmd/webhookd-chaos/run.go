package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/webhookd/webhookd/internal/daemon"
)

// engineFlags are the delivery settings of every webhookd in the run: the
// production request timeout (5 s), but retries within seconds instead of
// hours, a lease short enough that the killed worker's deliveries come back
// soon, and a reconciler that puts back what the restarted Redis node lost
// within seconds. Together they let the run end in minutes.
var engineFlags = []string{
	"--allow-http-endpoints",
	"--allow-cidr=127.0.0.0/8",
	"--request-timeout=5s",
	"--retry-schedule=1s,2s,4s,8s,15s,30s,30s,30s,30s,30s,30s,30s",
	"--lease=15s",
	"--poll-interval=200ms",
	"--reconcile-interval=2s",
	"--log-level=warn",
}

// The processes of the run. The worker-only one is the one killed.
var nodeRoles = []string{"api,worker", "worker", "api,worker"}

const killedNode = 1

// run is one chaos run.
func run(ctx context.Context, c chaosConfig) (*report, error) {
	dir := c.workDir
	if dir == "" {
		d, err := os.MkdirTemp("", "webhookd-chaos-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	redisNode, err := readRedisConf(c.redisServer, c.redisConf, c.redisCluster)
	if err != nil {
		return nil, err
	}
	pg := &postgres{pgCtl: c.pgCtl, data: c.pgData}

	recv, err := startReceiver(c.endpoints)
	if err != nil {
		return nil, err
	}
	defer recv.close()

	// Every process must open the endpoint secrets the others sealed.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	args := append([]string{
		"--database-url=" + c.databaseURL,
		"--redis-url=" + c.redisURL,
		"--encryption-keys=chaos:" + base64.StdEncoding.EncodeToString(key),
	}, engineFlags...)
	if c.redisCluster {
		args = append(args, "--redis-cluster")
	}
	args = append(args, c.extraFlags...)
	var nodes []*node
	defer func() {
		for _, n := range nodes {
			n.dying.Store(true)
			n.proc.Close()
		}
	}()
	for i, roles := range nodeRoles {
		n := &node{name: fmt.Sprintf("%d (%s)", i+1, roles), api: slices.Contains([]string{"api,worker", "api"}, roles)}
		logf("starting webhookd %s", n.name)
		n.proc, err = daemon.Start(ctx, daemon.Config{
			Binary:  c.binary,
			Args:    append(slices.Clone(args), "--roles="+roles, "--data-dir="+filepath.Join(dir, "data-"+strconv.Itoa(i+1))),
			LogPath: filepath.Join(dir, fmt.Sprintf("webhookd-%d.log", i+1)),
		})
		if err != nil {
			return nil, fmt.Errorf("webhookd %s: %w", n.name, err)
		}
		nodes = append(nodes, n)
	}
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	var apis []*node
	for _, n := range nodes {
		go n.watch(watchCtx)
		if n.api {
			apis = append(apis, n)
		}
	}

	accounts, endpoints, err := setup(ctx, apis[0], recv, c.accounts)
	if err != nil {
		return nil, err
	}
	runID := make([]byte, 6)
	_, _ = rand.Read(runID)
	pub := newPublisher(apis, accounts, hex.EncodeToString(runID))

	publishFor := time.Duration(c.events) * time.Second / time.Duration(c.rate)
	logf("publishing %d events at %d/s (%s) to %d accounts with %d endpoints, injecting faults", c.events, c.rate, publishFor, c.accounts, c.endpoints)
	faults := &faultLog{begin: time.Now()}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	faultErr := make(chan error, 1)
	go func() {
		err := injectFaults(runCtx, faults, publishFor, c, recv, nodes[killedNode], redisNode, pg)
		if err != nil {
			cancelRun() // a fault that cannot be injected makes the run meaningless
		}
		faultErr <- err
	}()
	pub.run(runCtx, c.events, c.rate, c.inFlight)
	published := time.Now()
	if err := <-faultErr; err != nil {
		return nil, fmt.Errorf("injecting faults: %w", err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	expected := map[arrivalKey]publishedEvent{}
	byID := map[string]int{}
	for _, ev := range pub.published {
		byID[ev.id] = ev.account
		for j, ep := range endpoints {
			if ep.account == ev.account {
				expected[arrivalKey{Endpoint: j, ID: ev.id}] = ev
			}
		}
	}
	logf("published %d events (%d deliveries expected); waiting for the deliveries", len(pub.published), len(expected))
	deadline := time.Now().Add(c.timeout)
	lastLog := time.Now()
	for {
		missing := 0
		for k := range expected {
			if !recv.has(k) {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			logf("deadline: %d deliveries still missing", missing)
			break
		}
		if time.Since(lastLog) >= 10*time.Second {
			logf("%d of %d deliveries arrived", len(expected)-missing, len(expected))
			lastLog = time.Now()
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return nil, err
		}
	}
	// Late redeliveries (a lease that ran out while its attempt succeeded)
	// still count as duplicates if they come within a moment.
	_ = sleep(ctx, 2*time.Second)
	stopWatching()

	rep := &report{
		cfg:        c,
		nodes:      nodes,
		publishFor: published.Sub(faults.begin),
		faults:     faults.faults(),
		published:  len(pub.published),
		expected:   len(expected),
		retried:    pub.retried.Load(),
		failures:   pub.failures,
		abandoned:  pub.abandoned,
		lastPubErr: pub.lastErr,
		failedAt:   pub.failedAt,
		begin:      faults.begin,
		requests:   recv.requests.Load(),
		hungUp:     recv.hungUp.Load(),
	}
	var arrivals map[arrivalKey]time.Time
	arrivals, rep.dups, rep.badSigs, rep.lastBad = recv.snapshot()
	rep.analyze(expected, byID, endpoints, arrivals)
	return rep, nil
}

// injectFaults runs the faults one after another at set points of the
// publishing time (10 %, 30 %, 50 %, 70 %), recording when each began and
// ended relative to the first publish.
func injectFaults(ctx context.Context, log *faultLog, publishFor time.Duration, c chaosConfig,
	recv *receiver, victim *node, redisNode *redisNode, pg *postgres,
) error {
	steps := []struct {
		at     float64
		inject func() (fault, error)
	}{
		{0.10, func() (fault, error) { return hangEndpoint(recv, c.hang), nil }},
		{0.30, func() (fault, error) { return killWorker(ctx, victim, 2*time.Second) }},
		{0.50, func() (fault, error) { return redisNode.restart(ctx, c.down) }},
		{0.70, func() (fault, error) { return pg.restart(ctx, c.down) }},
	}
	for _, s := range steps {
		at := time.Duration(s.at * float64(publishFor))
		if err := sleep(ctx, time.Until(log.begin.Add(at))); err != nil {
			return nil // the run was cancelled; it reports that itself
		}
		start := time.Since(log.begin)
		f, err := s.inject()
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		f.start, f.end = start, time.Since(log.begin)
		if f.lasts > 0 {
			f.end = start + f.lasts
		}
		logf("fault: %s, %s", f.name, f.note)
		log.add(f)
	}
	return nil
}
