package main_test

import (
	"testing"

	"github.com/webhookd/webhookd/internal/testenv"
)

// TestTLS connects to a webhookd that serves TLS: --ca-file makes even a
// loopback server a TLS one, and login keeps the CA file in the profile.
// Without it, webhookctl speaks plaintext to loopback and fails clearly.
func TestTLS(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSignedCert(t)
	a := startWebhookd(t, "--database-url=sqlite://"+t.TempDir()+"/webhookd.db",
		"--tls-cert-file="+cert.CertFile, "--tls-key-file="+cert.KeyFile)
	c := newCLI(t, false, map[string]string{"WEBHOOKD_SERVER": a.GRPCAddr(), "WEBHOOKD_API_KEY": adminToken})

	if out := c.ok("event-types", "list", "--ca-file", cert.CertFile); len(out) == 0 {
		t.Error("event-types list over TLS printed nothing")
	}
	c.fails(1, []string{"UNAVAILABLE"}, "event-types", "list")
	c.fails(2, []string{"--ca-file"}, "event-types", "list", "--ca-file", cert.KeyFile) // no certificate in it

	c.ok("login", "--ca-file", cert.CertFile)
	c.with(map[string]string{"WEBHOOKD_API_KEY": "", "WEBHOOKD_SERVER": ""}).ok("event-types", "list")
}
