package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/daemon"
	"github.com/webhookd/webhookd/internal/testenv"
)

// skipOrFail skips t, or fails it when CI is set: there the end-to-end test
// must run.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so the dashboard's browser test must not be skipped)")
	}
	t.Skip(msg)
}

// chromiumPath is Debian's chromium, or WEBHOOKD_TEST_CHROMIUM.
func chromiumPath() string {
	if p := os.Getenv("WEBHOOKD_TEST_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// npmInstall runs `npm ci` in web/ once when playwright-core is missing.
var npmInstall = sync.OnceValues(func() ([]byte, error) {
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error").CombinedOutput()
})

// TestDashboardInChromium drives the dashboard in headless Chromium
// (web/e2e/dashboard.mjs, playwright-core) against a webhookd binary built
// from this tree, with a real loopback receiver: once on the embedded
// defaults (SQLite, in-process Redis) and once on PostgreSQL and Redis (when
// scripts/test.sh provides them). Screenshots of every page go to
// web/e2e/screenshots.
func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("builds webhookd and starts a browser; skipped with -short")
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		skipOrFail(t, fmt.Sprintf("no Chromium at %s (apt-get install chromium, or set WEBHOOKD_TEST_CHROMIUM)", chromiumPath()))
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed (apt-get install nodejs npm)")
		}
	}
	if out, err := npmInstall(); err != nil {
		skipOrFail(t, fmt.Sprintf("npm ci in web/ failed: %v\n%s", err, out))
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "webhookd")
	build := exec.Command("go", "build", "-o", bin, "github.com/webhookd/webhookd/cmd/webhookd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build webhookd: %v\n%s", err, out)
	}

	// In turn, not in parallel: each runs a browser, and the machine
	// running the suite may have two cores.
	t.Run("embedded", func(t *testing.T) {
		runDashboard(t, bin, "embedded", "--data-dir="+filepath.Join(t.TempDir(), "data"))
	})
	t.Run("postgres+redis", func(t *testing.T) {
		runDashboard(t, bin, "postgres",
			"--database-url="+testenv.PostgresURL(t),
			"--redis-url="+testenv.RedisURL(t),
			"--redis-prefix="+strings.TrimSuffix(testenv.RedisKeyPrefix(t), ":"))
	})
}

// runDashboard starts webhookd with args, a receiver and two accounts, and
// runs the browser script against them; screenshots go to
// e2e/screenshots/<name>.
func runDashboard(t *testing.T, bin, name string, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	p, err := daemon.Start(ctx, daemon.Config{
		Binary:  bin,
		LogPath: filepath.Join(dir, "webhookd.log"),
		Args: append([]string{
			"--allow-http-endpoints", "--allow-cidr=127.0.0.0/8",
			// The browser polls every page; the test is one customer
			// clicking fast, not a load the limit is for.
			"--rate-limit=0",
		}, args...),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	defer func() {
		if t.Failed() {
			t.Logf("webhookd's log:\n%s", p.LogTail(60))
		}
	}()

	// The receiver answers every POST with 200 and keeps the last body, which
	// GET /last-body returns: the browser test compares it with the body
	// the dashboard shows.
	var mu sync.Mutex
	var lastBody []byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/last-body" {
			mu.Lock()
			defer mu.Unlock()
			_, _ = w.Write(lastBody)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		lastBody = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	defer receiver.Close()
	// A loopback port nothing listens on: attempts to it fail with
	// "connection refused".
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + ln.Addr().String() + "/webhooks"
	_ = ln.Close()

	checkListener(t, "http://"+p.HTTPAddr)

	admin := p.Authed(ctx)
	keyA, keyAName := customerKey(ctx, t, p, admin, "Acme Realty")
	keyB, _ := customerKey(ctx, t, p, admin, "Other Realty")
	foreign := foreignDelivery(ctx, t, p, keyB, receiver.URL+"/b")

	shots, err := filepath.Abs(filepath.Join("e2e", "screenshots", name))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "node", filepath.Join("e2e", "dashboard.mjs"))
	cmd.Env = append(os.Environ(),
		"BASE_URL=http://"+p.HTTPAddr,
		"API_KEY="+keyA,
		"OK_URL="+receiver.URL+"/webhooks/real-estate",
		"LAST_BODY_URL="+receiver.URL+"/last-body",
		"DOWN_URL="+downURL,
		"FOREIGN_DELIVERY="+foreign,
		"ADMIN_TOKEN="+p.Token,
		"API_KEY_NAME="+keyAName,
		"CHROMIUM="+chromiumPath(),
		"SCREENSHOT_DIR="+shots,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("node e2e/dashboard.mjs:\n%s", out.String())
	if err != nil {
		t.Fatalf("the browser test failed: %v (screenshots in %s)", err, shots)
	}
}

// customerKey creates an account and a key of it, and returns the key's
// token and resource name.
func customerKey(ctx context.Context, t *testing.T, p *daemon.Process, admin context.Context, name string) (token, keyName string) {
	t.Helper()
	acct, err := p.Admin.CreateAccount(admin, &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: name}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := p.Admin.CreateApiKey(admin, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{Account: acct.GetName(), DisplayName: name + " dashboard"}})
	if err != nil {
		t.Fatal(err)
	}
	return key.GetToken(), key.GetName()
}

// foreignDelivery makes a delivery in another account, whose id account A's
// dashboard must not open.
func foreignDelivery(ctx context.Context, t *testing.T, p *daemon.Process, key, url string) string {
	t.Helper()
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	ep, err := p.Webhooks.CreateEndpoint(authed, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
		Url: url, EventTypes: []string{"property.created"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := structpb.NewStruct(map[string]any{"property": map[string]any{"id": "prop_b"}})
	res, err := p.Webhooks.SendTestEvent(authed, &webhooksv1.SendTestEventRequest{Endpoint: ep.GetName(), EventType: "property.created", Data: data, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	name := res.GetDelivery().GetName()
	if !strings.HasPrefix(name, "deliveries/") {
		t.Fatalf("SendTestEvent gave no delivery: %v", res)
	}
	return strings.TrimPrefix(name, "deliveries/")
}

// checkListener checks that the dashboard shares the HTTP listener without
// shadowing what was there before it: the REST API (its own 401 and 404
// answers, never index.html), health checks, metrics and the OpenAPI document.
func checkListener(t *testing.T, base string) {
	t.Helper()
	tests := []struct {
		path        string
		status      int
		contentType string
		dashboard   bool
	}{
		{"/", 200, "text/html; charset=utf-8", true},
		{"/endpoints/ep_1/deliveries/dlv_1", 200, "text/html; charset=utf-8", true},
		{"/healthz", 200, "text/plain; charset=utf-8", false},
		{"/readyz", 200, "text/plain; charset=utf-8", false},
		{"/metrics", 200, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", false},
		{"/openapi.json", 200, "application/json", false},
		{"/v1/endpoints", 401, "application/json", false},
		{"/v1/no-such-collection", 404, "application/json", false},
	}
	for _, tc := range tests {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy") != ""
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), strings.SplitN(tc.contentType, ";", 2)[0]) || csp != tc.dashboard {
			t.Errorf("GET %s: %d %q (dashboard CSP: %v), want %d %q (dashboard: %v)",
				tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), csp, tc.status, tc.contentType, tc.dashboard)
		}
	}
}
