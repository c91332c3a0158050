package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/guidereceiver"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/store"
)

const adminToken = "delivery-test-admin-token"

// testEncryptionKeys encrypt endpoint secrets (PostgreSQL requires keys).
var testEncryptionKeys, _ = store.GenerateKeyEntry("test")

// setup is a whole webhookd (api and worker roles) on one backend.
type setup struct {
	name string
	args func(t *testing.T) []string
}

var setups = []setup{
	{"embedded", func(t *testing.T) []string {
		return []string{"--database-url=sqlite://" + filepath.Join(t.TempDir(), "webhookd.db")}
	}},
	{"postgres+redis", func(t *testing.T) []string {
		return []string{"--database-url=" + testenv.PostgresURL(t), "--redis-url=" + testenv.RedisURL(t),
			"--redis-prefix=" + testenv.RedisKeyPrefix(t)}
	}},
	// The schedule sharded over the slots of a three-node Redis Cluster.
	{"postgres+cluster", func(t *testing.T) []string {
		return []string{"--database-url=" + testenv.PostgresURL(t), "--redis-cluster", "--redis-url=" + testenv.RedisCluster(t, 3)}
	}},
}

type service struct {
	ws    webhooksv1.WebhookServiceClient
	admin webhooksv1.AdminServiceClient
	ctx   context.Context // authenticated as the admin
	http  string          // the HTTP listener's address
}

func startService(t *testing.T, extra ...string) service {
	t.Helper()
	args := append([]string{
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--log-level=error",
		"--allow-http-endpoints", "--allow-cidr=127.0.0.0/8",
		"--poll-interval=50ms", "--reconcile-interval=1s", "--shutdown-timeout=10s",
	}, extra...)
	cfg, err := app.ParseConfig(args, func(k string) string {
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
	return dial(t, runApp(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))), adminToken)
}

// runApp starts a webhookd configured by cfg, logging to logger, and stops
// it when t ends.
func runApp(t *testing.T, cfg app.Config, logger *slog.Logger) *app.App {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, logger, io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// dial connects gRPC clients to a, authenticated with the internal token.
func dial(t *testing.T, a *app.App, token string) service {
	t.Helper()
	cc, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return service{
		ws: webhooksv1.NewWebhookServiceClient(cc), admin: webhooksv1.NewAdminServiceClient(cc),
		ctx:  metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+token),
		http: a.HTTPAddr(),
	}
}

// metric returns the value of one series (name and labels as exposed) from
// the service's /metrics, failing the test when it is absent.
func (s service) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(body)) {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return v
		}
	}
	t.Fatalf("/metrics has no series %s", series)
	return 0
}

// customer creates an account and returns a context authenticated with its key.
func (s service) customer(t *testing.T) context.Context {
	t.Helper()
	acct, err := s.admin.CreateAccount(s.ctx, &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: "Acme Realty"}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.admin.CreateApiKey(s.ctx, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{Account: acct.GetName()}})
	if err != nil {
		t.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+key.GetToken())
}

