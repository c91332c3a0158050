package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The README's quickstart runs webhookd with no flags, so it listens on the
// default addresses. This test does exactly the same, which is why it cannot
// run in parallel and needs these ports free.
const (
	httpAddr = "127.0.0.1:8080"
	grpcAddr = "127.0.0.1:9090"
	baseURL  = "http://" + httpAddr
)

var adminTokenRE = regexp.MustCompile(`whk_[A-Za-z0-9_-]+`)

// TestQuickstart is the README's quickstart as a test: it builds the real
// binary, starts it with no flags and no WEBHOOKD_* variables in an empty
// directory, and makes the README's curl calls over plain HTTP. Then it
// stops it with SIGTERM, the way an operator would, restarts it on the same
// data with the README's development flags, runs the README's receiver and
// sends it a test event.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the webhookd binary; skipped with -short")
	}
	for _, addr := range []string{httpAddr, grpcAddr} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is taken (%v): this test runs webhookd with its default addresses, as the README quickstart does, "+
				"so it needs 127.0.0.1:8080 and 127.0.0.1:9090 free; stop whatever listens there", addr, err)
		}
		_ = l.Close()
	}

	readme := readmeQuickstart(t)
	bin := buildWebhookd(t)
	dir := t.TempDir()

	// First start: a fresh data directory, so webhookd prints a one-time admin token.
	p := startWebhookd(t, bin, dir)
	tokens := adminTokenRE.FindAllString(p.output(), -1)
	if len(tokens) != 1 {
		t.Fatalf("want exactly one generated admin token (whk_…) on stderr on the first start, found %d; output:\n%s", len(tokens), p.output())
	}
	admin := tokens[0]

	if body := get(t, "/healthz", "", http.StatusOK); string(body) != "ok\n" {
		t.Errorf("GET /healthz = %q, want %q", body, "ok\n")
	}
	var openapi struct {
		Swagger string         `json:"swagger"`
		Paths   map[string]any `json:"paths"`
	}
	decode(t, get(t, "/openapi.json", "", http.StatusOK), &openapi)
	if openapi.Swagger != "2.0" || openapi.Paths["/v1/events"] == nil {
		t.Errorf("GET /openapi.json: want a Swagger 2.0 document with /v1/events, got swagger=%q and %d paths", openapi.Swagger, len(openapi.Paths))
	}
	get(t, "/v1/eventTypes", "", http.StatusUnauthorized)
	get(t, "/v1/eventTypes", "whk_not-a-real-token", http.StatusUnauthorized)

	// The README's calls, in its order.
	var account struct{ Name, DisplayName string }
	decode(t, call(t, "POST", "/v1/accounts", admin, `{"displayName": "Acme Realty"}`, http.StatusOK), &account)
	if !strings.HasPrefix(account.Name, "accounts/acct_") || account.DisplayName != "Acme Realty" {
		t.Fatalf("POST /v1/accounts = %+v, want accounts/acct_… named Acme Realty", account)
	}

	var key struct{ Name, Account, Token string }
	decode(t, call(t, "POST", "/v1/apiKeys", admin,
		`{"account": "`+account.Name+`", "displayName": "Acme Realty production"}`, http.StatusOK), &key)
	if key.Account != account.Name || !strings.HasPrefix(key.Token, "whk_") {
		t.Fatalf("POST /v1/apiKeys = %+v, want a whk_… token for %s", key, account.Name)
	}
	customer := key.Token
	call(t, "POST", "/v1/accounts", customer, `{"displayName": "Not allowed"}`, http.StatusForbidden)

	var catalog struct{ EventTypes []struct{ Type string } }
	decode(t, get(t, "/v1/eventTypes", customer, http.StatusOK), &catalog)
	var types []string
	for _, et := range catalog.EventTypes {
		types = append(types, et.Type)
	}
	for _, want := range []string{
		"property.created", "property.updated", "property.sold",
		"appointment.scheduled", "appointment.updated", "appointment.cancelled",
		"user.registered", "feedback.submitted",
	} {
		if !slices.Contains(types, want) {
			t.Errorf("GET /v1/eventTypes lacks the guide's %q; got %v", want, types)
		}
	}

	const endpointURL = "https://your-app.example/webhooks/real-estate"
	var endpoint struct {
		Name, URL, State, Secret string
		EventTypes               []string
	}
	decode(t, call(t, "POST", "/v1/endpoints", customer,
		`{"url": "`+endpointURL+`", "eventTypes": ["property.created", "appointment.scheduled"]}`, http.StatusOK), &endpoint)
	if !strings.HasPrefix(endpoint.Name, "endpoints/ep_") || endpoint.URL != endpointURL ||
		endpoint.State != "ENABLED" || !strings.HasPrefix(endpoint.Secret, "whsec_") {
		t.Fatalf("POST /v1/endpoints = %+v, want an enabled endpoints/ep_… for %s with a whsec_… secret", endpoint, endpointURL)
	}

	const data = `{"property": {"id": "prop_123456", "address": "123 Main St, New York, NY 10001", "price": 750000, "bedrooms": 2}}`
	var event struct{ Name, Account, Type string }
	decode(t, call(t, "POST", "/v1/events?account="+account.Name, admin,
		`{"type": "property.created", "data": `+data+`}`, http.StatusOK), &event)
	if !strings.HasPrefix(event.Name, "events/evt_") || event.Account != account.Name || event.Type != "property.created" {
		t.Fatalf("POST /v1/events = %+v, want events/evt_… of type property.created in %s", event, account.Name)
	}
	// A customer key publishes in its own account without naming it.
	var own struct{ Account string }
	decode(t, call(t, "POST", "/v1/events", customer, `{"type": "appointment.scheduled", "data": {}}`, http.StatusOK), &own)
	if own.Account != account.Name {
		t.Errorf("POST /v1/events with the customer key: account = %q, want %q", own.Account, account.Name)
	}

	var deliveries struct {
		Deliveries []struct{ Name, Event, Endpoint, Status string }
	}
	decode(t, get(t, "/v1/"+event.Name+"/deliveries", customer, http.StatusOK), &deliveries)
	if len(deliveries.Deliveries) != 1 {
		t.Fatalf("GET /v1/%s/deliveries: %d deliveries, want 1", event.Name, len(deliveries.Deliveries))
	}
	if d := deliveries.Deliveries[0]; d.Event != event.Name || d.Endpoint != endpoint.Name || d.Status != "PENDING" {
		t.Errorf("delivery = %+v, want PENDING, of %s to %s", d, event.Name, endpoint.Name)
	}

	if _, err := os.Stat(filepath.Join(dir, "webhookd-data", "webhookd.db")); err != nil {
		t.Errorf("the SQLite database is not where the README says: %v", err)
	}
	if info, err := os.Stat(filepath.Join(dir, "webhookd-data", "encryption-keys")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("no owner-only encryption key file where the README says: %v, %v", info, err)
	}
	p.stop(t)

	// Second start on the same data, as the README restarts it for the
	// receiver: no new token, and everything is still there.
	p = startWebhookd(t, bin, dir, readme.devArgs...)
	if tok := adminTokenRE.FindString(p.output()); tok != "" {
		t.Errorf("second start printed a token (%s); the admin token is generated on the first start only", tok)
	}
	var again struct{ Name, URL string }
	decode(t, get(t, "/v1/"+endpoint.Name, admin, http.StatusOK), &again)
	if again.Name != endpoint.Name || again.URL != endpointURL {
		t.Errorf("after a restart, GET /v1/%s = %+v, want the endpoint created before", endpoint.Name, again)
	}
	get(t, "/v1/"+endpoint.Name, customer, http.StatusOK)
	// The secret, encrypted at rest with the generated key, reads back the
	// same after a restart: the key file was reused, not replaced.
	var secret struct{ Secret string }
	decode(t, get(t, "/v1/"+endpoint.Name+"/secret", customer, http.StatusOK), &secret)
	if secret.Secret != endpoint.Secret {
		t.Errorf("after a restart, the secret reads %q, want %q", secret.Secret, endpoint.Secret)
	}

	t.Run("receive a webhook", func(t *testing.T) {
		received := startReceiver(t, readme.receiver)
		var local struct{ Name string }
		decode(t, call(t, "POST", "/v1/endpoints", customer,
			`{"url": "http://127.0.0.1:3000/webhooks/real-estate", "eventTypes": ["property.created"]}`, http.StatusOK), &local)
		var sent struct {
			Event struct {
				Name string
				Test bool
			}
			Delivery struct{ Status string }
			Attempt  struct {
				Trigger            string
				ResponseStatusCode int
			}
		}
		decode(t, call(t, "POST", "/v1/"+local.Name+":sendTestEvent", customer,
			`{"eventType": "property.created", "wait": true}`, http.StatusOK), &sent)
		if !sent.Event.Test || sent.Delivery.Status != "SUCCEEDED" || sent.Attempt.Trigger != "TEST" || sent.Attempt.ResponseStatusCode != 200 {
			t.Fatalf("sendTestEvent = %+v, want a test event whose delivery SUCCEEDED with a TEST attempt answered 200, as the README shows", sent)
		}
		eventID := strings.TrimPrefix(sent.Event.Name, "events/")
		for _, want := range []string{
			"POST\n/webhooks/real-estate\n", "User-Agent: webhookd/" + testVersion + "\n",
			"X-Webhook-Id: " + eventID + "\n", "X-Webhook-Signature: ", "Webhook-Signature: v1,",
			`{"id":"` + eventID + `","type":"property.created"`,
		} {
			// The receiver prints before it answers, but its output reaches
			// the buffer through os/exec's copying goroutine, which may lag.
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(received.String(), want) && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if !strings.Contains(received.String(), want) {
				t.Errorf("the README's receiver did not print %q; it printed:\n%s", want, received.String())
			}
		}
	})
	p.stop(t)
}

