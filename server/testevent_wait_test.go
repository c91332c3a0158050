package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/worker"
)

// TestSendTestEventWaitWakes checks how SendTestEvent with wait learns of
// its attempt. With the engine in the same process, the engine wakes the
// waiter: its database polling is set to once an hour, so the call returns
// with the attempt only because it was woken. Without a watcher (the api
// role alone, the attempt made by another process's engine) it finds the
// attempt by reading the delivery back.
func TestSendTestEventWaitWakes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		watched bool
		poll    time.Duration
	}{
		{"woken by the engine", true, time.Hour},
		{"attempted by another process", false, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			st, err := store.Open(t.Context(), store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "w.db")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if err := st.SaveEventTypes(t.Context(), webhookd.BuiltinEventTypes()); err != nil {
				t.Fatal(err)
			}
			rd, err := worker.OpenRedis(t.Context(), worker.RedisConfig{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = rd.Close() })
			schedule, err := worker.NewSchedule(rd.Client, worker.ScheduleConfig{Prefix: "test", Shards: 1})
			if err != nil {
				t.Fatal(err)
			}
			sender, err := worker.NewSender(worker.SenderConfig{Timeout: 5 * time.Second, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
			if err != nil {
				t.Fatal(err)
			}
			ids := webhookd.NewIDGenerator(nil)
			engine, err := worker.NewEngine(worker.EngineConfig{Store: st, Schedule: schedule, Sender: sender, Retry: worker.DefaultRetryPolicy(), Logger: logger, IDs: ids})
			if err != nil {
				t.Fatal(err)
			}
			wcfg := server.WebhookServiceConfig{
				Store: st, Logger: logger, IDs: ids, MaxPayloadBytes: 4096, AllowHTTPEndpoints: true,
				Queue: engine, TestEventWait: time.Hour, TestEventPoll: tc.poll,
			}
			if tc.watched {
				wcfg.Attempts = engine
			}
			ws, err := server.NewWebhookService(wcfg)
			if err != nil {
				t.Fatal(err)
			}
			admin, err := server.NewAdminService(server.AdminServiceConfig{Store: st, IDs: ids})
			if err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(t.Context(), server.Config{
				GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: logger,
				Webhooks: ws, Admin: admin, Auth: server.NewAuthenticator(st, testAdminToken), MaxRequestBytes: 1 << 20,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				go func() { _ = engine.Run(ctx) }()
				_ = srv.Serve(ctx, 5*time.Second)
			}()
			t.Cleanup(func() { cancel(); <-done })

			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"received":true}`))
			}))
			t.Cleanup(receiver.Close)
			cc, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cc.Close() })
			c := &client{ws: webhooksv1.NewWebhookServiceClient(cc), admin: webhooksv1.NewAdminServiceClient(cc)}
			tn := c.newTenant(t)
			ep, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{
				Endpoint: &webhooksv1.Endpoint{Url: receiver.URL, EventTypes: []string{propertyCreated}},
			})
			if err != nil {
				t.Fatal(err)
			}
			// Bounded by the test's patience, not by TestEventWait: an
			// unwoken waiter would sleep through it.
			callCtx, stop := context.WithTimeout(tn.ctx, 30*time.Second)
			defer stop()
			resp, err := c.ws.SendTestEvent(callCtx, &webhooksv1.SendTestEventRequest{Endpoint: ep.GetName(), EventType: propertyCreated, Wait: true})
			if err != nil {
				t.Fatalf("SendTestEvent: %v", err)
			}
			if resp.GetAttempt().GetResponseStatusCode() != 200 || resp.GetDelivery().GetStatus() != webhooksv1.Delivery_SUCCEEDED {
				t.Fatalf("SendTestEvent = %v, want the attempt's 200", resp)
			}
		})
	}
}
