package worker_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/worker"
)

// listenRig is an engine and the listeners of an api process on one store
// and schedule, on the real clock (presence expires in real time), with
// retries 100ms apart.
type listenRig struct {
	*engineRig
	listeners *worker.Listeners
	endpoint  *webhookd.Endpoint
}

func startListenRig(t *testing.T, answerTimeout time.Duration) *listenRig {
	t.Helper()
	retry := worker.DefaultRetryPolicy()
	retry.Schedule = []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}
	rig := startEngineWith(t, func(c *worker.EngineConfig) { c.Now, c.Retry = time.Now, retry })
	l, err := worker.NewListeners(worker.ListenersConfig{
		Store: rig.store, Schedule: rig.schedule, Retry: retry, IDs: rig.ids,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AnswerTimeout: answerTimeout, PollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	now := time.Now()
	ep := &webhookd.Endpoint{
		ID: rig.ids.New(webhookd.PrefixEndpoint), AccountID: rig.account, URL: "webhookctl://listen",
		EventTypes: []string{"property.created"}, Secret: webhookd.NewEndpointSecret(),
		CreateTime: now, UpdateTime: now, Development: true,
	}
	if err := rig.store.CreateEndpoint(t.Context(), ep, 0); err != nil {
		t.Fatal(err)
	}
	return &listenRig{engineRig: rig, listeners: l, endpoint: ep}
}

func (r *listenRig) attach(t *testing.T) *worker.Listener {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := r.listeners.Attach(r.endpoint.ID)
		if err == nil {
			t.Cleanup(ln.Close)
			return ln
		}
		if time.Now().After(deadline) { // Run may not have started yet
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func nextForward(t *testing.T, lns ...*worker.Listener) (*worker.Forward, *worker.Listener) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		for _, ln := range lns {
			select {
			case fw := <-ln.Forwards():
				return fw, ln
			default:
			}
		}
		select {
		case <-timeout:
			t.Fatal("no forward within 10s")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestListenerTimeoutThenLateAnswer: a listener that does not answer in
// time gets the attempt recorded as failed and retried; its late answer is
// dropped, and the listener keeps receiving.
func TestListenerTimeoutThenLateAnswer(t *testing.T) {
	t.Parallel()
	r := startListenRig(t, 200*time.Millisecond)
	ln := r.attach(t)
	d := r.publish(t)
	first, _ := nextForward(t, ln)
	if first.DeliveryID != d.ID || first.AttemptNumber != 1 {
		t.Fatalf("forward = %+v, want attempt 1 of %s", first, d.ID)
	}
	got := r.waitAttempts(t, d.ID, 1)
	if got.Status != webhookd.DeliveryPending || got.LastError != "no result from the listener within 200ms" {
		t.Fatalf("after no answer: status %s, error %q", got.Status, got.LastError)
	}
	if ln.Answer(first.AttemptID, worker.Answer{StatusCode: 200}) {
		t.Fatal("a late answer was taken for an attempt recorded already")
	}
	retry, _ := nextForward(t, ln)
	if retry.DeliveryID != d.ID || retry.AttemptNumber != 2 || retry.AttemptID == first.AttemptID {
		t.Fatalf("retry forward = %+v, want attempt 2 of %s", retry, d.ID)
	}
	if !ln.Answer(retry.AttemptID, worker.Answer{StatusCode: 200, Duration: 3 * time.Millisecond}) {
		t.Fatal("the retry's answer was dropped")
	}
	if got := r.waitAttempts(t, d.ID, 2); got.Status != webhookd.DeliverySucceeded {
		t.Fatalf("after the answer: %s, %q", got.Status, got.LastError)
	}
}

// TestListenerLeavingHandsOver: a listener that leaves before answering
// gives its delivery back at once to another listener of the endpoint,
// without an attempt recorded for it.
func TestListenerLeavingHandsOver(t *testing.T) {
	t.Parallel()
	r := startListenRig(t, 10*time.Second)
	a, b := r.attach(t), r.attach(t)
	d := r.publish(t)
	fw, gone := nextForward(t, a, b)
	other := a
	if gone == a {
		other = b
	}
	gone.Close()
	again, _ := nextForward(t, other)
	if again.DeliveryID != d.ID || again.AttemptNumber != 1 {
		t.Fatalf("handed-over forward = %+v, want attempt 1 of %s", again, d.ID)
	}
	if again.Headers["Webhook-Signature"] == "" || string(again.Body) != string(fw.Body) {
		t.Fatalf("handed-over forward is not the same signed request: %+v", again)
	}
	other.Answer(again.AttemptID, worker.Answer{StatusCode: 204})
	if got := r.waitAttempts(t, d.ID, 1); got.Status != webhookd.DeliverySucceeded {
		t.Fatalf("delivery %s, %q", got.Status, got.LastError)
	}
}
