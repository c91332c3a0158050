package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
)

// recordingHandler keeps the messages of the records it handles.
type recordingHandler struct {
	mu       sync.Mutex
	messages []string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.messages = append(h.messages, r.Message)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	cases := []struct {
		failures int
		full     time.Duration // the delay before jitter
	}{
		{1, outageMinDelay},
		{2, 2 * outageMinDelay},
		{3, 4 * outageMinDelay},
		{6, outageMaxDelay}, // 250ms·32 = 8s … capped from here on
		{7, outageMaxDelay},
		{1000, outageMaxDelay},
	}
	for _, c := range cases {
		t.Run(time.Duration(c.failures).String(), func(t *testing.T) {
			t.Parallel()
			if c.failures == 6 {
				c.full = 8 * time.Second
			}
			for range 100 {
				if d := backoffDelay(c.failures); d < c.full/2 || d > c.full {
					t.Fatalf("backoffDelay(%d) = %v, want within [%v, %v]", c.failures, d, c.full/2, c.full)
				}
			}
		})
	}
}

// TestOutageLogsStateChanges checks that a run of failures logs one warning
// and its end one line, and that calls wait for the backoff.
func TestOutageLogsStateChanges(t *testing.T) {
	t.Parallel()
	h := &recordingHandler{}
	o := newOutage("database", slog.New(h))
	ctx := context.Background()
	if !o.ready() {
		t.Fatal("ready before any failure = false")
	}
	for range 5 {
		o.failed(ctx, errors.New("connection refused"))
	}
	if o.ready() {
		t.Fatal("ready right after a failure = true, want to wait for the backoff")
	}
	o.succeeded(ctx)
	o.succeeded(ctx)
	if !o.ready() {
		t.Fatal("ready after a success = false")
	}
	want := []string{"database unavailable; backing off until it answers", "database available again"}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.messages) != len(want) || h.messages[0] != want[0] || h.messages[1] != want[1] {
		t.Fatalf("logged %q, want %q", h.messages, want)
	}
}

// TestNoHandOffStartsWhileTheDatabaseBacksOff checks that a hand-off queued
// before the database went away waits for it: its outcome could not be
// recorded, and every attempt sent but never recorded is sent again.
func TestNoHandOffStartsWhileTheDatabaseBacksOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	e := &Engine{
		cfg:    EngineConfig{Lease: time.Minute, Now: time.Now, Logger: logger},
		db:     newOutage("database", logger),
		local:  make(chan localWork, 1),
		handed: make(chan struct{}, 1),
		jobs:   make(chan job, 1),
	}
	ev := &webhookd.Event{ID: "evt_1"}
	if rest := e.handOff(ctx, ev, []*webhookd.Delivery{{ID: "dlv_1", NextAttemptTime: time.Now()}}); len(rest) != 0 {
		t.Fatalf("not handed off: %v", rest)
	}
	for range 10 { // a backoff of seconds
		e.db.failed(ctx, errors.New("connection refused"))
	}
	slots := make(chan struct{}, 1)
	if n := e.startLocal(ctx, slots); n != 0 || len(e.local) != 1 {
		t.Fatalf("started %d hand-offs while the database backs off (%d left queued), want 0 (1)", n, len(e.local))
	}
	e.db.succeeded(ctx)
	if n := e.startLocal(ctx, slots); n != 1 {
		t.Fatalf("started %d hand-offs once the database answered, want 1", n)
	}
}
