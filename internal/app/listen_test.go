package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/cli/listen"
	"github.com/webhookd/webhookd/internal/guidereceiver"
	"github.com/webhookd/webhookd/worker"
)

// listenArgs make retries come quickly, so that retried forwards are seen
// within a test.
var listenArgs = []string{"--retry-schedule=1s,1s,1s"}

// listenSetups are the backends listening is tested on: the embedded
// defaults, and PostgreSQL + Redis, where a delivery reaches the listener
// through Redis.
var listenSetups = setups[:2]

// syncBuffer collects a listener's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startListener runs webhookctl listen's client until the test ends and
// returns its output.
func startListener(t *testing.T, s service, ctx context.Context, opts listen.Options) *syncBuffer {
	t.Helper()
	out := &syncBuffer{}
	opts.Out, opts.Err = out, out
	opts.MinBackoff, opts.MaxBackoff = 50*time.Millisecond, 200*time.Millisecond
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- listen.Run(ctx, s.ws, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listen ended with %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Ready!") {
		select {
		case err := <-done:
			t.Fatalf("listen ended before it was ready: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen not ready within 20s:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return out
}

// printSecret is webhookctl listen --print-secret.
func printSecret(t *testing.T, s service, ctx context.Context, opts listen.Options) string {
	t.Helper()
	var out bytes.Buffer
	opts.PrintSecret, opts.Out = true, &out
	if err := listen.Run(ctx, s.ws, opts); err != nil {
		t.Fatalf("listen --print-secret: %v", err)
	}
	return strings.TrimSpace(out.String())
}

func (s service) publish(t *testing.T, ctx context.Context, eventType string) *webhooksv1.Event {
	t.Helper()
	ev, err := s.ws.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: eventType, Data: guideData(t)}})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// onlyDelivery returns the one delivery of ev.
func (s service) onlyDelivery(t *testing.T, ctx context.Context, ev *webhooksv1.Event) *webhooksv1.Delivery {
	t.Helper()
	list, err := s.ws.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: ev.GetName()})
	if err != nil || len(list.GetDeliveries()) != 1 {
		t.Fatalf("deliveries of %s: %v, %v", ev.GetName(), list, err)
	}
	return list.GetDeliveries()[0]
}

func succeeded(d *webhooksv1.Delivery) bool { return d.GetStatus() == webhooksv1.Delivery_SUCCEEDED }

// countingServer is a local server that answers with status(n) to its nth
// request (from 1) and counts the event ids it received.
type countingServer struct {
	URL string
	mu  sync.Mutex
	ids map[string]int
	n   int
}

func startCountingServer(t *testing.T, delay time.Duration, status func(n int) int) *countingServer {
	t.Helper()
	c := &countingServer{ids: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		c.mu.Lock()
		c.n++
		n := c.n
		c.ids[r.Header.Get("X-Webhook-Id")]++
		c.mu.Unlock()
		w.WriteHeader(status(n))
		fmt.Fprintf(w, "local answer %d", n)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL + "/webhooks/real-estate"
	return c
}

func (c *countingServer) received() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.ids))
	for k, v := range c.ids {
		out[k] = v
	}
	return out
}

func always(code int) func(int) int { return func(int) int { return code } }

