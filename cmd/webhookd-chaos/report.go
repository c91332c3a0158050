package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is the outcome of a run.
type report struct {
	cfg        chaosConfig
	nodes      []*node
	publishFor time.Duration
	faults     []fault

	published  int
	expected   int
	retried    int64
	failures   map[string]int
	abandoned  int
	lastPubErr string
	failedAt   []time.Time
	begin      time.Time // the first publish

	delivered  int
	lost       int
	lostSample []string
	dups       []duplicate
	misrouted  int // a published event at an endpoint of another account
	unacked    int // arrivals of events whose publish was never acknowledged
	maxDelay   time.Duration
	maxDelayAt string
	// maxAckedDelay counts from the acknowledgement instead; a delivery
	// may arrive before it (negative).
	maxAckedDelay  time.Duration
	maxPublishCall time.Duration // first call to acknowledgement, retries included
	p50, p99       time.Duration
	lastAt         time.Duration // last first-arrival, since the first publish

	requests int64
	hungUp   int64
	badSigs  int
	lastBad  string
}

// analyze joins what was expected with what arrived.
func (r *report) analyze(expected map[arrivalKey]publishedEvent, accountOf map[string]int, endpoints []endpointRef, arrivals map[arrivalKey]time.Time) {
	delays := make([]time.Duration, 0, len(expected))
	for k, ev := range expected {
		at, ok := arrivals[k]
		if !ok {
			r.lost++
			if len(r.lostSample) < 10 {
				r.lostSample = append(r.lostSample, fmt.Sprintf("%s at endpoint %d (%s)", k.ID, k.Endpoint, endpoints[k.Endpoint].name))
			}
			continue
		}
		r.delivered++
		d := at.Sub(ev.start)
		delays = append(delays, d)
		if d > r.maxDelay {
			r.maxDelay = d
			r.maxDelayAt = fmt.Sprintf("%s at endpoint %d", k.ID, k.Endpoint)
		}
		r.maxAckedDelay = max(r.maxAckedDelay, at.Sub(ev.acked))
		r.maxPublishCall = max(r.maxPublishCall, ev.acked.Sub(ev.start))
		r.lastAt = max(r.lastAt, at.Sub(r.begin))
	}
	for k := range arrivals {
		if _, ok := expected[k]; ok {
			continue
		}
		if _, published := accountOf[k.ID]; published {
			r.misrouted++
		} else {
			r.unacked++
		}
	}
	slices.Sort(delays)
	if len(delays) > 0 {
		r.p50 = delays[len(delays)*50/100]
		r.p99 = delays[min(len(delays)-1, len(delays)*99/100)]
	}
}

// duplicateWindow is how long before a fault that loses attempts' records
// (see fault.unrecorded) a first copy may have arrived and still be counted
// as that fault's: an attempt is recorded once the recorder's queue and one
// transaction are through, which takes seconds on a starved machine.
const duplicateWindow = 10 * time.Second

// duplicateCauses splits the duplicates by when their first copy arrived:
// near, within duplicateWindow before or during a fault that loses records
// (the duplicates at-least-once delivery cannot avoid), or at other times,
// which point at two workers attempting one delivery at once. It also
// returns the median and longest time between the copies.
func (r *report) duplicateCauses() (near, other int, gap50, gapMax time.Duration) {
	gaps := make([]time.Duration, 0, len(r.dups))
	for _, d := range r.dups {
		at := d.first.Sub(r.begin)
		isNear := false
		for _, f := range r.faults {
			if f.unrecorded && at >= f.start-duplicateWindow && at <= f.end {
				isNear = true
			}
		}
		if isNear {
			near++
		} else {
			other++
		}
		gaps = append(gaps, d.again.Sub(d.first))
	}
	slices.Sort(gaps)
	if len(gaps) > 0 {
		gap50, gapMax = gaps[len(gaps)/2], gaps[len(gaps)-1]
	}
	return near, other, gap50, gapMax
}

// failedBetween counts the failed PublishEvent calls that ended from..to
// after the first publish.
func (r *report) failedBetween(from, to time.Duration) int {
	n := 0
	for _, t := range r.failedAt {
		if d := t.Sub(r.begin); d >= from && d <= to {
			n++
		}
	}
	return n
}

// problems lists why the run failed; empty means it passed.
func (r *report) problems() []string {
	var out []string
	if r.lost > 0 {
		out = append(out, fmt.Sprintf("%d deliveries lost", r.lost))
	}
	if r.badSigs > 0 {
		out = append(out, fmt.Sprintf("%d requests with a bad signature", r.badSigs))
	}
	if r.misrouted > 0 {
		out = append(out, fmt.Sprintf("%d events reached an endpoint of another account", r.misrouted))
	}
	if r.abandoned > 0 {
		out = append(out, fmt.Sprintf("%d events could not be published within 3 minutes of retries", r.abandoned))
	}
	for _, n := range r.nodes {
		if len(n.unexpected) > 0 {
			out = append(out, fmt.Sprintf("webhookd %s exited %d times without being killed", n.name, len(n.unexpected)))
		}
	}
	return out
}