// endpointWithReceiver registers an endpoint and starts the guide's
// receiver with its secret (the URL is set once the receiver listens).
func (s service) endpointWithReceiver(t *testing.T, ctx context.Context) (*webhooksv1.Endpoint, *guidereceiver.Receiver) {
	t.Helper()
	ep, err := s.ws.CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
		Url: "http://127.0.0.1:9/not-yet", EventTypes: []string{"property.created", "appointment.scheduled"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := guidereceiver.Start(t, ep.GetSecret())
	return s.pointAt(t, ctx, ep, r.URL), r
}

func (s service) pointAt(t *testing.T, ctx context.Context, ep *webhooksv1.Endpoint, url string) *webhooksv1.Endpoint {
	t.Helper()
	ep, err := s.ws.UpdateEndpoint(ctx, &webhooksv1.UpdateEndpointRequest{
		Endpoint: &webhooksv1.Endpoint{Name: ep.GetName(), Url: url}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"url"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// guideData is the data of the guide's property.created example.
func guideData(t *testing.T) *structpb.Struct {
	t.Helper()
	var envelope struct{ Data map[string]any }
	if err := json.Unmarshal(webhookd.BuiltinEventTypes()[0].Example, &envelope); err != nil {
		t.Fatal(err)
	}
	data, err := structpb.NewStruct(envelope.Data)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// waitDelivery polls until the delivery satisfies done.
func (s service) waitDelivery(t *testing.T, ctx context.Context, name string, done func(*webhooksv1.Delivery) bool) *webhooksv1.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := s.ws.GetDelivery(ctx, &webhooksv1.GetDeliveryRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if done(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s did not get there: %v", name, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDeliveryEndToEnd follows the guide as a receiver experiences it, on
// the embedded defaults and on PostgreSQL + Redis: the event arrives signed
// so that both the guide's verifier and standardwebhooks accept it, history
// shows the attempt, test events and manual retries arrive too, and a secret
// rotation keeps verifying.
func TestDeliveryEndToEnd(t *testing.T) {
	t.Parallel()
	for _, st := range setups {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := startService(t, st.args(t)...)
			ctx := s.customer(t)
			ep, r := s.endpointWithReceiver(t, ctx)

			ev, err := s.ws.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: guideData(t)}})
			if err != nil {
				t.Fatal(err)
			}
			got := r.Next(t)
			if !got.Verified() || "events/"+got.ID != ev.GetName() || got.Type != "property.created" || got.ContentType != "application/json" {
				t.Fatalf("receiver saw %+v for %s", got, ev.GetName())
			}
			list, err := s.ws.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: ev.GetName()})
			if err != nil || len(list.GetDeliveries()) != 1 {
				t.Fatalf("deliveries of the event: %v, %v", list, err)
			}
			d := s.waitDelivery(t, ctx, list.GetDeliveries()[0].GetName(), func(d *webhooksv1.Delivery) bool {
				return d.GetStatus() == webhooksv1.Delivery_SUCCEEDED
			})
			a := d.GetAttempts()
			if len(a) != 1 || a[0].GetNumber() != 1 || a[0].GetTrigger() != webhooksv1.Attempt_INITIAL ||
				a[0].GetResponseStatusCode() != 200 || a[0].GetResponseBody() != `{"received":true}` || a[0].GetErrorMessage() != "" {
				t.Fatalf("history: %v", a)
			}

			// A test event, with the type's example payload, waits for its result.
			test, err := s.ws.SendTestEvent(ctx, &webhooksv1.SendTestEventRequest{Endpoint: ep.GetName(), EventType: "appointment.scheduled", Wait: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Next(t); !got.Verified() || got.Type != "appointment.scheduled" {
				t.Fatalf("test event reached the receiver as %+v", got)
			}
			if test.GetAttempt().GetTrigger() != webhooksv1.Attempt_TEST || test.GetAttempt().GetResponseStatusCode() != 200 ||
				!test.GetEvent().GetTest() || test.GetDelivery().GetStatus() != webhooksv1.Delivery_SUCCEEDED {
				t.Fatalf("SendTestEvent = %v", test)
			}
			events, err := s.ws.ListEvents(ctx, &webhooksv1.ListEventsRequest{})
			if err != nil || len(events.GetEvents()) != 1 {
				t.Fatalf("test events must not be listed among events: %v, %v", events, err)
			}

			// A manual retry of a delivered event is one more attempt.
			if _, err := s.ws.RetryDelivery(ctx, &webhooksv1.RetryDeliveryRequest{Name: d.GetName()}); err != nil {
				t.Fatal(err)
			}
			if got := r.Next(t); !got.Verified() || "events/"+got.ID != ev.GetName() {
				t.Fatalf("manual retry reached the receiver as %+v", got)
			}
			d = s.waitDelivery(t, ctx, d.GetName(), func(d *webhooksv1.Delivery) bool { return d.GetAttemptCount() == 2 })
			if d.GetAttempts()[1].GetTrigger() != webhooksv1.Attempt_MANUAL || d.GetStatus() != webhooksv1.Delivery_SUCCEEDED {
				t.Fatalf("after the manual retry: %v", d)
			}

			// During a rotation, requests carry both secrets' signatures.
			rotated, err := s.ws.RotateEndpointSecret(ctx, &webhooksv1.RotateEndpointSecretRequest{Name: ep.GetName() + "/secret"})
			if err != nil {
				t.Fatal(err)
			}
			r2 := guidereceiver.Start(t, rotated.GetSecret(), rotated.GetSecret(), rotated.GetPreviousSecret())
			s.pointAt(t, ctx, ep, r2.URL)
			if _, err := s.ws.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: guideData(t)}}); err != nil {
				t.Fatal(err)
			}
			if got := r2.Next(t); !got.Verified() || len(got.Standard) != 2 {
				t.Fatalf("after rotation the receiver saw %+v", got)
			}

			// The metrics count what happened: four successful attempts (the
			// event, the test, the retry, the event after rotation), two of
			// them first attempts of published events; three new deliveries
			// handed to this process's workers, the retry through the
			// schedule, which is empty again.
			for deadline := time.Now().Add(10 * time.Second); s.metric(t, `webhookd_attempts_total{outcome="success"}`) < 4; {
				if time.Now().After(deadline) {
					t.Fatalf("webhookd_attempts_total{outcome=\"success\"} = %v after 10s, want 4", s.metric(t, `webhookd_attempts_total{outcome="success"}`))
				}
				time.Sleep(20 * time.Millisecond)
			}
			for series, want := range map[string]float64{
				`webhookd_attempt_duration_seconds_count`:               4,
				`webhookd_publish_to_delivery_seconds_count`:            2,
				`webhookd_dispatched_deliveries_total{path="handoff"}`:  3,
				`webhookd_dispatched_deliveries_total{path="schedule"}`: 1,
				`webhookd_schedule_depth`:                               0,
			} {
				if got := s.metric(t, series); got != want {
					t.Errorf("%s = %v, want %v", series, got, want)
				}
			}
		})
	}
}

