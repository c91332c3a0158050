package worker_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/worker"
)

// TestSenderBoundsConnectionsPerHost sends more concurrent attempts to a
// hanging host than MaxConnsPerHost: the host gets that many connections
// and no more, and the attempts beyond wait for one until their timeout.
func TestSenderBoundsConnectionsPerHost(t *testing.T) {
	t.Parallel()
	const limit, attempts = 2, 5
	hang := startRawReceiver(t, func(_ net.Conn, br *bufio.Reader) {
		if readRequest(br) {
			_, _ = io.Copy(io.Discard, br)
		}
	})
	const timeout = 3 * time.Second
	s := newTestSender(t, worker.SenderConfig{Timeout: timeout, MaxConnsPerHost: limit})
	results := make(chan worker.Result, attempts)
	for range attempts {
		go func() { results <- s.Send(t.Context(), request(hang.URL())) }()
	}
	waitFor(t, "the first connections", func() bool { return hang.peak() >= limit })
	// Well inside the timeout, nothing has ended, so no connection was
	// closed and none could have been replaced: the count is exact.
	time.Sleep(300 * time.Millisecond)
	hang.mu.Lock()
	accepted := hang.accepted
	hang.mu.Unlock()
	if accepted != limit {
		t.Errorf("the host accepted %d connections, want MaxConnsPerHost = %d", accepted, limit)
	}
	for range attempts {
		res := <-results
		if !strings.HasPrefix(res.Err, "timeout after 3s ") || res.Duration > timeout+time.Second {
			t.Errorf("result %+v, want a timeout after 3s", res)
		}
	}
}

// TestSenderBoundsIdleConnections makes many concurrent attempts to one
// healthy host: afterwards only MaxIdleConnsPerHost connections stay open
// for reuse, the others are closed.
func TestSenderBoundsIdleConnections(t *testing.T) {
	t.Parallel()
	const concurrent, idle = 8, 2
	var mu sync.Mutex
	open, peak := 0, 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(100 * time.Millisecond) // so that the attempts overlap
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch state {
		case http.StateNew:
			open++
			peak = max(peak, open)
		case http.StateClosed, http.StateHijacked:
			open--
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := newTestSender(t, worker.SenderConfig{Timeout: 5 * time.Second, MaxConnsPerHost: concurrent, MaxIdleConnsPerHost: idle})
	var wg sync.WaitGroup
	for range concurrent {
		wg.Go(func() {
			if res := s.Send(t.Context(), request(srv.URL)); !res.OK() {
				t.Errorf("attempt: %+v", res)
			}
		})
	}
	wg.Wait()
	waitFor(t, "idle connections to be closed down to MaxIdleConnsPerHost", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return open <= idle
	})
	mu.Lock()
	defer mu.Unlock()
	if peak <= idle {
		t.Fatalf("at most %d connections were open at once; the attempts did not overlap, so this proves nothing", peak)
	}
}

// TestHostileBurstReturnsToBaseline throws rounds of concurrent attempts at
// every hostile receiver at once and measures the process: while the burst
// runs the heap stays small (the endless bodies would be gigabytes if read), and
// once it is over and idle connections are closed, goroutines, open file
// descriptors (sockets) and the heap return to what they were before. It
// measures the whole process, so it does not run in parallel with other
// tests; the counts are polled, so a slow machine only makes it wait.
func TestHostileBurstReturnsToBaseline(t *testing.T) {
	if runtime.GOOS != "linux" {
		// Without /proc/self/fd the open files cannot be counted, and a
		// leak check that cannot see sockets would pass whatever leaked.
		t.Skip("counting open file descriptors needs Linux's /proc/self/fd")
	}
	const (
		rounds   = 3
		perHost  = 4
		timeout  = 500 * time.Millisecond
		heapSlop = 1 << 20  // allocator and GC noise
		heapPeak = 64 << 20 // far below what the bodies would take if kept
	)
	var receivers []*rawReceiver
	for _, b := range hostileBehaviours() {
		receivers = append(receivers, startRawReceiver(t, b.serve))
	}
	healthy := newReceiver(t, func(http.ResponseWriter, *http.Request) {})
	s := newTestSender(t, worker.SenderConfig{Timeout: timeout, MaxConnsPerHost: perHost})
	urls := []string{healthy.URL}
	for _, r := range receivers {
		urls = append(urls, r.URL())
	}
	burst := func() {
		var wg sync.WaitGroup
		for _, u := range urls {
			for range perHost {
				wg.Go(func() { s.Send(t.Context(), request(u)) })
			}
		}
		wg.Wait()
	}
	// One round first, so that what net/http and the runtime set up once
	// (and keep) is part of the baseline.
	burst()
	s.Close()
	settle := func() {
		waitFor(t, "the hostile receivers to see every connection closed", func() bool {
			for _, r := range receivers {
				if r.open() != 0 {
					return false
				}
			}
			return true
		})
	}
	settle()
	baseGoroutines, baseFDs, baseHeap := runtime.NumGoroutine(), openFDs(t), heapAfterGC()

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	for range rounds {
		burst()
	}
	close(stop)
	<-sampled
	s.Close()
	settle()

	var goroutines, fds int
	waitFor(t, "goroutines and open files to return to their baseline", func() bool {
		goroutines, fds = runtime.NumGoroutine(), openFDs(t)
		return goroutines <= baseGoroutines+2 && fds <= baseFDs+2
	})
	heap := heapAfterGC()
	t.Logf("baseline: %d goroutines, %d fds, heap %d KiB; after %d rounds: %d goroutines, %d fds, heap %d KiB, peak heap during the burst %d KiB",
		baseGoroutines, baseFDs, baseHeap>>10, rounds, goroutines, fds, heap>>10, peak.Load()>>10)
	if heap > baseHeap+heapSlop {
		t.Errorf("heap after the burst is %d KiB, baseline %d KiB: something the burst allocated is still referenced", heap>>10, baseHeap>>10)
	}
	if p := peak.Load(); p > baseHeap+heapPeak {
		t.Errorf("heap peaked at %d KiB during the burst (baseline %d KiB): response bodies are being kept", p>>10, baseHeap>>10)
	}
}

// openFDs counts this process's open file descriptors (sockets included),
// on Linux only (the caller skips elsewhere): a count it cannot read fails
// the test rather than compare nothing.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("cannot count open files: %v", err)
	}
	return len(entries)
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers released
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
