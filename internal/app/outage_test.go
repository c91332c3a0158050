package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/store"
)

// logCounter is a slog handler that counts the records of each component
// ("worker", "retention", "" for the rest) and keeps the worker's messages.
type logCounter struct {
	component string
	shared    *logCounts
}

type logCounts struct {
	mu       sync.Mutex
	counts   map[string]int
	messages []string // the worker's
}

func newLogCounter() *logCounter {
	return &logCounter{shared: &logCounts{counts: map[string]int{}}}
}

func (h *logCounter) Enabled(context.Context, slog.Level) bool { return true }

func (h *logCounter) Handle(_ context.Context, r slog.Record) error {
	h.shared.mu.Lock()
	defer h.shared.mu.Unlock()
	h.shared.counts[h.component]++
	if h.component == "worker" {
		h.shared.messages = append(h.shared.messages, r.Level.String()+" "+r.Message)
	}
	return nil
}

func (h *logCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	for _, a := range attrs {
		if a.Key == "component" {
			c.component = a.Value.String()
		}
	}
	return &c
}

func (h *logCounter) WithGroup(string) slog.Handler { return h }

// workerLog returns how many records the worker logged and their messages.
func (h *logCounter) workerLog() (int, []string) {
	h.shared.mu.Lock()
	defer h.shared.mu.Unlock()
	return h.shared.counts["worker"], append([]string(nil), h.shared.messages...)
}

// TestPostgresOutage stops PostgreSQL under a running webhookd (api and
// worker) and starts it again: meanwhile gRPC and REST calls fail fast with
// UNAVAILABLE / 503 and say why, a publish leaves nothing behind, and the
// worker backs off instead of retrying in a loop; afterwards the delivery
// that came due during the outage and new ones reach the receiver.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	pg := testenv.StartPostgresServer(t)
	keys, err := store.GenerateKeyEntry("test")
	if err != nil {
		t.Fatal(err)
	}
	const token = "outage-test-admin-token"
	cfg, err := app.ParseConfig([]string{
		"--database-url=" + pg.URL,
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0",
		"--allow-http-endpoints", "--allow-cidr=127.0.0.0/8",
		"--poll-interval=50ms", "--reconcile-interval=500ms", "--shutdown-timeout=10s",
		"--request-timeout=1s", "--lease=10s", "--retry-schedule=2s,2s,2s",
	}, func(k string) string {
		switch k {
		case "WEBHOOKD_ADMIN_TOKEN":
			return token
		case "WEBHOOKD_ENCRYPTION_KEYS":
			return keys
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := newLogCounter()
	a := runApp(t, cfg, slog.New(logs))
	svc := dial(t, a, token)
	ws, admin, adminCtx := svc.ws, svc.admin, svc.ctx
	acct, err := admin.CreateAccount(adminCtx, &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: "Acme"}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateApiKey(adminCtx, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{Account: acct.GetName()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+key.GetToken())

	// The receiver records event ids. It fails the next request when told
	// to, so that a retry comes due during the outage.
	var (
		mu        sync.Mutex
		delivered = map[string]int{}
		failNext  atomic.Bool
		requests  atomic.Int32
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if failNext.CompareAndSwap(true, false) {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		delivered[r.Header.Get("X-Webhook-Id")]++
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	waitDelivered := func(id string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			mu.Lock()
			n := delivered[id]
			mu.Unlock()
			if n > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %s not delivered within %v", id, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ep, err := ws.CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
		Url: receiver.URL + "/hook", EventTypes: []string{"property.created"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := structpb.NewStruct(map[string]any{"property": map[string]any{"id": "prop_1"}})
	publish := func(ctx context.Context) (*webhooksv1.Event, error) {
		return ws.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: data}})
	}

	before, err := publish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitDelivered(strings.TrimPrefix(before.GetName(), "events/"), 10*time.Second)
	// An event whose first attempt fails: its retry is due in 2s.
	failNext.Store(true)
	ev, err := publish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dueDuringOutage := strings.TrimPrefix(ev.GetName(), "events/")
	waitRequests(t, &requests, 2) // before's delivery, then the failed first attempt

	logsBefore, _ := logs.workerLog()
	pg.Stop(t)
	outageStart := time.Now()

	// API calls fail fast, over gRPC …
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"GetEndpoint", func(ctx context.Context) error {
			_, err := ws.GetEndpoint(ctx, &webhooksv1.GetEndpointRequest{Name: ep.GetName()})
			return err
		}},
		{"ListEvents", func(ctx context.Context) error {
			_, err := ws.ListEvents(ctx, &webhooksv1.ListEventsRequest{})
			return err
		}},
		{"PublishEvent", func(ctx context.Context) error { _, err := publish(ctx); return err }},
	}
	for _, c := range calls {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		err := c.call(callCtx)
		took := time.Since(start)
		cancel()
		if status.Code(err) != codes.Unavailable || !strings.HasPrefix(status.Convert(err).Message(), "database unavailable: ") {
			t.Errorf("%s during the outage: %v; want UNAVAILABLE, database unavailable: …", c.name, err)
		}
		if took > 3*time.Second {
			t.Errorf("%s during the outage took %v; want an answer within 3s", c.name, took)
		}
	}
	// … and over REST.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+a.HTTPAddr()+"/v1/endpoints/"+strings.TrimPrefix(ep.GetName(), "endpoints/"), nil)
	req.Header.Set("Authorization", "Bearer "+key.GetToken())
	start := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if took := time.Since(start); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "database unavailable: ") || took > 3*time.Second {
		t.Errorf("REST GET endpoint during the outage: %d %s after %v; want 503 saying database unavailable within 3s", resp.StatusCode, body, took)
	}

	// Readiness says so too, so load balancers send traffic elsewhere.
	if resp, err := http.Get("http://" + a.HTTPAddr() + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz during the outage: %v %v; want 503", resp, err)
	} else {
		_ = resp.Body.Close()
	}

	// The retry comes due during the outage; the worker must not spin on it.
	time.Sleep(max(0, 5*time.Second-time.Since(outageStart)))
	logsDuring, messages := logs.workerLog()
	if n := logsDuring - logsBefore; n < 1 || n > 3 {
		t.Errorf("the worker logged %d records in 5s of outage, want the outage once (at most 3): %q", n, messages[logsBefore:])
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("the receiver got %d requests by the end of the outage, want 2 (nothing sent without the database)", n)
	}

	pg.Start(t)
	// The delivery that came due meanwhile goes out once the backoff
	// ends (at most 10s), and new events are delivered at once.
	waitDelivered(dueDuringOutage, 20*time.Second)
	after, err := publish(ctx)
	if err != nil {
		t.Fatalf("publish after the outage: %v", err)
	}
	waitDelivered(strings.TrimPrefix(after.GetName(), "events/"), 10*time.Second)

	// The publish that failed left nothing: three events, each delivered once.
	list, err := ws.ListEvents(ctx, &webhooksv1.ListEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.GetEvents()); n != 3 {
		t.Errorf("%d events after the outage, want 3 (the publish that failed during it stored nothing)", n)
	}
	mu.Lock()
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
	}
	mu.Unlock()
	if _, messages := logs.workerLog(); !containsMessage(messages, "INFO database available again") {
		t.Errorf("worker log %q does not say the database is back", messages)
	}
}

func waitRequests(t *testing.T, n *atomic.Int32, want int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d requests, want %d", n.Load(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func containsMessage(messages []string, want string) bool {
	for _, m := range messages {
		if m == want {
			return true
		}
	}
	return false
}
