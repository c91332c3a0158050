package main

import (
	"context"
	"os"
	"testing"
	"time"
)

// Retry lateness is the retry's arrival less the refusal less the delay,
// and only an event's first request is refused.
func TestRetryCollector(t *testing.T) {
	t.Parallel()
	c := newRetryCollector(2)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		id         string
		at         time.Duration
		wantRefuse bool
	}{
		{"evt_a", 0, true},
		{"evt_b", 10 * time.Millisecond, true},
		{"evt_a", time.Second + 3*time.Millisecond, false},
		{"evt_a", 2 * time.Second, false}, // a redelivery changes nothing
		{"evt_b", time.Second + 50*time.Millisecond, false},
	}
	for _, s := range steps {
		if got := c.attempt(s.id, t0.Add(s.at)); got != s.wantRefuse {
			t.Errorf("attempt(%s at %s) refuse = %v, want %v", s.id, s.at, got, s.wantRefuse)
		}
	}
	if err := c.wait(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	r := latencies(c.lateness(time.Second))
	if r.deliveries != 2 || r.p50 != 3*time.Millisecond || r.max != 40*time.Millisecond {
		t.Errorf("lateness: %d retries, p50 %s, max %s; want 2, 3ms, 40ms", r.deliveries, r.p50, r.max)
	}
}

// A collector told how many to want after they arrived is done at once.
func TestCollectorSetWantAfterArrivals(t *testing.T) {
	t.Parallel()
	c := newCollector(-1)
	c.add(arrivalKey{Endpoint: 0, ID: "evt_a"}, time.Now())
	c.add(arrivalKey{Endpoint: 1, ID: "evt_a"}, time.Now())
	if err := c.wait(context.Background(), 10*time.Millisecond); err == nil {
		t.Fatal("done before its count was known")
	}
	c.setWant(2)
	if err := c.wait(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
}

// The /proc readers work on this process: it has used some CPU and memory.
func TestProcReaders(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc: not Linux")
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // spin so that the CPU time is not 0
	}
	cpu, err := cpuTime(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("cpuTime = %s, %v", cpu, err)
	}
	m, err := readMemory(os.Getpid())
	if err != nil || m.rss <= 0 || m.peak < m.rss {
		t.Errorf("readMemory = %+v, %v", m, err)
	}
	if err := resetPeakRSS(os.Getpid()); err != nil {
		t.Errorf("resetPeakRSS: %v", err)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567", -20000: "-20,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
