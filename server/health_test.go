package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
)

// TestHealthFollowsReadiness checks that /readyz and gRPC health both report
// what the readiness check says, and /healthz stays up regardless.
func TestHealthFollowsReadiness(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(t.Context(), store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ids := webhookd.NewIDGenerator(nil)
	ws, err := server.NewWebhookService(server.WebhookServiceConfig{Store: st, Logger: logger, IDs: ids, MaxPayloadBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := server.NewAdminService(server.AdminServiceConfig{Store: st, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	srv, err := server.New(t.Context(), server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: logger,
		Webhooks: ws, Admin: admin, Auth: server.NewAuthenticator(st, ""),
		MaxRequestBytes: 1 << 20, ReadinessInterval: 20 * time.Millisecond,
		Ready: func(context.Context) error {
			if down.Load() {
				return errors.New("database unreachable")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })

	cc, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	health := healthpb.NewHealthClient(cc)
	waitFor := func(want healthpb.HealthCheckResponse_ServingStatus, wantReadyz int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := health.Check(t.Context(), &healthpb.HealthCheckRequest{})
			got := resp.GetStatus()
			if err == nil && got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("gRPC health = %v (%v), want %v", got, err, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if code := httpStatus(t, "http://"+srv.HTTPAddr()+"/readyz"); code != wantReadyz {
			t.Fatalf("/readyz = %d, want %d", code, wantReadyz)
		}
		if code := httpStatus(t, "http://"+srv.HTTPAddr()+"/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz = %d, want 200", code)
		}
	}
	waitFor(healthpb.HealthCheckResponse_SERVING, http.StatusOK)
	down.Store(true)
	waitFor(healthpb.HealthCheckResponse_NOT_SERVING, http.StatusServiceUnavailable)
	down.Store(false)
	waitFor(healthpb.HealthCheckResponse_SERVING, http.StatusOK)
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
