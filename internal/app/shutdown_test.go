package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/app"
)

// TestShutdownOrder stops a webhookd while it answers a REST call that
// needs the engine, and watches the order of App.Run's shutdown from
// outside: gRPC health says NOT_SERVING while the call is still in flight;
// the HTTP listener stops accepting while gRPC still answers; the call is
// answered, with the attempt the engine made during the drain; and the
// database, opened again afterwards, holds every attempt the engine made.
//
// The engine has one worker, held by a first delivery the receiver does
// not answer yet; the test event waits behind it in the engine's queue.
// Were the engine stopped with the servers rather than after them, the
// test event would go back to the schedule and the call would answer
// without an attempt.
func TestShutdownOrder(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "webhookd.db")
	cfg := shutdownConfig(t, dbURL, "--workers=1", "--request-timeout=20s", "--lease=30s", "--shutdown-timeout=60s")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	t.Cleanup(func() {
		cancel()
		if !stopped {
			<-done
		}
	})
	s := dial(t, a, adminToken)
	httpAddr := a.HTTPAddr()

	arrived := make(chan struct{}, 16)
	release := make(chan struct{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	cc, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	health := healthpb.NewHealthClient(cc)
	healthIs := func(want healthpb.HealthCheckResponse_ServingStatus) bool {
		callCtx, callCancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer callCancel()
		resp, err := health.Check(callCtx, &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == want
	}
	waitFor(t, func() bool { return healthIs(healthpb.HealthCheckResponse_SERVING) }, "gRPC health SERVING", nil)

	customer := s.customer(t)
	ep, err := s.ws.CreateEndpoint(customer, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
		Url: receiver.URL + "/webhooks", EventTypes: []string{"property.created"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	first := s.publish(t, customer, "property.created")
	select {
	case <-arrived: // the only worker is busy with it
	case <-time.After(20 * time.Second):
		t.Fatal("the first delivery never reached the receiver")
	}

	// The REST call in flight: a test event whose answer waits for its
	// attempt, which only the engine can make.
	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/v1/"+ep.GetName()+":sendTestEvent",
			strings.NewReader(`{"eventType":"property.created","wait":true}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{status: resp.StatusCode, body: string(body), err: err}
	}()
	waitFor(t, func() bool {
		list, err := s.ws.ListDeliveries(s.ctx, &webhooksv1.ListDeliveriesRequest{Parent: ep.GetName()})
		return err == nil && len(list.GetDeliveries()) == 2
	}, "the test event's delivery written, its call waiting for the attempt", nil)
	notAnswered := func(step string) {
		t.Helper()
		select {
		case a := <-answered:
			t.Fatalf("%s: the call in flight was already answered (%d %s, %v)", step, a.status, a.body, a.err)
		default:
		}
	}

	cancel()
	// 1. Health first, while the HTTP call is in flight.
	waitFor(t, func() bool { return healthIs(healthpb.HealthCheckResponse_NOT_SERVING) }, "gRPC health NOT_SERVING after the stop", nil)
	notAnswered("health NOT_SERVING")
	// 2. HTTP stops accepting, and 3. gRPC still answers: it stops after
	// HTTP has drained.
	waitFor(t, func() bool {
		conn, err := net.DialTimeout("tcp", httpAddr, time.Second)
		if err == nil {
			_ = conn.Close()
		}
		return err != nil
	}, "the HTTP listener closed", nil)
	if !healthIs(healthpb.HealthCheckResponse_NOT_SERVING) {
		t.Fatal("gRPC stopped answering while HTTP was still draining")
	}
	notAnswered("HTTP listener closed")

	// The HTTP call in flight is answered once its attempt is made: the
	// engine still runs while the servers drain.
	close(release)
	var got answer
	select {
	case got = <-answered:
	case <-time.After(60 * time.Second):
		t.Fatal("the call in flight was never answered")
	}
	if got.err != nil || got.status != http.StatusOK {
		t.Fatalf("the call in flight: %d %s, %v", got.status, got.body, got.err)
	}
	var test struct {
		Delivery struct{ Name, Status string }
		Attempt  *struct{ ResponseStatusCode int }
	}
	if err := json.Unmarshal([]byte(got.body), &test); err != nil {
		t.Fatalf("decoding %s: %v", got.body, err)
	}
	if test.Attempt == nil || test.Attempt.ResponseStatusCode != http.StatusNoContent {
		t.Fatalf("the test event was answered without its attempt (the engine had stopped?): %s", got.body)
	}

	// 4 and 5. Run returns once the engine has recorded its attempts and
	// the stores are closed; gRPC has stopped.
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return")
	}
	if healthIs(healthpb.HealthCheckResponse_NOT_SERVING) {
		t.Fatal("gRPC still answers after Run returned")
	}

	// Every attempt the engine made is in the database: opened again by an
	// api-only process (no engine that could make them now).
	after := dial(t, runApp(t, shutdownConfig(t, dbURL, "--roles=api"), slog.New(slog.NewTextHandler(io.Discard, nil))), adminToken)
	for _, name := range []string{after.onlyDelivery(t, after.ctx, first).GetName(), test.Delivery.Name} {
		d, err := after.ws.GetDelivery(after.ctx, &webhooksv1.GetDeliveryRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if d.GetStatus() != webhooksv1.Delivery_SUCCEEDED || d.GetAttemptCount() != 1 {
			t.Errorf("delivery %s after the shutdown: %s after %d attempts, want SUCCEEDED after 1", name, d.GetStatus(), d.GetAttemptCount())
		}
	}
}

// shutdownConfig is a whole webhookd on the SQLite database dbURL.
func shutdownConfig(t *testing.T, dbURL string, extra ...string) app.Config {
	t.Helper()
	cfg, err := app.ParseConfig(append([]string{
		"--database-url=" + dbURL, "--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--log-level=error",
		"--allow-http-endpoints", "--allow-cidr=127.0.0.0/8", "--poll-interval=50ms",
	}, extra...), func(k string) string {
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
