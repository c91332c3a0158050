package worker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/worker"
)

// handOff publishes one event to the rig's account and hands its
// deliveries to the engine as the API of a process with the worker role
// does (Engine.Enqueue with the event).
func (r *engineRig) handOff(t *testing.T) []*webhookd.Delivery {
	t.Helper()
	ev := &webhookd.Event{ID: r.ids.New(webhookd.PrefixEvent), AccountID: r.account, Type: "property.created",
		Data: []byte(`{"property":{"id":"prop_123456"}}`), CreateTime: r.clock.Now()}
	stored, ds, _, err := r.store.PublishEvent(t.Context(), ev, r.ids.New)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.engine.Enqueue(t.Context(), stored, ds); err != nil {
		t.Fatal(err)
	}
	return ds
}

func scheduleLen(t *testing.T, s *worker.Schedule) int64 {
	t.Helper()
	n, err := s.Len(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHandOffSkipsTheSchedule checks that a delivery handed off is
// attempted while the schedule holds nothing, that a success leaves it
// empty, and that a failure puts the delivery there for its retry.
func TestHandOffSkipsTheSchedule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		wantStatus webhookd.DeliveryStatus
		wantLen    int64
	}{
		{"success", http.StatusOK, webhookd.DeliverySucceeded, 0},
		{"failure", http.StatusInternalServerError, webhookd.DeliveryPending, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := startEngine(t)
			var heldDuringAttempt atomic.Int64
			heldDuringAttempt.Store(-1)
			// The handler runs on the server's goroutine, where t.Fatal
			// must not be called: it reports a failed read here instead.
			lenFailed := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n, err := rig.schedule.Len(r.Context()); err != nil {
					select {
					case lenFailed <- err:
					default:
					}
				} else {
					heldDuringAttempt.Store(n)
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			rig.endpoint(t, srv.URL)
			d := rig.handOff(t)[0]
			got := rig.waitAttempts(t, d.ID, 1)
			select { // sent before the answer, so before the attempt was recorded
			case err := <-lenFailed:
				t.Fatalf("reading the schedule during the attempt: %v", err)
			default:
			}
			if got.Status != tc.wantStatus {
				t.Fatalf("status %s, want %s", got.Status, tc.wantStatus)
			}
			if n := heldDuringAttempt.Load(); n != 0 {
				t.Errorf("the schedule held %d entries during the attempt, want 0 (a hand-off is never scheduled)", n)
			}
			waitFor(t, "the schedule to settle", func() bool { return scheduleLen(t, rig.schedule) == tc.wantLen })
			if tc.wantLen == 0 {
				return
			}
			retry := got.NextAttemptTime.UnixMilli()
			due, err := rig.schedule.Due(t.Context(), retry, 10)
			if err != nil {
				t.Fatal(err)
			}
			early, err := rig.schedule.Due(t.Context(), retry-1, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(due) != 1 || due[0] != d.ID || len(early) != 0 {
				t.Errorf("scheduled %v at the retry time and %v just before, want [%s] and none", due, early, d.ID)
			}
		})
	}
}

// TestHandOffReadsChangedEndpoints checks that an endpoint changed since
// the engine last used it is not sent to from memory: the delivery names the
// endpoint's version, and an older one in the cache is read again.
func TestHandOffReadsChangedEndpoints(t *testing.T) {
	t.Parallel()
	rig := startEngine(t)
	var before, after atomic.Int32
	oldSrv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { before.Add(1) }))
	defer oldSrv.Close()
	newSrv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { after.Add(1) }))
	defer newSrv.Close()
	ep := rig.endpoint(t, oldSrv.URL)
	rig.waitAttempts(t, rig.handOff(t)[0].ID, 1)

	rig.clock.Advance(time.Second)
	ep.URL, ep.UpdateTime = newSrv.URL, rig.clock.Now()
	if err := rig.store.UpdateEndpoint(t.Context(), rig.account, ep); err != nil {
		t.Fatal(err)
	}
	rig.waitAttempts(t, rig.handOff(t)[0].ID, 1)
	if b, a := before.Load(), after.Load(); b != 1 || a != 1 {
		t.Fatalf("old URL got %d requests, new URL %d; want 1 and 1", b, a)
	}
}

// TestHandOffOverflowsToTheSchedule checks that deliveries beyond what the
// local queue holds go to the schedule, and that each is delivered once
// when the engine runs. Hand-offs made before Run wait for it.
func TestHandOffOverflowsToTheSchedule(t *testing.T) {
	t.Parallel()
	const handOffs, queue = 20, 8
	rig := newEngineRig(t, func(c *worker.EngineConfig) { c.HandOffQueue = queue })
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.Header.Get("X-Webhook-Id")]++
		mu.Unlock()
	}))
	defer srv.Close()
	rig.endpoint(t, srv.URL)
	var ids []string
	for range handOffs {
		ids = append(ids, rig.handOff(t)[0].ID)
	}
	if got := scheduleLen(t, rig.schedule); got != handOffs-queue {
		t.Fatalf("the schedule holds %d deliveries, want the %d the queue had no room for", got, handOffs-queue)
	}
	rig.run(t.Context())
	for _, id := range ids {
		if d := rig.waitAttempts(t, id, 1); d.Status != webhookd.DeliverySucceeded {
			t.Fatalf("%s: status %s", id, d.Status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != handOffs {
		t.Errorf("the receiver got %d distinct events, want %d", len(hits), handOffs)
	}
	for id, n := range hits {
		if n != 1 {
			t.Errorf("event %s arrived %d times, want once", id, n)
		}
	}
}

// TestHandOffGivenBackOnStop checks that hand-offs still queued when the
// engine stops go to the schedule, due at once, rather than waiting for the
// reconciler, and that later ones go there directly.
func TestHandOffGivenBackOnStop(t *testing.T) {
	t.Parallel()
	rig := newEngineRig(t, func(*worker.EngineConfig) {})
	rig.endpoint(t, "http://127.0.0.1:1/")
	var ids []string
	for range 5 {
		ids = append(ids, rig.handOff(t)[0].ID)
	}
	if got := scheduleLen(t, rig.schedule); got != 0 {
		t.Fatalf("the schedule holds %d deliveries before the engine ran, want 0 (all queued)", got)
	}
	stopped, cancel := context.WithCancel(t.Context())
	cancel()
	if err := rig.engine.Run(stopped); err != nil {
		t.Fatal(err)
	}
	due, err := rig.schedule.Due(t.Context(), rig.clock.Now().UnixMilli(), 10)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(due)
	if !slices.Equal(due, ids) {
		t.Errorf("due after stop: %v, want %v", due, ids)
	}
	more := rig.handOff(t)[0]
	if due, _ := rig.schedule.Due(t.Context(), rig.clock.Now().UnixMilli(), 10); !slices.Contains(due, more.ID) {
		t.Errorf("a hand-off after stop is not in the schedule: %v", due)
	}
}
