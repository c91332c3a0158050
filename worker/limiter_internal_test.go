package worker

import (
	"testing"
	"time"
)

func TestEndpointLimiter(t *testing.T) {
	t.Parallel()
	l := newEndpointLimiter(1)
	if !l.acquire("ep_a", 0) {
		t.Fatal("first acquire failed")
	}
	if l.acquire("ep_a", 0) {
		t.Fatal("acquired beyond the limit without waiting")
	}
	if !l.acquire("ep_b", 0) {
		t.Fatal("another endpoint is limited by the first")
	}
	// A waiter gets the slot as soon as it is released …
	go func() {
		time.Sleep(20 * time.Millisecond)
		l.release("ep_a", false)
	}()
	if !l.acquire("ep_a", 10*time.Second) {
		t.Fatal("waiting acquire did not get the released slot")
	}
	// … and gives up when none frees in time.
	if l.acquire("ep_a", 20*time.Millisecond) {
		t.Fatal("acquired a slot nobody released")
	}
	l.release("ep_a", false)
	l.release("ep_b", false)
	if len(l.counts) != 0 {
		t.Fatalf("counts left behind: %v", l.counts)
	}
}

// TestEndpointLimiterNarrowsFailingEndpoints checks that an endpoint whose
// attempts keep failing is held to one attempt at a time, and gets its full
// concurrency back with its first success.
func TestEndpointLimiterNarrowsFailingEndpoints(t *testing.T) {
	t.Parallel()
	l := newEndpointLimiter(4)
	inFlight := func(id string) int {
		n := 0
		for l.acquire(id, 0) {
			n++
		}
		// Hand the slots back without an outcome: no attempt was made.
		l.mu.Lock()
		delete(l.counts, id)
		l.mu.Unlock()
		return n
	}
	steps := []struct {
		name    string
		fail    int // failed attempts to record first
		succeed bool
		want    int
	}{
		{name: "healthy", want: 4},
		{name: "two failures", fail: 2, want: 4},
		{name: "a third in a row", fail: 1, want: 1},
		{name: "more failures", fail: 5, want: 1},
		{name: "one success", succeed: true, want: 4},
	}
	for _, st := range steps {
		for range st.fail {
			if !l.acquire("ep_dead", 0) {
				t.Fatalf("%s: no slot to fail with", st.name)
			}
			l.release("ep_dead", true)
		}
		if st.succeed {
			l.acquire("ep_dead", 0)
			l.release("ep_dead", false)
		}
		// Other endpoints are untouched by ep_dead's failures.
		if got := inFlight("ep_other"); got != 4 {
			t.Fatalf("%s: ep_other may have %d attempts, want 4", st.name, got)
		}
		failing := l.failing["ep_dead"]
		if got := inFlight("ep_dead"); got != st.want {
			t.Fatalf("%s: ep_dead may have %d attempts at once (after %d failures in a row), want %d", st.name, got, failing, st.want)
		}
	}
}
