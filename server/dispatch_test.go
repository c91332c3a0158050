package server_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
)

// attemptingQueue changes the deliveries it is given at once, as the
// engine's hand-off does from another goroutine while it attempts them.
type attemptingQueue struct{}

func (attemptingQueue) Enqueue(_ context.Context, _ *webhookd.Event, ds []*webhookd.Delivery) error {
	for _, d := range ds {
		d.AttemptCount = 99
		d.LastResponseStatus = 599
	}
	return nil
}

// TestDispatchedDeliveriesAreTheEngines: SendTestEvent and RetryDelivery
// answer with the delivery as it was when handed to the engine, never one
// the engine is changing meanwhile (a data race under load, and answers
// that depended on timing).
func TestDispatchedDeliveriesAreTheEngines(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := store.Open(ctx, store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "d.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	types := webhookd.BuiltinEventTypes()
	for _, et := range types {
		et.CreateTime = time.Now()
	}
	if err := st.SaveEventTypes(ctx, types); err != nil {
		t.Fatal(err)
	}
	ids := webhookd.NewIDGenerator(nil)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ws, err := server.NewWebhookService(server.WebhookServiceConfig{
		Store: st, Logger: logger, IDs: ids, MaxPayloadBytes: 1 << 16, AllowHTTPEndpoints: true,
		Queue: attemptingQueue{}, TestEventWait: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := server.NewAdminService(server.AdminServiceConfig{Store: st, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	const token = "dispatch-test-admin-token"
	srv, err := server.New(ctx, server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: logger,
		Webhooks: ws, Admin: admin, Auth: server.NewAuthenticator(st, token), MaxRequestBytes: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveCtx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	cc, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	wc, ac := webhooksv1.NewWebhookServiceClient(cc), webhooksv1.NewAdminServiceClient(cc)

	acct, err := ac.CreateAccount(ctx, &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := wc.CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{Account: acct.GetName(), Endpoint: &webhooksv1.Endpoint{
		Url: "http://127.0.0.1:1/hook", EventTypes: []string{"property.created"},
	}})
	if err != nil {
		t.Fatal(err)
	}

	test, err := wc.SendTestEvent(ctx, &webhooksv1.SendTestEventRequest{Endpoint: ep.GetName(), EventType: "property.created"})
	if err != nil {
		t.Fatal(err)
	}
	if d := test.GetDelivery(); d.GetAttemptCount() != 0 || d.GetLastResponseStatusCode() != 0 {
		t.Errorf("SendTestEvent answered with the engine's copy: %d attempts, last status %d", d.GetAttemptCount(), d.GetLastResponseStatusCode())
	}
	retried, err := wc.RetryDelivery(ctx, &webhooksv1.RetryDeliveryRequest{Name: test.GetDelivery().GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if retried.GetAttemptCount() != 0 || retried.GetLastResponseStatusCode() != 0 {
		t.Errorf("RetryDelivery answered with the engine's copy: %d attempts, last status %d", retried.GetAttemptCount(), retried.GetLastResponseStatusCode())
	}
}