// quickstart is what the test takes from the README, so that the two cannot
// drift apart.
type quickstart struct {
	// devArgs are the flags of the restart for a local receiver.
	devArgs []string
	// receiver is the shell block that runs the receiver.
	receiver string
}

// readmeQuickstart reads the README's Quickstart section and checks that
// it starts webhookd as this test does.
func readmeQuickstart(t *testing.T) quickstart {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "\n## Quickstart\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var q quickstart
	var firstStart bool
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		code := block[1]
		switch {
		case strings.TrimSpace(code) == "make build && bin/webhookd":
			firstStart = true
		case strings.HasPrefix(code, "bin/webhookd --"):
			q.devArgs = strings.Fields(strings.TrimPrefix(strings.TrimSpace(code), "bin/webhookd"))
		case strings.HasPrefix(code, "python3 - <<'EOF'"):
			q.receiver = code
		}
	}
	if !firstStart || q.devArgs == nil || q.receiver == "" {
		t.Fatalf("the README's Quickstart no longer has the blocks this test follows: "+
			"make build && bin/webhookd (found: %v), a restart bin/webhookd --… (found: %q), a python3 receiver (found: %v)",
			firstStart, q.devArgs, q.receiver != "")
	}
	return q
}

// startReceiver runs the README's receiver block as a user pastes it, and
// returns what it prints. It needs python3 (CI has it) and port 3000.
func startReceiver(t *testing.T, block string) *syncBuffer {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is needed for the README's receiver, and CI must have it")
		}
		t.Skip("no python3 for the README's receiver; CI runs this part")
	}
	if l, err := net.Listen("tcp", "127.0.0.1:3000"); err != nil {
		t.Fatalf("127.0.0.1:3000 is taken (%v): the README's receiver listens there", err)
	} else {
		_ = l.Close()
	}
	out := &syncBuffer{}
	cmd := exec.Command("sh", "-c", block)
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that the python3 under sh is stopped too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "receiving webhooks on"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the README's receiver did not start within 15s; it printed:\n%s", out.String())
		}
	}
	return out
}

