package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// transport is how events are published.
type transport int

const (
	grpcTransport transport = iota
	restTransport
)

func (t transport) String() string { return [...]string{"gRPC", "REST"}[t] }

// result is one measured run.
type result struct {
	deliveries int
	// events published, and webhookd's CPU time from the first publish
	// until it is idle after the last arrival (webhookd runs only).
	events int
	cpu    time.Duration
	// elapsed runs from the first publish (or send) to the last arrival.
	elapsed time.Duration
	// p50, p99 and max are publish-to-delivery latencies (webhookd runs),
	// or retry lateness.
	p50, p99, max time.Duration
	// publishRate is events accepted per second while publishing.
	publishRate float64
	// callP50 and callP99 are percentiles of the publish call itself.
	callP50, callP99 time.Duration
	dups             int
	bodyBytes        int
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.deliveries) / r.elapsed.Seconds()
}

// cpuPerEvent is webhookd's CPU time per event published, in milliseconds.
func (r result) cpuPerEvent() float64 {
	if r.events == 0 {
		return 0
	}
	return float64(r.cpu) / float64(time.Millisecond) / float64(r.events)
}

// analyze joins the events published with the deliveries that arrived.
func analyze(pubs []published, col *collector) result {
	starts := make(map[string]time.Time, len(pubs))
	var first, lastPub time.Time
	calls := make([]time.Duration, 0, len(pubs))
	for _, p := range pubs {
		starts[p.id] = p.start
		if first.IsZero() || p.start.Before(first) {
			first = p.start
		}
		if p.start.After(lastPub) {
			lastPub = p.start
		}
		calls = append(calls, p.call)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	lat := make([]time.Duration, 0, len(col.arrivals))
	var last time.Time
	for k, at := range col.arrivals {
		start, ok := starts[k.ID]
		if !ok {
			continue // not from this run
		}
		lat = append(lat, at.Sub(start))
		if at.After(last) {
			last = at
		}
	}
	r := latencies(lat)
	slices.Sort(calls)
	r.elapsed = last.Sub(first)
	r.callP50, r.callP99 = percentile(calls, 50), percentile(calls, 99)
	r.dups = col.dups
	if span := lastPub.Sub(first); span > 0 {
		r.publishRate = float64(len(pubs)-1) / span.Seconds()
	}
	return r
}

// latencies summarises durations: how many, p50, p99 and max.
func latencies(lat []time.Duration) result {
	lat = slices.Clone(lat)
	slices.Sort(lat)
	r := result{deliveries: len(lat), p50: percentile(lat, 50), p99: percentile(lat, 99)}
	if len(lat) > 0 {
		r.max = lat[len(lat)-1]
	}
	return r
}

// percentile of sorted values, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

type number interface {
	int | int64 | float64 | time.Duration
}

// median of what f picks from each run.
func median[R any, T number](runs []R, f func(R) T) T {
	vals := make([]T, len(runs))
	for i, r := range runs {
		vals[i] = f(r)
	}
	slices.Sort(vals)
	switch {
	case len(vals) == 0:
		return 0
	case len(vals)%2 == 1:
		return vals[len(vals)/2]
	}
	return (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
}

// repeatResult is one repeat of the main runs. Index [shape] is 0 for one
// endpoint, 1 for -endpoints.
type repeatResult struct {
	baseline [2]result
	burst    [2][2]result // [transport][shape]
	steady   result
	low      result
}

func (r repeatResult) ratio(t transport, shape int) float64 {
	if b := r.baseline[shape].rate(); b > 0 {
		return r.burst[t][shape].rate() / b
	}
	return 0
}

// cpuRatio is CPU per event at the low rate over that of the gRPC burst
// to the same endpoints.
func (r repeatResult) cpuRatio() float64 {
	if b := r.burst[grpcTransport][1].cpuPerEvent(); b > 0 {
		return r.low.cpuPerEvent() / b
	}
	return 0
}

// pendingLevel is webhookd with some retries waiting.
type pendingLevel struct {
	target  int
	depth   int64 // webhookd_schedule_depth
	rss     int64
	samples []result // publish latency samples, one per repeat
}

type pendingResult struct {
	levels []pendingLevel
	// peakRSS is VmHWM over queuing the retries and the samples.
	peakRSS int64
}

// setupResult is everything measured for one setup.
type setupResult struct {
	name              string
	cfg               benchConfig
	postgres          bool // PostgreSQL + Redis: the targets apply
	webhookdArgsShown string
	retries           []result // retry lateness, per repeat
	repeats           []repeatResult
	runPeakRSS        int64 // VmHWM after the repeats
	pending           pendingResult
	endRSS            int64
}

// rssTarget bounds webhookd's RSS with the pending retries waiting and
// during the burst that queued them.
const rssTarget = 150 << 20

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func atLeast(v, target float64) string {
	return fmt.Sprintf("≥ %.2f  %s", target, verdict(v >= target))
}
func under(d, target time.Duration) string {
	return fmt.Sprintf("< %s  %s", ms(target), verdict(d < target))
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// thousands writes n with thousands separators: 20,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// machine describes where the figures come from.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if model != "" {
		s += " (" + model + ")"
	}
	return s + fmt.Sprintf(", %s/%s, %s", runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func (s *setupResult) print(w io.Writer) {
	c := s.cfg
	line := strings.Repeat("─", 108)
	fmt.Fprintf(w, "\n%s\n webhookd bench — %s\n%s\n", line, s.name, line)
	if c.commit != "" {
		fmt.Fprintf(w, " commit    %s\n", c.commit)
	}
	fmt.Fprintf(w, " machine   %s\n", machine())
	fmt.Fprintf(w, " webhookd  %s\n", s.webhookdArgsShown)
	body := median(s.repeats, func(r repeatResult) int { return r.baseline[1].bodyBytes })
	fmt.Fprintf(w, " workload  bursts of %s events → %d endpoints and %s → 1, %d publishers, %d-byte bodies;\n",
		thousands(int64(c.events)), c.endpoints, thousands(int64(c.eventsSingle)), c.publishers, body)
	fmt.Fprintf(w, "           steady %s events/s × %d for %s; low rate %d events/s × %d for %s; receiver answers at once\n",
		thousands(int64(c.steadyRate)), c.endpoints, c.steadyDuration, c.lowRate, c.endpoints, c.lowDuration)
	fmt.Fprintf(w, "           baseline: net/http, %d concurrent signed POSTs of the same bodies to the same hosts\n", c.workers)
	if c.repeat > 1 {
		fmt.Fprintf(w, "           figures are medians of %d repeats\n", c.repeat)
	}
	if c.short {
		fmt.Fprintf(w, "           -short: a smoke test, the figures mean nothing\n")
	}
	fmt.Fprintln(w)
	row := func(name, value, base, ratio, target string) {
		fmt.Fprintf(w, " %-48s %-26s %-9s %-6s %s\n", name, value, base, ratio, target)
	}
	row("", "webhookd", "baseline", "ratio", "target")
	reps := s.repeats
	for _, tr := range []transport{grpcTransport, restTransport} {
		for _, shape := range []int{1, 0} {
			fan := []int{1, c.endpoints}[shape]
			burst := func(r repeatResult) result { return r.burst[tr][shape] }
			rate := median(reps, func(r repeatResult) float64 { return burst(r).rate() })
			base := median(reps, func(r repeatResult) float64 { return r.baseline[shape].rate() })
			ratio := median(reps, func(r repeatResult) float64 { return r.ratio(tr, shape) })
			p99 := median(reps, func(r repeatResult) time.Duration { return burst(r).p99 })
			ratioTarget, p99Target := "", ""
			switch {
			case s.postgres && tr == grpcTransport && shape == 1:
				ratioTarget, p99Target = atLeast(ratio, 0.45), under(p99, 100*time.Millisecond)
			case s.postgres && tr == restTransport && shape == 1:
				ratioTarget = atLeast(ratio, 0.35)
			case s.postgres && tr == restTransport && shape == 0:
				ratioTarget = atLeast(ratio, 0.2)
			case !s.postgres && tr == grpcTransport && shape == 1:
				ratioTarget, p99Target = atLeast(ratio, 0.3), under(p99, 250*time.Millisecond)
			}
			row(fmt.Sprintf("%s → %d endpoint%s, burst: deliveries/s", tr, fan, plural(fan)),
				thousands(int64(rate)), thousands(int64(base)), fmt.Sprintf("%.3f", ratio), ratioTarget)
			row("  publish → arrival p50 / p99",
				ms(median(reps, func(r repeatResult) time.Duration { return burst(r).p50 }))+" / "+ms(p99), "", "", p99Target)
			row("  publish rate; call p50 / p99",
				fmt.Sprintf("%s/s; %s / %s", thousands(int64(median(reps, func(r repeatResult) float64 { return burst(r).publishRate }))),
					ms(median(reps, func(r repeatResult) time.Duration { return burst(r).callP50 })),
					ms(median(reps, func(r repeatResult) time.Duration { return burst(r).callP99 }))), "", "", "")
			row("  webhookd CPU per event",
				fmt.Sprintf("%.3f ms", median(reps, func(r repeatResult) float64 { return burst(r).cpuPerEvent() })), "", "", "")
		}
	}
	steady := func(r repeatResult) result { return r.steady }
	sp99 := median(reps, func(r repeatResult) time.Duration { return steady(r).p99 })
	sTarget := ""
	if s.postgres {
		sTarget = under(sp99, 10*time.Millisecond)
	}
	row(fmt.Sprintf("steady %s events/s × %d: p50 / p99", thousands(int64(c.steadyRate)), c.endpoints),
		ms(median(reps, func(r repeatResult) time.Duration { return steady(r).p50 }))+" / "+ms(sp99), "", "", sTarget)
	row("  achieved publish rate; call p99",
		fmt.Sprintf("%s/s; %s", thousands(int64(median(reps, func(r repeatResult) float64 { return steady(r).publishRate }))),
			ms(median(reps, func(r repeatResult) time.Duration { return steady(r).callP99 }))), "", "", "")
	cpuRatio := median(reps, repeatResult.cpuRatio)
	row(fmt.Sprintf("CPU per event at %d events/s × %d", c.lowRate, c.endpoints),
		fmt.Sprintf("%.3f ms (%.2f× burst)", median(reps, func(r repeatResult) float64 { return r.low.cpuPerEvent() }), cpuRatio),
		"", "", fmt.Sprintf("≤ 1.5×  %s", verdict(cpuRatio <= 1.5)))
	lp99 := median(s.retries, func(r result) time.Duration { return r.p99 })
	row(fmt.Sprintf("retry lateness, --retry-schedule=%s: p50 / p99", retryDelay),
		ms(median(s.retries, func(r result) time.Duration { return r.p50 }))+" / "+ms(lp99), "", "", under(lp99, 50*time.Millisecond))
	row("  max", ms(median(s.retries, func(r result) time.Duration { return r.max })), "", "", "")
	row("peak RSS of the runs above (VmHWM)", mib(s.runPeakRSS), "", "", "")
	if len(s.pending.levels) > 0 {
		for _, lv := range s.pending.levels {
			target := ""
			if lv.target == c.pendingRetries {
				target = fmt.Sprintf("< %s  %s", mib(rssTarget), verdict(lv.rss < rssTarget))
			}
			row(fmt.Sprintf("%s retries waiting: RSS; publish p50 / p99", thousands(lv.depth)),
				fmt.Sprintf("%s; %s / %s", mib(lv.rss),
					ms(median(lv.samples, func(r result) time.Duration { return r.callP50 })),
					ms(median(lv.samples, func(r result) time.Duration { return r.callP99 }))), "", "", target)
		}
		row(fmt.Sprintf("  peak RSS while queuing %s retries", thousands(int64(c.pendingRetries))), mib(s.pending.peakRSS), "", "",
			fmt.Sprintf("< %s  %s", mib(rssTarget), verdict(s.pending.peakRSS < rssTarget)))
	}
	row("RSS at the end", mib(s.endRSS), "", "", "")
	dups := 0
	for _, r := range reps {
		for _, b := range r.burst {
			dups += b[0].dups + b[1].dups
		}
		dups += r.steady.dups + r.low.dups
	}
	if dups > 0 {
		row("redeliveries (at-least-once duplicates)", fmt.Sprint(dups), "", "", "")
	}
	if c.repeat > 1 {
		fmt.Fprintf(w, "\n repeats: ratios gRPC→%d, gRPC→1, REST→%d, REST→1; burst p99 gRPC→%d; steady p99; CPU ratio; retry p99\n",
			c.endpoints, c.endpoints, c.endpoints)
		for i, r := range reps {
			late := time.Duration(0)
			if i < len(s.retries) {
				late = s.retries[i].p99
			}
			fmt.Fprintf(w, "   %d: %.3f %.3f %.3f %.3f; %s; %s; %.2f×; %s\n", i+1,
				r.ratio(grpcTransport, 1), r.ratio(grpcTransport, 0), r.ratio(restTransport, 1), r.ratio(restTransport, 0),
				ms(r.burst[grpcTransport][1].p99), ms(r.steady.p99), r.cpuRatio(), ms(late))
		}
	}
	fmt.Fprintln(w, line)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// missing names the figures a run did not produce: a smoke test (-short)
// asserts that every one was, never how fast.
func (s *setupResult) missing() []string {
	var out []string
	check := func(ok bool, what string) {
		if !ok {
			out = append(out, what)
		}
	}
	check(len(s.repeats) == s.cfg.repeat, "repeats")
	for i, r := range s.repeats {
		for shape, fan := range []int{1, s.cfg.endpoints} {
			check(r.baseline[shape].rate() > 0, fmt.Sprintf("repeat %d: baseline → %d", i+1, fan))
			for _, tr := range []transport{grpcTransport, restTransport} {
				b := r.burst[tr][shape]
				check(b.rate() > 0 && b.p99 > 0 && b.cpu > 0, fmt.Sprintf("repeat %d: %s → %d burst", i+1, tr, fan))
			}
		}
		check(r.steady.deliveries > 0 && r.steady.p99 > 0, fmt.Sprintf("repeat %d: steady run", i+1))
		check(r.low.deliveries > 0 && r.low.cpu > 0, fmt.Sprintf("repeat %d: low-rate CPU", i+1))
	}
	check(len(s.retries) == s.cfg.repeat, "retry lateness")
	for i, r := range s.retries {
		check(r.deliveries == s.cfg.retryEvents, fmt.Sprintf("repeat %d: retry lateness", i+1))
	}
	check(s.runPeakRSS > 0 && s.endRSS > 0, "RSS")
	if s.cfg.pendingRetries > 0 {
		check(len(s.pending.levels) == 3 && s.pending.peakRSS > 0, "pending retries")
		for _, lv := range s.pending.levels {
			check(lv.depth >= int64(lv.target) && lv.rss > 0 && len(lv.samples) == s.cfg.repeat,
				fmt.Sprintf("%d pending retries", lv.target))
			for _, r := range lv.samples {
				check(r.callP99 > 0, fmt.Sprintf("%d pending retries: publish latency", lv.target))
			}
		}
	}
	return out
}