func (r *report) print(w io.Writer) {
	form := "custom workload"
	switch {
	case r.cfg.short && r.cfg.events == shortEvents && r.cfg.rate == shortRate && r.cfg.hang == shortHang:
		form = "short form (-short)"
	case !r.cfg.short && r.cfg.events == longEvents && r.cfg.rate == longRate && r.cfg.hang == longHang:
		form = "long form"
	}
	redis := "standalone Redis"
	if r.cfg.redisCluster {
		redis = "Redis Cluster of 3 nodes"
	}
	line := strings.Repeat("─", 78)
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, " webhookd chaos run, %s, %s\n", form, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, " %s\n", machine())
	fmt.Fprintf(w, " 3 webhookd processes (%s) on PostgreSQL and a %s;\n", strings.Join(nodeRoles, "; "), redis)
	fmt.Fprintf(w, " %d events at %d/s to %d accounts, %d endpoints (each event goes to its account's endpoints)\n",
		r.cfg.events, r.cfg.rate, r.cfg.accounts, r.cfg.endpoints)
	fmt.Fprintln(w, line)
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, " %-44s %s\n", label, fmt.Sprintf(format, args...))
	}
	row("events published (acknowledged)", "%d in %s", r.published, r.publishFor.Round(100*time.Millisecond))
	row("  events whose publish needed retries", "%d (failed calls: %s)", r.retried, failureList(r.failures))
	if r.abandoned > 0 {
		row("  events given up on", "%d (last error: %s)", r.abandoned, r.lastPubErr)
	}
	row("deliveries expected", "%d", r.expected)
	row("delivered", "%d", r.delivered)
	row("lost", "%d", r.lost)
	dupPct := 0.0
	if r.delivered > 0 {
		dupPct = 100 * float64(len(r.dups)) / float64(r.delivered)
	}
	row("duplicated (arrived again after a 200)", "%d (%.2f %%)", len(r.dups), dupPct)
	if len(r.dups) > 0 {
		near, other, gap50, gapMax := r.duplicateCauses()
		row("  first copy just before/during a kill", "%d (worker SIGKILL, PostgreSQL down: sent, not recorded)", near)
		row("  at other times", "%d", other)
		row("  time between the copies p50 / max", "%s / %s", gap50.Round(time.Millisecond), gapMax.Round(time.Millisecond))
	}
	row("longest delay, publish → first receipt", "%s (%s)", r.maxDelay.Round(time.Millisecond), r.maxDelayAt)
	row("  from the acknowledged publish instead", "%s (longest publish, retries included: %s)",
		r.maxAckedDelay.Round(time.Millisecond), r.maxPublishCall.Round(time.Millisecond))
	row("delay p50 / p99", "%s / %s", r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond))
	row("last delivery", "%s after the first publish", r.lastAt.Round(100*time.Millisecond))
	row("requests received", "%d (%d abandoned by webhookd while hanging)", r.requests, r.hungUp)
	row("bad signatures", "%d", r.badSigs)
	row("misrouted (another account's endpoint)", "%d", r.misrouted)
	if r.unacked > 0 {
		row("events delivered but never acknowledged", "%d", r.unacked)
	}
	fmt.Fprintln(w, " faults injected (time since the first publish; failed PublishEvent calls meanwhile):")
	during := 0
	for _, f := range r.faults {
		n := r.failedBetween(f.start, f.end+time.Second)
		during += n
		fmt.Fprintf(w, "   %6.1f s – %6.1f s  %s: %s; %d failed calls\n", f.start.Seconds(), f.end.Seconds(), f.name, f.note, n)
	}
	fmt.Fprintf(w, "   failed PublishEvent calls outside the faults (up to 1 s after each): %d\n", len(r.failedAt)-during)
	for _, n := range r.nodes {
		for _, u := range n.unexpected {
			fmt.Fprintf(w, " webhookd %s exited without being killed: %s\n", n.name, u)
		}
	}
	if r.lost > 0 {
		fmt.Fprintf(w, " lost, first %d: %s\n", len(r.lostSample), strings.Join(r.lostSample, ", "))
	}
	if r.badSigs > 0 {
		fmt.Fprintf(w, " last bad signature: %s\n", r.lastBad)
	}
	fmt.Fprintln(w, line)
}

func failureList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", code, m[code]))
	}
	return strings.Join(parts, ", ")
}

// machine describes where the run happened.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs %s, %s", runtime.NumCPU(), model, runtime.Version())
}
