package main_test

import (
	"bufio"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/guidereceiver"
)

// TestListenAndTriggerToTheGuidesReceiver is docs/receiving-webhooks.md's local development
// flow, as a newcomer runs it: with a customer key, `webhookctl listen
// --print-secret` gives the secret the local server starts with, `webhookctl
// listen --forward-to` replays the development endpoint's deliveries to the
// guide's own Express verifier on loopback, and `webhookctl trigger
// property.created` sends one. Both signatures verify, the listener prints
// one line in and one out, the attempt is recorded with the local answer,
// and Ctrl-C (SIGINT) ends the listener with status 0.
func TestListenAndTriggerToTheGuidesReceiver(t *testing.T) {
	t.Parallel()
	guidereceiver.RequireNode(t, "npm")
	a := startWebhookd(t, "--database-url=sqlite://"+filepath.Join(t.TempDir(), "webhookd.db"))
	admin := newCLI(t, false, map[string]string{"WEBHOOKD_SERVER": a.GRPCAddr(), "WEBHOOKD_API_KEY": adminToken})
	acct := admin.json("accounts", "create", "--display-name", "Acme Realty")["name"].(string)
	key := admin.json("api-keys", "create", "--account", acct, "--display-name", "laptop")["token"].(string)
	dev := newCLI(t, false, map[string]string{"WEBHOOKD_SERVER": a.GRPCAddr(), "WEBHOOKD_API_KEY": key})

	secret := strings.TrimSpace(dev.ok("listen", "--print-secret"))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("listen --print-secret printed %q, want a whsec_ secret", secret)
	}
	if again := strings.TrimSpace(dev.ok("listen", "--print-secret")); again != secret {
		t.Fatalf("the development endpoint's secret changed between runs: %q, then %q", secret, again)
	}
	rcv := guidereceiver.Start(t, secret)

	listener := exec.Command(binary, "listen", "--forward-to", rcv.URL)
	for k, v := range dev.env {
		listener.Env = append(listener.Env, k+"="+v)
	}
	stdout, err := listener.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	listener.Stderr = &stderr
	if err := listener.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		exited <- listener.Wait()
	}()
	t.Cleanup(func() { _ = listener.Process.Kill() })
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("listen ended before %s; stderr:\n%s", what, stderr.String())
			}
			return l
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s from listen within 30s; stderr:\n%s", what, stderr.String())
		}
		return ""
	}
	if ready := next("Ready line"); !strings.Contains(ready, "Ready") || !strings.Contains(ready, secret) {
		t.Fatalf("first line %q, want Ready with the secret", ready)
	}

	out := dev.ok("trigger", "property.created")
	if !strings.Contains(out, "succeeded") {
		t.Errorf("trigger did not succeed:\n%s", out)
	}
	l := rcv.Next(t)
	if !l.Verified() || l.Type != "property.created" || l.Status != 200 {
		t.Errorf("the guide's receiver got %+v; want property.created verified by both schemes, answered 200", l)
	}
	if in := next("--> line"); !strings.Contains(in, "--> property.created [evt_") {
		t.Errorf("line %q, want --> property.created [evt_…]", in)
	}
	if back := next("<-- line"); !strings.Contains(back, "<-- [200] POST "+rcv.URL) {
		t.Errorf("line %q, want <-- [200] POST %s", back, rcv.URL)
	}

	if err := listener.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("listen after Ctrl-C: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("listen did not end within 15s of SIGINT")
	}
}
