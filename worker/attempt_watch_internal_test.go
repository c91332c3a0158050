package worker

import "testing"

// TestAttemptWatchers checks that a watcher hears of its own delivery's
// attempts only, that a wake-up waits for it when it is not listening, and
// that stopping forgets it.
func TestAttemptWatchers(t *testing.T) {
	t.Parallel()
	e := &Engine{}
	a, stopA := e.WatchAttempts("dlv_a")
	b, stopB := e.WatchAttempts("dlv_b")
	e.watchers.recorded([]string{"dlv_a", "dlv_a", "dlv_c"}) // twice: one wake-up is kept, the other dropped
	select {
	case <-a:
	default:
		t.Fatal("the watcher of dlv_a was not woken")
	}
	select {
	case <-a:
		t.Fatal("a second wake-up was queued")
	case <-b:
		t.Fatal("the watcher of dlv_b was woken by another delivery")
	default:
	}
	stopA()
	stopA() // stopping twice is harmless
	stopB()
	if n := e.watchers.n.Load(); n != 0 || len(e.watchers.m) != 0 {
		t.Fatalf("after stopping: %d watchers counted, %d deliveries kept", n, len(e.watchers.m))
	}
	e.watchers.recorded([]string{"dlv_a"}) // nobody listens: nothing to do
}
