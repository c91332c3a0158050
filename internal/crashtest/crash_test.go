package crashtest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestWorkerKilledMidDelivery SIGKILLs the only worker while the receiver
// holds its requests open, then starts another: the deliveries the dead
// worker had leased come due again when their lease ends, and every event
// arrives.
func TestWorkerKilledMidDelivery(t *testing.T) {
	t.Parallel()
	const events = 50
	h := newHold()
	s := newScenario(t, h.policy) // holds the first worker's requests until it dies
	first := s.c.start("worker")

	// Publish while the first worker delivers, and kill it as soon as it
	// has requests in flight.
	publishErrs := make(chan error, 1)
	go func() {
		for i := range events {
			if _, err := s.publish(fmt.Sprintf("kill-%d", i), i); err != nil {
				publishErrs <- fmt.Errorf("publishing kill-%d: %w", i, err)
				return
			}
		}
		publishErrs <- nil
	}()
	waitFor(t, "the first worker has requests in flight", 20*time.Second, func() (bool, string) {
		n := s.rcv.inFlight()
		return n >= 4, fmt.Sprintf("%d requests in flight", n)
	})
	inflight := s.rcv.inFlight()
	h.kill(first)
	t.Logf("SIGKILLed the worker with %d requests in flight at the receiver", inflight)
	if err := <-publishErrs; err != nil {
		t.Fatal(err)
	}

	s.c.start("worker")
	s.waitAllDelivered(60 * time.Second)
	s.report()
}

// TestHandOffsOfAKilledProcess SIGKILLs a process with both roles while it
// attempts the deliveries of events published to it, which it took without
// putting them in the schedule (worker.Engine.Dispatch): the reconciler of
// the next worker schedules them once they are overdue by a lease, and
// every event arrives.
func TestHandOffsOfAKilledProcess(t *testing.T) {
	t.Parallel()
	const events = 30
	h := newHold()
	s := newScenario(t, h.policy) // holds the requests until the process dies
	both := s.c.start("api,worker")
	apiOnly := s.client
	s.client = s.c.client(both)
	s.publishBatch("handoff", events)
	// The endpoint takes 8 attempts at once (--endpoint-concurrency): the
	// other deliveries wait for it in the schedule, and the 8 in flight are
	// in no schedule at all, only in the database.
	const concurrency = 8
	waitFor(t, "8 requests in flight and the other deliveries in the schedule", 20*time.Second, func() (bool, string) {
		n := s.rcv.inFlight()
		scheduled, err := s.c.redis.do("ZCARD", scheduleKey)
		if err != nil {
			return false, fmt.Sprintf("ZCARD %s: %v", scheduleKey, err)
		}
		return n == concurrency && scheduled == int64(events-concurrency),
			fmt.Sprintf("%d requests in flight, %v deliveries in the schedule", n, scheduled)
	})
	h.kill(both)
	t.Logf("SIGKILLed the api,worker process with %d hand-offs in flight", concurrency)

	s.client = apiOnly
	s.c.start("worker")
	s.waitAllDelivered(60 * time.Second)
	s.report()
}

// hold is a receiver policy that holds every request open until the
// webhookd process sending them is killed (or 3 s pass), then answers 200.
type hold struct {
	killed   atomic.Bool
	released chan struct{}
}

func newHold() *hold { return &hold{released: make(chan struct{})} }

