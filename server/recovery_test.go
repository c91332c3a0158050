package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
)

// panickingStore is a real store whose GetEndpoint panics: a handler bug
// cannot be had on cue from the real parts.
type panickingStore struct{ store.Store }

func (panickingStore) GetEndpoint(context.Context, string, string) (*webhookd.Endpoint, error) {
	panic("endpoint lookup exploded")
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestHandlerPanicsAnswerInternal checks that a panicking handler costs its
// own request only: gRPC and REST callers get INTERNAL (HTTP 500 with the
// JSON status), a panicking plain HTTP handler (/readyz here) gets 500 too,
// the process keeps serving, and each panic is logged with its stack and
// counted in /metrics. Without recovery the first gRPC call ends the test
// binary.
func TestHandlerPanicsAnswerInternal(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	st, err := store.Open(t.Context(), store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "p.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ids := webhookd.NewIDGenerator(nil)
	ws, err := server.NewWebhookService(server.WebhookServiceConfig{Store: panickingStore{st}, Logger: logger, IDs: ids, MaxPayloadBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := server.NewAdminService(server.AdminServiceConfig{Store: st, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	var readyPanics atomic.Bool
	srv, err := server.New(t.Context(), server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: logger,
		Webhooks: ws, Admin: admin, Auth: server.NewAuthenticator(st, testAdminToken),
		MaxRequestBytes: 1 << 20, Registerer: reg,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		Ready: func(context.Context) error {
			if readyPanics.Load() {
				panic("readiness check exploded")
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
	t.Cleanup(func() { _ = cc.Close() })
	name := "endpoints/" + ids.New(webhookd.PrefixEndpoint)
	_, err = webhooksv1.NewWebhookServiceClient(cc).GetEndpoint(withToken(t.Context(), testAdminToken), &webhooksv1.GetEndpointRequest{Name: name})
	wantCode(t, err, codes.Internal)
	if strings.Contains(err.Error(), "exploded") {
		t.Errorf("the panic value reached the caller: %v", err)
	}

	base := "http://" + srv.HTTPAddr()
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	wantInternal := func(path string) {
		t.Helper()
		code, body := get(path)
		var st struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if code != http.StatusInternalServerError || json.Unmarshal([]byte(body), &st) != nil || st.Code != int(codes.Internal) || st.Message != "internal error" {
			t.Fatalf("GET %s: %d %s, want 500 with code 13 and message \"internal error\"", path, code, body)
		}
	}
	wantInternal("/v1/" + name) // through the gateway: the gRPC handler panics
	readyPanics.Store(true)
	wantInternal("/readyz") // a plain HTTP handler panics

	// Still serving on both listeners.
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after the panics: %d %s", code, body)
	}
	if _, err := healthpb.NewHealthClient(cc).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("gRPC health after the panics: %v", err)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{
		`webhookd_handler_panics_total{transport="grpc"} 2`,
		`webhookd_handler_panics_total{transport="http"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	out := logs.String()
	for _, want := range []string{"request handler panicked", "endpoint lookup exploded", "panickingStore.GetEndpoint", "readiness check exploded"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q (the panic and its stack):\n%s", want, out)
		}
	}
}