// TestListen runs webhookctl listen's client against a whole webhookd over
// real gRPC, on SQLite and on PostgreSQL + Redis.
func TestListen(t *testing.T) {
	t.Parallel()
	for _, st := range listenSetups {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := startService(t, append(st.args(t), listenArgs...)...)

			// The guide's Express verifier, with the secret listen prints,
			// accepts both signatures of a forwarded delivery, and the
			// attempt is in the history as the local server answered.
			t.Run("ForwardsSignedToTheGuideVerifier", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				secret := printSecret(t, s, ctx, listen.Options{})
				if !strings.HasPrefix(secret, "whsec_") {
					t.Fatalf("--print-secret printed %q", secret)
				}
				if again := printSecret(t, s, ctx, listen.Options{}); again != secret {
					t.Fatalf("the development endpoint's secret changed between runs: %q, then %q", secret, again)
				}
				r := guidereceiver.Start(t, secret)
				out := startListener(t, s, ctx, listen.Options{ForwardTo: r.URL})
				if !strings.Contains(out.String(), secret) {
					t.Errorf("the Ready line does not show the secret:\n%s", out)
				}
				ev := s.publish(t, ctx, "property.created")
				got := r.Next(t)
				if !got.Verified() || "events/"+got.ID != ev.GetName() || got.ContentType != "application/json" {
					t.Fatalf("the guide's receiver saw %+v for %s", got, ev.GetName())
				}
				d := s.waitDelivery(t, ctx, s.onlyDelivery(t, ctx, ev).GetName(), succeeded)
				if a := d.GetAttempts(); len(a) != 1 || a[0].GetResponseStatusCode() != 200 || a[0].GetTrigger() != webhooksv1.Attempt_INITIAL {
					t.Fatalf("attempts = %v, want one initial attempt answered 200", a)
				}
				id := strings.TrimPrefix(ev.GetName(), "events/")
				in := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  --> property\.created \[` + id + `\]$`)
				back := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  <-- \[200\] POST ` + regexp.QuoteMeta(r.URL) + ` \(\d+ ms\) \[` + id + `\]$`)
				waitFor(t, func() bool { return back.MatchString(out.String()) }, "the <-- line", out)
				if !in.MatchString(out.String()) {
					t.Errorf("no --> line for %s in:\n%s", id, out)
				}
			})

			// A local 500 is recorded and retried on the endpoint's schedule.
			t.Run("Local500IsRetried", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				local := startCountingServer(t, 0, func(n int) int {
					if n == 1 {
						return 500
					}
					return 200
				})
				startListener(t, s, ctx, listen.Options{ForwardTo: local.URL})
				ev := s.publish(t, ctx, "appointment.scheduled")
				d := s.waitDelivery(t, ctx, s.onlyDelivery(t, ctx, ev).GetName(), succeeded)
				a := d.GetAttempts()
				if len(a) != 2 || a[0].GetResponseStatusCode() != 500 || a[0].GetErrorMessage() != "unexpected status 500" ||
					a[0].GetResponseBody() != "local answer 1" || a[1].GetTrigger() != webhooksv1.Attempt_RETRY || a[1].GetResponseStatusCode() != 200 {
					t.Fatalf("attempts = %v, want a 500 then a retry answered 200", a)
				}
				if gap := a[1].GetStartTime().AsTime().Sub(a[0].GetStartTime().AsTime()); gap < time.Second {
					t.Errorf("the retry came %v after the first attempt, before the 1s schedule", gap)
				}
			})

			// A local server that is down is recorded as connection refused.
			t.Run("LocalServerDown", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				startListener(t, s, ctx, listen.Options{ForwardTo: "http://" + closedAddr(t) + "/webhooks"})
				ev := s.publish(t, ctx, "property.created")
				d := s.waitDelivery(t, ctx, s.onlyDelivery(t, ctx, ev).GetName(), func(d *webhooksv1.Delivery) bool { return len(d.GetAttempts()) > 0 })
				a := d.GetAttempts()[0]
				if !strings.Contains(a.GetErrorMessage(), "connection refused") || a.GetResponseStatusCode() != 0 || d.GetStatus() != webhooksv1.Delivery_PENDING {
					t.Fatalf("attempt = %v (delivery %v), want connection refused, to be retried", a, d.GetStatus())
				}
			})

			// With no listener, the attempt fails and is retried on
			// schedule; a listener connecting later gets it.
			t.Run("NoListenerThenReconnect", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				printSecret(t, s, ctx, listen.Options{}) // creates the endpoint, then leaves
				ev := s.publish(t, ctx, "property.created")
				name := s.onlyDelivery(t, ctx, ev).GetName()
				d := s.waitDelivery(t, ctx, name, func(d *webhooksv1.Delivery) bool { return len(d.GetAttempts()) > 0 })
				if got := d.GetAttempts()[0].GetErrorMessage(); got != worker.NoListenerError {
					t.Fatalf("attempt without a listener failed with %q, want %q", got, worker.NoListenerError)
				}
				local := startCountingServer(t, 0, always(204))
				startListener(t, s, ctx, listen.Options{ForwardTo: local.URL})
				s.waitDelivery(t, ctx, name, succeeded)
				if got := local.received()[strings.TrimPrefix(ev.GetName(), "events/")]; got != 1 {
					t.Fatalf("the local server got the event %d times, want 1", got)
				}
			})

			// Two listeners of one endpoint share its deliveries: each is
			// forwarded to one of them, and both get some.
			t.Run("TwoListenersShare", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				a := startCountingServer(t, 5*time.Millisecond, always(200))
				b := startCountingServer(t, 5*time.Millisecond, always(200))
				startListener(t, s, ctx, listen.Options{ForwardTo: a.URL})
				startListener(t, s, ctx, listen.Options{ForwardTo: b.URL})
				const n = 20
				var events []*webhooksv1.Event
				for range n {
					events = append(events, s.publish(t, ctx, "property.created"))
				}
				for _, ev := range events {
					s.waitDelivery(t, ctx, s.onlyDelivery(t, ctx, ev).GetName(), succeeded)
				}
				gotA, gotB := a.received(), b.received()
				for _, ev := range events {
					id := strings.TrimPrefix(ev.GetName(), "events/")
					if gotA[id]+gotB[id] != 1 {
						t.Errorf("%s reached the listeners %d + %d times, want once", id, gotA[id], gotB[id])
					}
				}
				if len(gotA) == 0 || len(gotB) == 0 {
					t.Errorf("one listener got everything: %d and %d deliveries", len(gotA), len(gotB))
				}
			})

			// A development endpoint disabled while no one listened (by
			// auto-disable, or by hand) is enabled again by listening.
			t.Run("ListeningEnablesADisabledEndpoint", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				printSecret(t, s, ctx, listen.Options{})
				name := listenedEndpoint(t, s, ctx)
				if _, err := s.ws.DisableEndpoint(ctx, &webhooksv1.DisableEndpointRequest{Name: name}); err != nil {
					t.Fatal(err)
				}
				printSecret(t, s, ctx, listen.Options{Events: []string{"property.sold"}})
				ep, err := s.ws.GetEndpoint(ctx, &webhooksv1.GetEndpointRequest{Name: name})
				if err != nil {
					t.Fatal(err)
				}
				if ep.GetState() != webhooksv1.Endpoint_ENABLED || len(ep.GetEventTypes()) != 1 || ep.GetEventTypes()[0] != "property.sold" {
					t.Fatalf("after listening: %v, want enabled and subscribed to property.sold only", ep)
				}
			})

			// A development endpoint's description can be changed like any
			// endpoint's: its stand-in URL is not held to the rules of
			// URLs webhookd requests, and the marker cannot be changed.
			t.Run("UpdateDevelopmentEndpoint", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				printSecret(t, s, ctx, listen.Options{})
				name := listenedEndpoint(t, s, ctx)
				ep, err := s.ws.UpdateEndpoint(ctx, &webhooksv1.UpdateEndpointRequest{
					Endpoint:   &webhooksv1.Endpoint{Name: name, Description: "my laptop", Development: false},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description", "development"}},
				})
				if err != nil {
					t.Fatal(err)
				}
				if ep.GetDescription() != "my laptop" || !ep.GetDevelopment() {
					t.Fatalf("after the update: %v, want the new description and still a development endpoint", ep)
				}
			})

			// JSON output: one object per line, the ready line carrying
			// the endpoint and its secret.
			t.Run("JSONLines", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				local := startCountingServer(t, 0, always(200))
				out := &syncBuffer{}
				lctx, cancel := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() {
					done <- listen.Run(lctx, s.ws, listen.Options{ForwardTo: local.URL, JSON: true, Out: out, Err: out})
				}()
				defer func() { cancel(); <-done }()
				waitFor(t, func() bool { return strings.Contains(out.String(), `"type":"ready"`) }, "the ready line", out)
				ev := s.publish(t, ctx, "property.created")
				waitFor(t, func() bool { return strings.Contains(out.String(), `"type":"response"`) }, "the response line", out)
				var kinds []string
				for line := range strings.Lines(out.String()) {
					var obj map[string]any
					if err := json.Unmarshal([]byte(line), &obj); err != nil {
						t.Fatalf("line %q is not JSON: %v", line, err)
					}
					kinds = append(kinds, obj["type"].(string))
					switch obj["type"] {
					case "ready":
						if !strings.HasPrefix(obj["secret"].(string), "whsec_") || !strings.HasPrefix(obj["endpoint"].(string), "endpoints/ep_") {
							t.Errorf("ready line %s", line)
						}
					case "request", "response":
						if "events/"+obj["event"].(string) != ev.GetName() {
							t.Errorf("line %s is not about %s", line, ev.GetName())
						}
					}
				}
				if strings.Join(kinds, ",") != "ready,request,response" {
					t.Fatalf("lines %v, want ready, request, response", kinds)
				}
				if !strings.Contains(out.String(), `"status":200`) {
					t.Errorf("the response line has no status 200:\n%s", out)
				}
			})

			t.Run("Refusals", func(t *testing.T) {
				t.Parallel()
				ctx := s.customer(t)
				regular, err := s.ws.CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
					Url: "http://127.0.0.1:9/hooks", EventTypes: []string{"property.created"},
				}})
				if err != nil {
					t.Fatal(err)
				}
				other := s.customer(t)
				otherSecret := printSecret(t, s, other, listen.Options{})
				otherDev := listenedEndpoint(t, s, other)
				for _, c := range []struct {
					name string
					ctx  context.Context
					opts listen.Options
					code codes.Code
				}{
					{"InternalKey", s.ctx, listen.Options{}, codes.PermissionDenied},
					{"RegularEndpoint", ctx, listen.Options{Endpoint: regular.GetName()}, codes.FailedPrecondition},
					{"OtherAccountsEndpoint", ctx, listen.Options{Endpoint: otherDev}, codes.NotFound},
					{"UnknownEventType", ctx, listen.Options{Events: []string{"property.exploded"}}, codes.InvalidArgument},
				} {
					opts := c.opts
					opts.PrintSecret, opts.Out = true, io.Discard
					err := listen.Run(c.ctx, s.ws, opts)
					if status.Code(err) != c.code {
						t.Errorf("%s: listen ended with %v, want %v", c.name, err, c.code)
					}
				}
				if got := printSecret(t, s, other, listen.Options{Endpoint: otherDev}); got != otherSecret {
					t.Errorf("listening by name gave secret %q, want the endpoint's %q", got, otherSecret)
				}
			})
		})
	}
}