func (h *hold) policy(r *http.Request, _ string, _ int) int {
	if !h.killed.Load() {
		select {
		case <-h.released:
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}
	return http.StatusOK
}

// kill SIGKILLs w and lets the requests it left go.
func (h *hold) kill(w *webhookd) {
	h.killed.Store(true)
	w.kill()
	close(h.released)
}

// TestRedisFlushed empties Redis while every delivery waits in the schedule
// for a retry: the reconciler puts them back from PostgreSQL.
func TestRedisFlushed(t *testing.T) {
	t.Parallel()
	const events = 40
	var failing atomic.Bool
	failing.Store(true)
	s := newScenario(t, func(r *http.Request, id string, n int) int {
		if failing.Load() {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	s.c.start("worker")
	ids := s.publishBatch("flush", events)
	waitFor(t, "a failed first attempt of every event", 30*time.Second, func() (bool, string) {
		n := s.rcv.seen(ids)
		return n == len(ids), fmt.Sprintf("%d of %d events attempted", n, len(ids))
	})

	scheduled, err := s.c.redis.do("ZCARD", scheduleKey)
	if err != nil {
		t.Fatalf("ZCARD %s: %v", scheduleKey, err)
	}
	if _, err := s.c.redis.do("FLUSHALL"); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	failing.Store(false)
	t.Logf("FLUSHALL with %v deliveries in the schedule", scheduled)
	if scheduled == int64(0) {
		t.Fatalf("the schedule was empty before FLUSHALL: the test lost nothing it could check")
	}

	s.waitAllDelivered(45 * time.Second)
	s.report()
}

// TestRedisRestarted kills Redis while deliveries wait for a retry, publishes
// during the outage (the database is the source of truth, so publishing
// must go on), restarts Redis empty on the same port and publishes more:
// events from before, during and after the outage are all delivered.
func TestRedisRestarted(t *testing.T) {
	t.Parallel()
	const perPhase = 20
	// The first attempt of each event fails, so that events wait in the
	// schedule for a retry when Redis dies.
	s := newScenario(t, func(r *http.Request, id string, n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	worker := s.c.start("worker")
	before := s.publishBatch("before", perPhase)
	waitFor(t, "a failed first attempt of every event published before the outage", 30*time.Second, func() (bool, string) {
		n := s.rcv.seen(before)
		return n == len(before), fmt.Sprintf("%d of %d events attempted", n, len(before))
	})

	s.c.redis.proc.kill()
	outage := time.Now()
	var failed []string
	var slowest, total time.Duration
	for i := range perPhase {
		start := time.Now()
		if _, err := s.publish(fmt.Sprintf("during-%d", i), i); err != nil {
			failed = append(failed, err.Error())
		}
		took := time.Since(start)
		slowest, total = max(slowest, took), total+took
	}
	t.Logf("published %d events with Redis down: mean %s, slowest %s per call",
		perPhase, (total / perPhase).Round(time.Millisecond), slowest.Round(time.Millisecond))
	if len(failed) > 0 {
		t.Errorf("publishing while Redis was down failed %d of %d times; the first error: %s",
			len(failed), perPhase, failed[0])
	}
	// Let the outage last until the worker has felt it.
	waitFor(t, "the worker notices Redis is gone", 20*time.Second, func() (bool, string) {
		return strings.Contains(worker.Log(), "claiming from the schedule failed"), "no claim failure logged yet"
	})
	if resp, err := http.Get(s.api.base + "/readyz"); err == nil {
		t.Logf("api /readyz during the outage: %s", resp.Status)
		_ = resp.Body.Close()
	}
	s.c.redis.restart()
	t.Logf("Redis down for %s, restarted empty on port %d", time.Since(outage).Round(time.Millisecond), s.c.redis.port)
	if err := s.api.waitReady(15 * time.Second); err != nil {
		t.Errorf("api after the Redis restart: %v", err)
	}

	s.publishBatch("after", perPhase)
	if len(failed) == 0 {
		// The idempotency key of an event published during the outage
		// still names that event.
		if _, err := s.publish("during-0", 0); err != nil {
			t.Errorf("publishing during-0 again: %v", err)
		}
	}

	s.waitAllDelivered(60 * time.Second)
	if worker.exited() {
		t.Errorf("the worker exited during the Redis outage (%v)", worker.ExitErr())
	}
	if s.api.exited() {
		t.Errorf("the api process exited during the Redis outage (%v)", s.api.ExitErr())
	}
	s.report()
}

// TestRedisFrozen stops Redis without closing its connections (SIGSTOP, as
// a hung server or a network partition looks): publishing must still answer
// promptly, since the event is committed before the schedule is told, and
// everything is delivered once Redis resumes.
func TestRedisFrozen(t *testing.T) {
	t.Parallel()
	const perPhase = 10
	// The longest a publish may take while Redis does not answer: the
	// server bounds the hand-off to the schedule (1s), plus room for a
	// loaded machine.
	const publishBound = 3 * time.Second
	s := newScenario(t, func(r *http.Request, id string, n int) int { return http.StatusOK })
	s.c.start("worker")
	s.publishBatch("before", perPhase)

	pid := s.c.redis.proc.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP redis-server: %v", err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Errorf("SIGCONT redis-server: %v", err)
			}
		}
	}
	t.Cleanup(resume) // a stopped process ignores SIGTERM: never leave it stopped
	var slowest time.Duration
	for i := range perPhase {
		start := time.Now()
		if _, err := s.publish(fmt.Sprintf("frozen-%d", i), i); err != nil {
			t.Errorf("publishing while Redis was frozen: %v", err)
		}
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("published %d events with Redis frozen; slowest call %s", perPhase, slowest.Round(time.Millisecond))
	if slowest > publishBound {
		t.Errorf("a publish took %s while Redis was frozen, want at most %s: the event was committed, "+
			"only the hand-off to the schedule waited", slowest.Round(time.Millisecond), publishBound)
	}
	resume()

	s.publishBatch("after", perPhase)
	s.waitAllDelivered(60 * time.Second)
	s.report()
}
