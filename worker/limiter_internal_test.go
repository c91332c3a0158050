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
		l.release("ep_a")
	}()
	if !l.acquire("ep_a", 10*time.Second) {
		t.Fatal("waiting acquire did not get the released slot")
	}
	// … and gives up when none frees in time.
	if l.acquire("ep_a", 20*time.Millisecond) {
		t.Fatal("acquired a slot nobody released")
	}
	l.release("ep_a")
	l.release("ep_b")
	if len(l.counts) != 0 {
		t.Fatalf("counts left behind: %v", l.counts)
	}
}