// listenedEndpoint is the name of ctx's account's development endpoint.
func listenedEndpoint(t *testing.T, s service, ctx context.Context) string {
	t.Helper()
	list, err := s.ws.ListEndpoints(ctx, &webhooksv1.ListEndpointsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range list.GetEndpoints() {
		if ep.GetDevelopment() {
			return ep.GetName()
		}
	}
	t.Fatalf("no development endpoint among %v", list.GetEndpoints())
	return ""
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func waitFor(t *testing.T, cond func() bool, what string, out fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 20s; output:\n%s", what, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// restartable is a webhookd that can be stopped and started again on the
// same data and the same gRPC address, as when an operator restarts it.
type restartable struct {
	t      *testing.T
	args   []string
	stop   func()
	logger *slog.Logger
}

func (r *restartable) start() {
	cfg, err := app.ParseConfig(r.args, func(k string) string {
		switch k {
		case "WEBHOOKD_ADMIN_TOKEN":
			return adminToken
		case "WEBHOOKD_ENCRYPTION_KEYS":
			return testEncryptionKeys
		}
		return ""
	}, io.Discard)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, r.logger, io.Discard)
	if err != nil {
		cancel()
		r.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	r.stop = func() { cancel(); <-done }
}

// TestListenSurvivesRestart restarts webhookd under a connected listener
// while deliveries are in flight: the listener reconnects by itself and
// every delivery still arrives, none lost.
func TestListenSurvivesRestart(t *testing.T) {
	t.Parallel()
	for _, st := range listenSetups {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			grpcAddr, httpAddr := closedAddr(t), closedAddr(t)
			r := &restartable{t: t, logger: slog.New(slog.NewTextHandler(io.Discard, nil)), args: append(append([]string{
				"--http-addr=" + httpAddr, "--grpc-addr=" + grpcAddr, "--log-level=error",
				"--poll-interval=50ms", "--reconcile-interval=1s", "--shutdown-timeout=10s",
			}, st.args(t)...), listenArgs...)}
			r.start()
			t.Cleanup(func() { r.stop() })
			s := dialAddr(t, grpcAddr, adminToken)
			ctx := s.customer(t)
			local := startCountingServer(t, 50*time.Millisecond, always(200))
			out := startListener(t, s, ctx, listen.Options{ForwardTo: local.URL})

			const n = 12
			var events []*webhooksv1.Event
			for range n {
				events = append(events, s.publish(t, ctx, "property.created"))
			}
			waitFor(t, func() bool { return len(local.received()) >= 3 }, "first deliveries", out)
			r.stop()
			r.start()

			// The client reconnects too: until it has, calls are Unavailable.
			for _, ev := range events {
				waitFor(t, func() bool {
					list, err := s.ws.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: ev.GetName()})
					if status.Code(err) == codes.Unavailable {
						return false
					}
					if err != nil || len(list.GetDeliveries()) != 1 {
						t.Fatalf("deliveries of %s: %v, %v", ev.GetName(), list, err)
					}
					return succeeded(list.GetDeliveries()[0])
				}, "delivery of "+ev.GetName(), out)
			}
			got := local.received()
			for _, ev := range events {
				if id := strings.TrimPrefix(ev.GetName(), "events/"); got[id] < 1 {
					t.Errorf("%s never reached the local server", id)
				}
			}
			if !strings.Contains(out.String(), "Reconnected.") {
				t.Errorf("the listener did not say it reconnected:\n%s", out)
			}
		})
	}
}

