package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/store"
)

// binary is the webhookctl built for these tests: they run the real binary,
// as a user would, against a real webhookd.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "webhookctl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "webhookctl")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build webhookctl: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const adminToken = "webhookctl-test-admin-token"

var testEncryptionKeys, _ = store.GenerateKeyEntry("test")

// backend is a webhookd configuration the end-to-end tests run on.
type backend struct {
	name string
	args func(t *testing.T) []string
	// golden: this backend may rewrite golden files (one backend
	// writes, every backend compares).
	golden bool
}

var backends = []backend{
	{"embedded", func(t *testing.T) []string {
		return []string{"--database-url=sqlite://" + filepath.Join(t.TempDir(), "webhookd.db")}
	}, true},
	{"postgres+redis", func(t *testing.T) []string {
		return []string{"--database-url=" + testenv.PostgresURL(t), "--redis-url=" + testenv.RedisURL(t),
			"--redis-prefix=" + testenv.RedisKeyPrefix(t)}
	}, false},
}

// startWebhookd runs a whole webhookd (api and worker roles) in-process on
// free loopback ports and returns its gRPC address.
func startWebhookd(t *testing.T, extra ...string) *app.App {
	t.Helper()
	args := append([]string{
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--log-level=error",
		"--allow-http-endpoints", "--allow-cidr=127.0.0.0/8",
		"--poll-interval=50ms", "--reconcile-interval=1s", "--shutdown-timeout=10s",
		"--rate-limit=0",
	}, extra...)
	cfg, err := app.ParseConfig(args, func(k string) string {
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
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// cli runs webhookctl for one test: a private configuration directory and
// a clean environment, so nothing of the machine's leaks in.
type cli struct {
	t      *testing.T
	env    map[string]string
	golden bool
}

func newCLI(t *testing.T, golden bool, env map[string]string) *cli {
	home := t.TempDir()
	base := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "PATH": os.Getenv("PATH")}
	for k, v := range env {
		base[k] = v
	}
	return &cli{t: t, env: base, golden: golden}
}

// with is a copy of c with more (or, with an empty value, fewer) variables.
func (c *cli) with(env map[string]string) *cli {
	n := &cli{t: c.t, env: map[string]string{}, golden: c.golden}
	for k, v := range c.env {
		n.env[k] = v
	}
	for k, v := range env {
		if v == "" {
			delete(n.env, k)
		} else {
			n.env[k] = v
		}
	}
	return n
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs webhookctl with args and stdin.
func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = nil
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			c.t.Fatalf("webhookctl %s: %v", strings.Join(args, " "), err)
		}
		code = exit.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runIn("", args...)
}

// ok runs webhookctl and fails the test unless it exits 0.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("webhookctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// json runs webhookctl with --format json and decodes its document.
func (c *cli) json(args ...string) map[string]any {
	c.t.Helper()
	out := c.ok(append(args, "--format", "json")...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		c.t.Fatalf("webhookctl %s: not one JSON document: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

// fails runs webhookctl and checks its exit status and that stderr says
// each of want.
func (c *cli) fails(code int, want []string, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code {
		c.t.Errorf("webhookctl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			c.t.Errorf("webhookctl %s: stderr does not say %q:\n%s", strings.Join(args, " "), w, r.stderr)
		}
	}
	return r
}

// checkGolden runs webhookctl and compares its normalised stdout with
// testdata/golden/NAME.golden; WEBHOOKD_UPDATE_GOLDEN=1 rewrites the file.
func (c *cli) checkGolden(name string, args ...string) string {
	c.t.Helper()
	out := c.ok(args...)
	got := normalise(out, !slices.Contains(args, "json"))
	path := filepath.Join("testdata", "golden", name+".golden")
	if os.Getenv("WEBHOOKD_UPDATE_GOLDEN") != "" && c.golden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			c.t.Fatal(err)
		}
		return out
	}
	want, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatalf("%v (run with WEBHOOKD_UPDATE_GOLDEN=1 to create it)", err)
	}
	if got != string(want) {
		c.t.Errorf("webhookctl %s: output differs from %s (WEBHOOKD_UPDATE_GOLDEN=1 rewrites it)\ngot:\n%s\nwant:\n%s", strings.Join(args, " "), path, got, want)
	}
	return out
}

var (
	idPattern       = regexp.MustCompile(`\b(evt|ep|dlv|att|acct|key)_[0-9a-z]{26}\b`)
	tokenPattern    = regexp.MustCompile(`whk_[A-Za-z0-9_-]{20,}`)
	secretPattern   = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]{20,}`)
	timePattern     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	durationPattern = regexp.MustCompile(`"\d+(\.\d+)?s"|\b\d+ ms\b`)
	portPattern     = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	spacesPattern   = regexp.MustCompile(`(\S) {2,}`)
	etagPattern     = regexp.MustCompile(`"etag": "[A-Za-z0-9_-]+"`)
)

// normalise replaces what differs between runs: ids (numbered by first
// appearance, so that a golden still shows which rows share an id),
// tokens, secrets, times, durations, ports and etags. Tables have their column
// padding collapsed, since the widths follow those values (indentation at
// the start of a line is kept).
func normalise(out string, table bool) string {
	seen := map[string]string{}
	counts := map[string]int{}
	out = idPattern.ReplaceAllStringFunc(out, func(id string) string {
		if n, ok := seen[id]; ok {
			return n
		}
		prefix := id[:strings.IndexByte(id, '_')]
		counts[prefix]++
		n := fmt.Sprintf("%s_%026d", prefix, counts[prefix])
		seen[id] = n
		return n
	})
	out = tokenPattern.ReplaceAllString(out, "whk_<token>")
	out = secretPattern.ReplaceAllString(out, "whsec_<secret>")
	out = timePattern.ReplaceAllString(out, "<time>")
	out = durationPattern.ReplaceAllStringFunc(out, func(d string) string {
		if strings.HasPrefix(d, `"`) {
			return `"<duration>"`
		}
		return "<n> ms"
	})
	out = portPattern.ReplaceAllString(out, "127.0.0.1:<port>")
	out = etagPattern.ReplaceAllString(out, `"etag": "<etag>"`)
	if table {
		out = spacesPattern.ReplaceAllString(out, "$1  ")
	}
	return out
}

// receiver is a webhook endpoint that records every request and answers
// 200, or 500 on /fail.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, recorded{req.URL.Path, req.Header.Clone(), body})
		r.mu.Unlock()
		if req.URL.Path == "/fail" {
			http.Error(w, "receiver failed on purpose", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(r.Close)
	return r
}

// last is the last request whose body mentions substr.
func (r *receiver) last(t *testing.T, substr string) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.requests) - 1; i >= 0; i-- {
		if bytes.Contains(r.requests[i].body, []byte(substr)) {
			return r.requests[i]
		}
	}
	t.Fatalf("no request mentioning %q reached the receiver", substr)
	return recorded{}
}

// eventually retries check until it passes or 15 s have gone.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
