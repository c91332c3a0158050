package webhookd_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	webhookd "github.com/webhookd/webhookd/sdk/go"
)

// The tests against a real webhookd build it from this repository
// (../../cmd/webhookd) once per run, with the go command running them, and
// start it as a child process on free loopback ports with a temp data dir
// (embedded SQLite and Redis-protocol server). TestMain also starts the one
// the Example functions use and hands it to them through the environment,
// as a user's program would get its address and key.

// binary is the built webhookd, or skipReason says why there is none.
var (
	binary     string
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "webhookd-sdk-go-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary, skipReason = buildWebhookd(dir)

	var stop func()
	if skipReason == "" {
		stop, err = startExampleServer(dir)
		if err != nil {
			skipReason = "starting webhookd for the examples: " + err.Error()
		}
	}
	if skipReason != "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "CI is set, so a real webhookd is required:", skipReason)
			return 1
		}
		// Examples cannot skip themselves: leave those that need a webhookd
		// out of the run, saying why, as the tests below do with t.Skip.
		fmt.Fprintln(os.Stderr, "skipping the examples that call webhookd:", skipReason)
		_ = flagSet("test.skip", "^ExampleClient_")
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	return code
}

// buildWebhookd builds cmd/webhookd into dir with the root module's go.mod,
// or says why it cannot.
func buildWebhookd(dir string) (path, skip string) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", err.Error()
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "webhookd", "main.go")); err != nil {
		return "", "webhookd's source is not at ../../cmd/webhookd (the SDK is not in its repository)"
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", "no go command to build webhookd with"
	}
	path = filepath.Join(dir, "webhookd")
	cmd := exec.Command(goCmd, "build", "-o", path, "./cmd/webhookd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("go build ./cmd/webhookd: %v\n%s", err, out)
	}
	return path, ""
}

// webhookdProcess is one running webhookd.
type webhookdProcess struct {
	GRPCAddr   string
	AdminToken string
	cmd        *exec.Cmd
	done       chan struct{}
}

// Stop ends the process with SIGTERM (webhookd drains and exits) and waits.
func (p *webhookdProcess) Stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

var servingLine = regexp.MustCompile(`msg=serving grpc=(\S+) http=(\S+)`)

// startWebhookd runs the built webhookd on free loopback ports with data in
// dataDir, letting it deliver to plain-http loopback receivers, and waits
// until it serves.
func startWebhookd(dataDir string, extraArgs ...string) (*webhookdProcess, error) {
	return startWebhookdWithToken(dataDir, "whk_sdktest_"+randomHex(16), extraArgs...)
}

// startWebhookdWithToken is startWebhookd with a chosen admin token.
// Flags in extraArgs override the defaults (the last of a flag wins).
func startWebhookdWithToken(dataDir, token string, extraArgs ...string) (*webhookdProcess, error) {
	args := append([]string{
		"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--data-dir", dataDir,
		"--allow-http-endpoints", "--allow-cidr", "127.0.0.0/8",
	}, extraArgs...)
	cmd := exec.Command(binary, args...)
	// Only the test's own settings: a WEBHOOKD_* variable of the developer's
	// environment would change what webhookd does.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEBHOOKD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "WEBHOOKD_ADMIN_TOKEN="+token)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &webhookdProcess{AdminToken: token, cmd: cmd, done: make(chan struct{})}
	serving := make(chan string, 1)
	var logTail strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if logTail.Len() < 16<<10 {
				logTail.WriteString(line + "\n")
			}
			mu.Unlock()
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case serving <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case addr := <-serving:
		p.GRPCAddr = addr
		return p, nil
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.Stop()
	}
	mu.Lock()
	defer mu.Unlock()
	return nil, fmt.Errorf("webhookd did not start serving:\n%s", logTail.String())
}

// startTestWebhookd is startWebhookd for one test, stopped when it ends.
func startTestWebhookd(t *testing.T, extraArgs ...string) *webhookdProcess {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	p, err := startWebhookd(t.TempDir(), extraArgs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// tenant is an account and a customer key of it.
type tenant struct {
	Account string
	Key     string
}

// newTenant creates an account and a customer key over AdminService, with
// an SDK client on the admin token.
func newTenant(ctx context.Context, p *webhookdProcess, name string) (tenant, error) {
	admin, err := webhookd.New(p.GRPCAddr, p.AdminToken)
	if err != nil {
		return tenant{}, err
	}
	defer admin.Close()
	acct, err := admin.AdminService().CreateAccount(ctx, &webhooksv1.CreateAccountRequest{
		Account: &webhooksv1.Account{DisplayName: name},
	})
	if err != nil {
		return tenant{}, fmt.Errorf("CreateAccount: %w", err)
	}
	key, err := admin.AdminService().CreateApiKey(ctx, &webhooksv1.CreateApiKeyRequest{
		ApiKey: &webhooksv1.ApiKey{Account: acct.GetName(), DisplayName: name + " key"},
	})
	if err != nil {
		return tenant{}, fmt.Errorf("CreateApiKey: %w", err)
	}
	return tenant{Account: acct.GetName(), Key: key.GetToken()}, nil
}

// startExampleServer starts the webhookd and the receiver the examples use,
// with an account whose endpoint is subscribed to property.created, and
// puts the address and the account's key in WEBHOOKD_ADDR and
// WEBHOOKD_API_KEY.
func startExampleServer(dir string) (stop func(), err error) {
	p, err := startWebhookd(filepath.Join(dir, "examples"))
	if err != nil {
		return nil, err
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	stop = func() { receiver.Close(); p.Stop() }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tn, err := newTenant(ctx, p, "Example Realty")
	if err != nil {
		stop()
		return nil, err
	}
	c, err := webhookd.New(p.GRPCAddr, tn.Key)
	if err != nil {
		stop()
		return nil, err
	}
	defer c.Close()
	if _, err := c.WebhookService().CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{
		Endpoint: &webhooksv1.Endpoint{Url: receiver.URL + "/webhooks", EventTypes: []string{"property.created"}},
	}); err != nil {
		stop()
		return nil, fmt.Errorf("CreateEndpoint: %w", err)
	}
	os.Setenv("WEBHOOKD_ADDR", p.GRPCAddr)
	os.Setenv("WEBHOOKD_API_KEY", tn.Key)
	return stop, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// flagSet adds value to a test flag's regexp after parsing the command line,
// so that a -skip given there still counts.
func flagSet(name, value string) error {
	if !flag.Parsed() {
		flag.Parse()
	}
	f := flag.Lookup(name)
	if f == nil {
		return errors.New("no flag -" + name)
	}
	if v := f.Value.String(); v != "" {
		value = v + "|" + value
	}
	return flag.Set(name, value)
}

// TestNewChecksArguments checks that New refuses an address without a port
// and an empty key at once, instead of failing every call later.
func TestNewChecksArguments(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		address string
		apiKey  string
		wantErr bool
	}{
		{"loopback", "127.0.0.1:9090", "whk_x", false},
		{"remote", "webhookd.internal:9090", "whk_x", false},
		{"target with a scheme", "dns:///webhookd.internal:9090", "whk_x", false},
		{"no port", "webhookd.internal", "whk_x", true},
		{"no key", "127.0.0.1:9090", " ", true},
	} {
		c, err := webhookd.New(tt.address, tt.apiKey)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: New(%q) = %v, want error %v", tt.name, tt.address, err, tt.wantErr)
		}
		if c != nil {
			c.Close()
		}
	}
}