// TestListenSplitRoles: the stream lands on an api-only process and the
// delivery is claimed by a worker-only process; they meet in Redis.
func TestListenSplitRoles(t *testing.T) {
	t.Parallel()
	shared := append(setups[1].args(t), listenArgs...)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	parse := func(extra ...string) app.Config {
		cfg, err := app.ParseConfig(append(append([]string{
			"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--log-level=error",
			"--poll-interval=50ms", "--reconcile-interval=1s", "--shutdown-timeout=10s",
		}, shared...), extra...), func(k string) string {
			switch k {
			case "WEBHOOKD_ADMIN_TOKEN":
				return adminToken
			case "WEBHOOKD_ENCRYPTION_KEYS":
				return testEncryptionKeys
			}
			return ""
		}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	api := runApp(t, parse("--roles=api"), logger)
	runApp(t, parse("--roles=worker"), logger)
	s := dial(t, api, adminToken)
	ctx := s.customer(t)
	local := startCountingServer(t, 0, always(200))
	startListener(t, s, ctx, listen.Options{ForwardTo: local.URL})
	ev := s.publish(t, ctx, "property.created")
	s.waitDelivery(t, ctx, s.onlyDelivery(t, ctx, ev).GetName(), succeeded)
	if got := local.received()[strings.TrimPrefix(ev.GetName(), "events/")]; got != 1 {
		t.Fatalf("the local server got the event %d times, want 1", got)
	}
}

// dialAddr is dial for an address rather than a running App: the client
// outlives the webhookd it first talked to.
func dialAddr(t *testing.T, addr, token string) service {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return service{
		ws: webhooksv1.NewWebhookServiceClient(cc), admin: webhooksv1.NewAdminServiceClient(cc),
		ctx: metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+token),
	}
}
