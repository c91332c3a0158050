// Package typescript_test runs the TypeScript SDK's tests (sdk/typescript,
// node --test) inside go test, so that the one test command runs them too:
// the type check and unit tests, and the contract test against a webhookd
// built from this tree.
package typescript_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/daemon"
)

// skipOrFail skips t, or fails it when CI is set: there the SDK's tests must
// run.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so the TypeScript SDK's tests must not be skipped)")
	}
	t.Skip(msg)
}

// rateLimit is webhookd's --rate-limit (and --rate-burst) for the contract
// test: low, so that a burst of calls is limited and the SDK's honouring of
// RetryInfo shows, yet above what the scenario's polling needs.
const rateLimit = 10

// TestTypeScriptSDK type-checks and compiles the SDK and its tests (tsc,
// strict) and runs them with Node's test runner against a webhookd on the
// embedded defaults (SQLite, in-process Redis), over gRPC and REST.
func TestTypeScriptSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds webhookd and runs node; skipped with -short")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed (apt-get install nodejs npm)")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join("node_modules", ".package-lock.json")); err != nil {
		out, err := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error").CombinedOutput()
		if err != nil {
			skipOrFail(t, fmt.Sprintf("npm ci in sdk/typescript failed: %v\n%s", err, out))
		}
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "webhookd")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/webhookd/webhookd/cmd/webhookd").CombinedOutput(); err != nil {
		t.Fatalf("go build webhookd: %v\n%s", err, out)
	}
	p, err := daemon.Start(ctx, daemon.Config{
		Binary:  bin,
		LogPath: filepath.Join(dir, "webhookd.log"),
		Args: []string{
			"--data-dir=" + filepath.Join(dir, "data"),
			"--allow-http-endpoints", "--allow-cidr=127.0.0.0/8",
			fmt.Sprintf("--rate-limit=%d", rateLimit), fmt.Sprintf("--rate-burst=%d", rateLimit),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// npm test: tsc into build/, then node --test build/test/.
	cmd := exec.CommandContext(ctx, "npm", "test", "--silent")
	cmd.Env = append(os.Environ(),
		"WEBHOOKD_GRPC_ADDR="+p.GRPCAddr,
		"WEBHOOKD_HTTP_URL=http://"+p.HTTPAddr,
		"WEBHOOKD_ADMIN_TOKEN="+p.Token,
		fmt.Sprintf("WEBHOOKD_RATE_LIMIT=%d", rateLimit),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil || testing.Verbose() {
		t.Logf("npm test:\n%s", out.String())
	}
	if err != nil {
		t.Logf("webhookd's log:\n%s", p.LogTail(60))
		t.Fatalf("the TypeScript SDK's tests failed: %v", err)
	}
}
