package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
)

// The slow-client tests use timeouts of a fraction of a second and assert
// only what eventually happens (a connection is closed by webhookd, a
// request is answered), each bounded by a patience far beyond the
// configured timeout, so a loaded machine makes them slower, not flaky.
const patience = 20 * time.Second

// startBoundedServer runs the API on SQLite with cfg's connection bounds.
func startBoundedServer(t *testing.T, bounds func(*server.Config)) *server.Server {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(t.Context(), store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "s.db")})
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
	cfg := server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: logger,
		Webhooks: ws, Admin: admin, Auth: server.NewAuthenticator(st, testAdminToken), MaxRequestBytes: 1 << 20,
	}
	bounds(&cfg)
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv
}

// dialRaw opens a TCP connection and writes what a slow client sends.
func dialRaw(t *testing.T, addr, send string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if send != "" {
		if _, err := io.WriteString(c, send); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// closedByServer waits for webhookd to close c and returns what it sent
// first; it fails t if c is still open after patience.
func closedByServer(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(patience))
	got, err := io.ReadAll(c)
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %s (got %q)", patience, got)
	}
	return string(got)
}

// healthy fetches /healthz as a well-behaved client would.
func healthy(t *testing.T, addr string) {
	t.Helper()
	client := &http.Client{Timeout: patience, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("healthy client: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthy client: %s", resp.Status)
	}
}

// TestSlowHTTPClientsAreCutOff checks that clients holding a connection
// without finishing a request, or idling on it, are disconnected, while
// more slow clients than the connection cap do not keep healthy ones out
// for good.
func TestSlowHTTPClientsAreCutOff(t *testing.T) {
	t.Parallel()
	srv := startBoundedServer(t, func(c *server.Config) {
		c.HTTPReadHeaderTimeout = 200 * time.Millisecond
		c.HTTPReadTimeout = 400 * time.Millisecond
		c.HTTPIdleTimeout = 300 * time.Millisecond
		c.HTTPMaxConns = 4
	})
	addr := srv.HTTPAddr()
	slow := []struct {
		name string
		send string
		// answered is how the answer starts, if webhookd answers at all
		// before closing.
		answered string
	}{
		{"headers never finished", "GET /healthz HTTP/1.1\r\nHost: webhookd\r\n", ""},
		{"one body byte of 100, authenticated", "POST /v1/endpoints HTTP/1.1\r\nHost: webhookd\r\nAuthorization: Bearer " + testAdminToken +
			"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", ""},
		{"idle after a request", "GET /healthz HTTP/1.1\r\nHost: webhookd\r\n\r\n", "HTTP/1.1 200"},
	}
	// Three times as many slow clients as the cap: the later ones wait to
	// be accepted, and are cut off in turn.
	var wg sync.WaitGroup
	for i := range 12 {
		tc := slow[i%len(slow)]
		c := dialRaw(t, addr, tc.send)
		wg.Go(func() {
			got := closedByServer(t, c)
			if !strings.HasPrefix(got, tc.answered) {
				t.Errorf("%s: got %q before the close, want it to start with %q", tc.name, got, tc.answered)
			}
		})
	}
	healthy(t, addr)
	wg.Wait()
	healthy(t, addr)
}

// TestHTTPConnectionCap checks that webhookd accepts no more than
// HTTPMaxConns connections at once, and takes the next as one closes.
func TestHTTPConnectionCap(t *testing.T) {
	t.Parallel()
	srv := startBoundedServer(t, func(c *server.Config) {
		c.HTTPReadHeaderTimeout = time.Minute // the held connections stay
		c.HTTPMaxConns = 2
	})
	addr := srv.HTTPAddr()
	held := []net.Conn{dialRaw(t, addr, "GET /healthz HTTP/1.1\r\n"), dialRaw(t, addr, "GET /healthz HTTP/1.1\r\n")}
	// While both are held, a third connection waits to be accepted: its
	// request must not be answered. (A slow machine can only make this
	// pass wrongly, never fail wrongly.)
	third := dialRaw(t, addr, "GET /healthz HTTP/1.1\r\nHost: webhookd\r\nConnection: close\r\n\r\n")
	answered := make(chan string, 1)
	go func() {
		_ = third.SetReadDeadline(time.Now().Add(patience))
		line, _ := bufio.NewReader(third).ReadString('\n')
		answered <- line
	}()
	select {
	case line := <-answered:
		t.Fatalf("a third connection was served while two were held (cap 2): %q", line)
	case <-time.After(300 * time.Millisecond):
	}
	_ = held[0].Close()
	if line := <-answered; !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("after a held connection closed, the waiting client got %q", line)
	}
}

// TestUnauthenticatedBodyIsNotRead checks that a REST request with a body
// and no valid key is refused with 401 before its body arrives.
func TestUnauthenticatedBodyIsNotRead(t *testing.T) {
	t.Parallel()
	srv := startBoundedServer(t, func(c *server.Config) {
		c.HTTPReadTimeout = time.Minute // longer than patience: only an early answer passes
	})
	for _, auth := range []string{"", "Authorization: Bearer whk_not-a-key\r\n"} {
		c := dialRaw(t, srv.HTTPAddr(), "POST /v1/endpoints HTTP/1.1\r\nHost: webhookd\r\n"+auth+
			"Content-Type: application/json\r\nContent-Length: 500000\r\n\r\n")
		got := closedByServer(t, c)
		if !strings.HasPrefix(got, "HTTP/1.1 401") || !strings.Contains(got, `"code":16`) {
			t.Fatalf("with %q: got %q, want 401 with the UNAUTHENTICATED status before the body", auth, got)
		}
	}
}

// TestGRPCConnectionsAreBounded checks that a gRPC connection that never
// completes its handshake, or completes it and makes no call, is closed,
// and that a real client keeps being served (reconnecting when its idle
// connection was closed).
func TestGRPCConnectionsAreBounded(t *testing.T) {
	t.Parallel()
	srv := startBoundedServer(t, func(c *server.Config) {
		c.GRPCHandshakeTimeout = 200 * time.Millisecond
		c.GRPCMaxConnectionIdle = 300 * time.Millisecond
	})
	addr := srv.GRPCAddr()
	const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	emptySettings := string([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0})
	silent := dialRaw(t, addr, "")
	idle := dialRaw(t, addr, preface+emptySettings)
	closedByServer(t, silent)
	// gRPC sends GOAWAY with a ping and closes once it is answered, or
	// after 5 s: this client answers nothing.
	closedByServer(t, idle)

	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	health := healthpb.NewHealthClient(cc)
	for range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), patience)
		_, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		cancel()
		if err != nil {
			t.Fatalf("healthy gRPC client: %v", err)
		}
		time.Sleep(500 * time.Millisecond) // past the idle bound: the next call reconnects
	}
}