// TestRecoverEndpoint lets deliveries fail for good while the receiver is
// down, then recovers them once it is back: the guide's "fetch missed
// events" path, but pushed.
func TestRecoverEndpoint(t *testing.T) {
	t.Parallel()
	for _, st := range setups {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := startService(t, append(st.args(t), "--retry-schedule=100ms")...)
			ctx := s.customer(t)
			ep, r := s.endpointWithReceiver(t, ctx)
			down, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			downURL := "http://" + down.Addr().String() + "/hook"
			_ = down.Close() // nothing listens: connection refused
			s.pointAt(t, ctx, ep, downURL)

			since := timestamppb.Now()
			var deliveries []string
			for range 3 {
				ev, err := s.ws.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: guideData(t)}})
				if err != nil {
					t.Fatal(err)
				}
				list, err := s.ws.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: ev.GetName()})
				if err != nil || len(list.GetDeliveries()) != 1 {
					t.Fatalf("%v, %v", list, err)
				}
				deliveries = append(deliveries, list.GetDeliveries()[0].GetName())
			}
			for _, name := range deliveries {
				d := s.waitDelivery(t, ctx, name, func(d *webhooksv1.Delivery) bool { return d.GetStatus() == webhooksv1.Delivery_FAILED })
				if d.GetAttemptCount() != 2 || !strings.Contains(d.GetLastError(), "connection refused") {
					t.Fatalf("failed delivery: %v", d)
				}
			}
			failed, err := s.ws.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: ep.GetName(), Statuses: []webhooksv1.Delivery_Status{webhooksv1.Delivery_FAILED}})
			if err != nil || len(failed.GetDeliveries()) != 3 {
				t.Fatalf("failed deliveries: %v, %v", failed, err)
			}

			s.pointAt(t, ctx, ep, r.URL)
			rec, err := s.ws.RecoverEndpoint(ctx, &webhooksv1.RecoverEndpointRequest{Name: ep.GetName(), Since: since})
			if err != nil || rec.GetDeliveryCount() != 3 {
				t.Fatalf("RecoverEndpoint = %v, %v", rec, err)
			}
			for range 3 {
				if got := r.Next(t); !got.Verified() {
					t.Fatalf("recovered delivery reached the receiver as %+v", got)
				}
			}
			for _, name := range deliveries {
				d := s.waitDelivery(t, ctx, name, func(d *webhooksv1.Delivery) bool { return d.GetStatus() == webhooksv1.Delivery_SUCCEEDED })
				if last := d.GetAttempts()[len(d.GetAttempts())-1]; last.GetTrigger() != webhooksv1.Attempt_MANUAL {
					t.Fatalf("recovery attempt trigger %v", last.GetTrigger())
				}
			}
			_, err = s.ws.RecoverEndpoint(ctx, &webhooksv1.RecoverEndpointRequest{Name: ep.GetName()})
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("RecoverEndpoint without since: %v", err)
			}
		})
	}
}
