package app_test

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/testenv"
)

// TestTLSListeners serves both listeners with --tls-cert-file and
// --tls-key-file: gRPC and REST answer over TLS (REST through the
// gateway's own TLS connection to the gRPC listener), and plaintext
// clients are refused.
func TestTLSListeners(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		dnsNames   []string
		serverName string
	}{
		{"certificate for loopback", nil, ""},
		// The gateway dials the gRPC listener on loopback, which this
		// certificate does not name: it pins the certificate instead.
		{"certificate for another name", []string{"webhooks.example.com"}, "webhooks.example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testTLSListeners(t, testenv.SelfSignedCert(t, tt.dnsNames...), tt.serverName)
		})
	}
}

func testTLSListeners(t *testing.T, cert testenv.TLSCert, serverName string) {
	cfg, err := app.ParseConfig([]string{
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--log-level=error",
		"--database-url=sqlite://" + filepath.Join(t.TempDir(), "webhookd.db"),
		"--tls-cert-file=" + cert.CertFile, "--tls-key-file=" + cert.KeyFile,
	}, func(k string) string {
		if k == "WEBHOOKD_ADMIN_TOKEN" {
			return adminToken
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := runApp(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+adminToken)

	call := func(creds credentials.TransportCredentials) error {
		cc, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		_, err = webhooksv1.NewWebhookServiceClient(cc).ListEventTypes(ctx, &webhooksv1.ListEventTypesRequest{})
		return err
	}
	if err := call(credentials.NewTLS(&tls.Config{RootCAs: cert.Pool, ServerName: serverName})); err != nil {
		t.Errorf("gRPC over TLS: %v", err)
	}
	if err := call(insecure.NewCredentials()); err == nil {
		t.Error("gRPC in plaintext to a TLS listener succeeded")
	}

	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool, ServerName: serverName}}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+a.HTTPAddr()+"/v1/eventTypes", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := tlsClient.Do(req)
	if err != nil {
		t.Fatalf("REST over TLS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "property.created") {
		t.Errorf("REST over TLS: %d %s", resp.StatusCode, body)
	}
	if resp, err := http.Get("http://" + a.HTTPAddr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP to the TLS listener was served")
		}
	}
}

func TestTLSConfigValidation(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSignedCert(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"cert without key", []string{"--tls-cert-file=" + cert.CertFile}, "--tls-key-file (WEBHOOKD_TLS_KEY_FILE): required with --tls-cert-file"},
		{"key without cert", []string{"--tls-key-file=" + cert.KeyFile}, "--tls-cert-file (WEBHOOKD_TLS_CERT_FILE): required with --tls-key-file"},
		{"key that does not match", []string{"--tls-cert-file=" + cert.CertFile, "--tls-key-file=" + cert.CertFile}, "--tls-cert-file, --tls-key-file:"},
		{"missing file", []string{"--tls-cert-file=/nonexistent/cert.pem", "--tls-key-file=" + cert.KeyFile}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := app.ParseConfig(tt.args, func(string) string { return "" }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestTLSFilesReadOnce: ParseConfig reads the certificate and key, and the
// start uses what it read; files gone by then (or replaced) do not matter
// until the next start.
func TestTLSFilesReadOnce(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSignedCert(t)
	cfg, err := app.ParseConfig([]string{
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--log-level=error",
		"--database-url=sqlite://" + filepath.Join(t.TempDir(), "webhookd.db"),
		"--tls-cert-file=" + cert.CertFile, "--tls-key-file=" + cert.KeyFile,
	}, func(k string) string {
		if k == "WEBHOOKD_ADMIN_TOKEN" {
			return adminToken
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{cert.CertFile, cert.KeyFile} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	a := runApp(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}}
	resp, err := client.Get("https://" + a.HTTPAddr() + "/healthz")
	if err != nil {
		t.Fatalf("REST over TLS with the files removed after ParseConfig: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz over TLS: %s", resp.Status)
	}
}

// TestTLSNotLoaded: a Config naming TLS files whose configuration was never
// loaded (not made by ParseConfig) is refused, not served in plaintext.
func TestTLSNotLoaded(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSignedCert(t)
	cfg, err := app.ParseConfig([]string{"--database-url=sqlite://" + filepath.Join(t.TempDir(), "webhookd.db")},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSCertFile, cfg.TLSKeyFile = cert.CertFile, cert.KeyFile
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--tls-cert-file, --tls-key-file: not loaded") {
		t.Fatalf("Validate = %v, want the TLS files reported as not loaded", err)
	}
}
