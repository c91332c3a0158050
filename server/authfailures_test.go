package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
)

// lookupCountingStore is a real store that counts API key lookups.
type lookupCountingStore struct {
	store.Store
	lookups atomic.Int64
}

func (s *lookupCountingStore) APIKeyByTokenHash(ctx context.Context, hash []byte) (*webhookd.APIKey, error) {
	s.lookups.Add(1)
	return s.Store.APIKeyByTokenHash(ctx, hash)
}

// fromAddr dials from a loopback address of its own (Linux routes all of
// 127.0.0.0/8 to lo), so that one test can be several clients.
func fromAddr(ip string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
}

// TestFailedAuthenticationIsLimitedPerAddress checks that an address that
// keeps sending bad keys is refused before any key lookup once over its
// budget, over gRPC and REST alike, while other addresses are served; and
// that REST calls count against the REST client, not against the gateway
// that forwards them over gRPC.
func TestFailedAuthenticationIsLimitedPerAddress(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	sqlite, err := store.Open(t.Context(), store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "a.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlite.Close() })
	st := &lookupCountingStore{Store: sqlite}
	ids := webhookd.NewIDGenerator(nil)
	ws, err := server.NewWebhookService(server.WebhookServiceConfig{Store: st, Logger: logger, IDs: ids, MaxPayloadBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := server.NewAdminService(server.AdminServiceConfig{Store: st, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	// Three failures, then (practically) no refill during the test.
	limiter, err := server.NewAuthFailureLimiter(server.AuthFailureConfig{Rate: 0.001, Burst: 3, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: logger,
		Webhooks: ws, Admin: admin, Auth: server.NewAuthenticator(st, testAdminToken), MaxRequestBytes: 1 << 20,
		AuthFailures: limiter, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, time.Second) }()
	t.Cleanup(func() { cancel(); <-done })

	grpcFrom := func(ip string) webhooksv1.WebhookServiceClient {
		cc, err := grpc.NewClient("passthrough:///"+srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithContextDialer(
			func(ctx context.Context, addr string) (net.Conn, error) { return fromAddr(ip)(ctx, "tcp", addr) }))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		return webhooksv1.NewWebhookServiceClient(cc)
	}
	restFrom := func(ip string) func(method, token string) *http.Response {
		client := &http.Client{Timeout: patience, Transport: &http.Transport{DialContext: fromAddr(ip)}}
		return func(method, token string) *http.Response {
			t.Helper()
			var body io.Reader
			if method == http.MethodPost {
				body = strings.NewReader(`{"url": "https://example.com/hook", "eventTypes": ["property.created"]}`)
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, "http://"+srv.HTTPAddr()+"/v1/endpoints", body)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s /v1/endpoints: %v", method, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return resp
		}
	}
	const badKey = "whk_not-a-key-of-this-installation"
	list := func(c webhooksv1.WebhookServiceClient, token string) error {
		_, err := c.ListEventTypes(withToken(t.Context(), token), &webhooksv1.ListEventTypesRequest{})
		return err
	}

	// One gRPC client fails three times, then is refused unlooked-up,
	// whatever key it sends.
	a := grpcFrom("127.0.0.1")
	for range 3 {
		wantCode(t, list(a, badKey), codes.Unauthenticated)
	}
	lookups := st.lookups.Load()
	err = list(a, badKey)
	wantCode(t, err, codes.ResourceExhausted)
	if st, _ := status.FromError(err); len(st.Details()) == 0 {
		t.Errorf("the refusal carries no RetryInfo: %v", err)
	} else if _, ok := st.Details()[0].(*errdetails.RetryInfo); !ok {
		t.Errorf("the refusal's detail is %T, want RetryInfo", st.Details()[0])
	}
	wantCode(t, list(a, testAdminToken), codes.ResourceExhausted)
	if n := st.lookups.Load(); n != lookups {
		t.Errorf("%d key lookups for calls refused by the limit, want none", n-lookups)
	}

	// Another address has its own budget.
	b := grpcFrom("127.0.0.2")
	if err := list(b, testAdminToken); err != nil {
		t.Fatalf("a client at another address: %v", err)
	}
	wantCode(t, list(b, badKey), codes.Unauthenticated)

	// REST: counted against the REST client's address. The gateway dials
	// from 127.0.0.1, refused above, so counting its calls by their gRPC
	// peer would refuse the first of them.
	c := restFrom("127.0.0.3")
	for range 3 {
		if resp := c(http.MethodGet, badKey); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("REST with a bad key: %s, want 401", resp.Status)
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		resp := c(method, testAdminToken)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("REST %s over the limit: %s (Retry-After %q), want 429 with Retry-After", method, resp.Status, resp.Header.Get("Retry-After"))
		}
	}
	if resp := restFrom("127.0.0.4")(http.MethodGet, testAdminToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("REST from another address: %s", resp.Status)
	}
	healthy(t, srv.HTTPAddr()) // health checks need no key and are never limited

	resp, err := http.Get("http://" + srv.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, want := range []string{`webhookd_auth_failures_total{result="unauthenticated"} 7`, `webhookd_auth_failures_total{result="limited"} 4`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
