package worker

import (
	"sync"
	"sync/atomic"
)

// attemptWatchers lets callers in this process wait for a delivery's next
// recorded attempt instead of polling the database for it: SendTestEvent
// with wait, whose test delivery this process's own workers usually
// attempt (see Enqueue). A delivery attempted by another process records
// nothing here, so a watcher must still look at the database now and then.
type attemptWatchers struct {
	n  atomic.Int64 // watchers registered, so that recording skips the lock when there are none
	mu sync.Mutex
	m  map[string]map[chan struct{}]struct{}
}

// WatchAttempts returns a channel that receives a value each time an
// attempt of delivery id is recorded by this engine (or found recorded by
// another worker first), and a function that stops the watch. Watch before
// looking at the database, so that an attempt recorded in between is not
// missed. Safe for concurrent use; the channel is never closed.
func (e *Engine) WatchAttempts(id string) (<-chan struct{}, func()) {
	w := &e.watchers
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.m == nil {
		w.m = map[string]map[chan struct{}]struct{}{}
	}
	set := w.m[id]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		w.m[id] = set
	}
	set[ch] = struct{}{}
	w.n.Add(1)
	w.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			delete(w.m[id], ch)
			if len(w.m[id]) == 0 {
				delete(w.m, id)
			}
			w.n.Add(-1)
		})
	}
}

// recorded tells the watchers of each delivery id that an attempt is in
// the database.
func (w *attemptWatchers) recorded(ids []string) {
	if w.n.Load() == 0 || len(ids) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		for ch := range w.m[id] {
			select {
			case ch <- struct{}{}:
			default: // one wake-up pending is enough
			}
		}
	}
}
