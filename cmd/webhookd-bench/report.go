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

// result is one measured run.
type result struct {
	deliveries int
	// elapsed runs from the first publish (or send) to the last arrival.
	elapsed time.Duration
	// p50 and p99 are publish-to-delivery latencies (webhookd runs only).
	p50, p99, max time.Duration
	// publishRate is events accepted per second while publishing.
	publishRate float64
	// callP99 is the 99th percentile of the PublishEvent call itself.
	callP99   time.Duration
	dups      int
	bodyBytes int
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.deliveries) / r.elapsed.Seconds()
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
	slices.Sort(lat)
	slices.Sort(calls)
	r := result{
		deliveries: len(lat),
		elapsed:    last.Sub(first),
		p50:        percentile(lat, 50),
		p99:        percentile(lat, 99),
		callP99:    percentile(calls, 99),
		dups:       col.dups,
	}
	if len(lat) > 0 {
		r.max = lat[len(lat)-1]
	}
	if span := lastPub.Sub(first); span > 0 {
		r.publishRate = float64(len(pubs)-1) / span.Seconds()
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

// median of what f picks from each run.
func median[T int | float64 | time.Duration](runs []result, f func(result) T) T {
	vals := make([]T, len(runs))
	for i, r := range runs {
		vals[i] = f(r)
	}
	return medianOf(vals)
}

// medianOf returns the median of vals (0 when empty).
func medianOf[T int | float64 | time.Duration](vals []T) T {
	vals = slices.Clone(vals)
	slices.Sort(vals)
	switch {
	case len(vals) == 0:
		return 0
	case len(vals)%2 == 1:
		return vals[len(vals)/2]
	}
	return (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
}

// setupResult is everything measured for one setup.
type setupResult struct {
	name              string
	baseline          []result
	burst             []result
	steady            []result
	ratios            []float64 // webhookd / baseline, per repeat
	peakRSS           int64
	cfg               benchConfig
	checkRatio        bool // the throughput target applies to this setup
	targetRatio       float64
	targetSteadyP99   time.Duration
	webhookdArgsShown string
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
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
	line := strings.Repeat("─", 78)
	fmt.Fprintf(w, "\n%s\n webhookd bench — %s\n%s\n", line, s.name, line)
	fmt.Fprintf(w, " machine   %s\n", machine())
	fmt.Fprintf(w, " webhookd  %s\n", s.webhookdArgsShown)
	fmt.Fprintf(w, " workload  %d events × %d endpoints = %d deliveries of %d-byte bodies, %d gRPC publishers;\n",
		c.events, c.endpoints, c.events*c.endpoints, median(s.baseline, func(r result) int { return r.bodyBytes }), c.publishers)
	fmt.Fprintf(w, "           steady run %d events/s (%d deliveries/s) for %s; receiver answers 200 at once\n",
		c.steadyRate, c.steadyRate*c.endpoints, c.steadyDuration)
	if c.repeat > 1 {
		fmt.Fprintf(w, "           figures are medians of %d repeats\n", c.repeat)
	}
	fmt.Fprintln(w)
	row := func(name, value, target string) {
		fmt.Fprintf(w, " %-46s %-19s %s\n", name, value, target)
	}
	row("", "value", "target")
	row(fmt.Sprintf("baseline: net/http, %d concurrent POSTs", c.workers),
		fmt.Sprintf("%.0f /s", median(s.baseline, result.rate)), "")
	row("webhookd: first publish → last delivery",
		fmt.Sprintf("%.0f /s", median(s.burst, result.rate)), "")
	ratio := medianOf(s.ratios)
	target := fmt.Sprintf("≥ %.2f  %s", s.targetRatio, verdict(ratio >= s.targetRatio))
	if !s.checkRatio {
		target = fmt.Sprintf("(≥ %.2f applies to PostgreSQL + Redis)", s.targetRatio)
	}
	row("ratio webhookd / baseline", fmt.Sprintf("%.3f", ratio), target)
	row("  publish rate during the burst", fmt.Sprintf("%.0f events/s", median(s.burst, func(r result) float64 { return r.publishRate })), "")
	row("  burst latency p50 / p99 (publish → arrival)",
		ms(median(s.burst, func(r result) time.Duration { return r.p50 }))+" / "+ms(median(s.burst, func(r result) time.Duration { return r.p99 })), "")
	row(fmt.Sprintf("steady %d events/s: achieved publish rate", c.steadyRate),
		fmt.Sprintf("%.0f events/s", median(s.steady, func(r result) float64 { return r.publishRate })), "")
	row("  PublishEvent call p99", ms(median(s.steady, func(r result) time.Duration { return r.callP99 })), "")
	row("  latency p50 (publish → arrival)", ms(median(s.steady, func(r result) time.Duration { return r.p50 })), "")
	p99 := median(s.steady, func(r result) time.Duration { return r.p99 })
	row("  latency p99", ms(p99), fmt.Sprintf("< %s  %s", ms(s.targetSteadyP99), verdict(p99 < s.targetSteadyP99)))
	row("  latency max", ms(median(s.steady, func(r result) time.Duration { return r.max })), "")
	row("webhookd peak RSS (VmHWM)", fmt.Sprintf("%.0f MiB", float64(s.peakRSS)/(1<<20)), "")
	dups := 0
	for _, r := range append(slices.Clone(s.burst), s.steady...) {
		dups += r.dups
	}
	if dups > 0 {
		row("redeliveries (at-least-once duplicates)", fmt.Sprint(dups), "")
	}
	if c.repeat > 1 {
		fmt.Fprintf(w, "\n repeats (baseline /s, webhookd /s, ratio, steady p99):\n")
		for i := range s.burst {
			fmt.Fprintf(w, "   %d: %.0f  %.0f  %.3f  %s\n", i+1, s.baseline[i].rate(), s.burst[i].rate(), s.ratios[i], ms(s.steady[i].p99))
		}
	}
	fmt.Fprintln(w, line)
}
