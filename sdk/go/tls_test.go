package webhookd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	webhookd "github.com/webhookd/webhookd/sdk/go"
)

// keyRecorder is a WebhookService that answers ListEventTypes with the
// authorization metadata it received, the only part of a server this test
// needs: webhookd itself serves plaintext gRPC behind a TLS terminator.
type keyRecorder struct {
	webhooksv1.UnimplementedWebhookServiceServer
}

func (keyRecorder) ListEventTypes(ctx context.Context, _ *webhooksv1.ListEventTypesRequest) (*webhooksv1.ListEventTypesResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return &webhooksv1.ListEventTypesResponse{EventTypes: []*webhooksv1.EventType{{Type: first(md.Get("authorization"))}}}, nil
}

// TestTLSByDefault checks that a client of a host that is not loopback
// speaks TLS with the host as server name: against a TLS server whose
// certificate is for webhookd.example it fails with the system's roots,
// succeeds once given the test CA, and only then sends the key.
func TestTLSByDefault(t *testing.T) {
	t.Parallel()
	cert, pool := selfSignedCert(t, "webhookd.example")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	webhooksv1.RegisterWebhookServiceServer(srv, keyRecorder{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	// The name resolves nowhere: every connection goes to the test server.
	dialer := grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", lis.Addr().String())
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	untrusted, err := webhookd.New("passthrough:///webhookd.example:443", "whk_secret", webhookd.WithDialOptions(dialer),
		webhookd.WithRetryPolicy(webhookd.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer untrusted.Close()
	_, err = untrusted.WebhookService().ListEventTypes(ctx, &webhooksv1.ListEventTypesRequest{})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("with the system's roots: %v, want UNAVAILABLE for an untrusted certificate", err)
	}

	trusted, err := webhookd.New("passthrough:///webhookd.example:443", "whk_secret", webhookd.WithDialOptions(dialer),
		webhookd.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer trusted.Close()
	resp, err := trusted.WebhookService().ListEventTypes(ctx, &webhooksv1.ListEventTypesRequest{})
	if err != nil {
		t.Fatalf("with the test CA: %v", err)
	}
	if got := resp.GetEventTypes()[0].GetType(); got != "Bearer whk_secret" {
		t.Errorf("server got authorization %q, want %q", got, "Bearer whk_secret")
	}
}

// selfSignedCert is a certificate for host and a pool that trusts it.
func selfSignedCert(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