// process is a running webhookd.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // of Wait, once done is closed
}

func (p *process) output() string { return p.out.String() }

// startWebhookd starts bin in dir with args and an environment holding
// only PATH and HOME, and returns once it serves and /readyz answers 200.
// The process is killed when the test ends, whatever happens.
func startWebhookd(t *testing.T, bin, dir string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting webhookd: %v", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("webhookd exited during start-up (%v); output:\n%s", p.err, p.output())
		default:
		}
		// The "serving" line comes after the one-time token notice, so once
		// it is seen the notice (if any) has been captured too.
		if strings.Contains(p.output(), "msg=serving") {
			resp, err := client.Get(baseURL + "/readyz")
			if err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhookd not ready at %s/readyz within 15s; output:\n%s", baseURL, p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit (status 0) within a few seconds.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("webhookd still running 10s after SIGTERM; output:\n%s", p.output())
	}
	if p.err != nil {
		t.Fatalf("webhookd exited with %v after SIGTERM, want status 0; output:\n%s", p.err, p.output())
	}
}

// call makes a REST call as curl would, with token as bearer (none if
// empty), and returns the body after checking the status.
func call(t *testing.T, method, path, token, body string, wantStatus int) []byte {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, baseURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, resp.StatusCode, wantStatus, got)
	}
	return got
}

func get(t *testing.T, path, token string, wantStatus int) []byte {
	t.Helper()
	return call(t, http.MethodGet, path, token, "", wantStatus)
}

func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

// syncBuffer collects a process's output while the test reads it.
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
