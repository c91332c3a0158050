// Package python holds the Python SDK (package webhookd, beside this file)
// and the Go test that runs its tests against a real webhookd, so that
// scripts/test.sh (go test ./...) runs them with everything else.
package python

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/daemon"
)

// pythonPath is Debian's python3, whose python3-grpcio and python3-protobuf
// the SDK runs on, or WEBHOOKD_TEST_PYTHON.
func pythonPath() string {
	if p := os.Getenv("WEBHOOKD_TEST_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// skipOrFail skips t, or fails it when CI is set: there the SDK's tests must run.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so the Python SDK's tests must not be skipped)")
	}
	t.Skip(msg)
}

// TestPythonSDK runs the Python SDK's unittest suite: its unit tests, and the
// contract scenario (tests/test_contract.py) against a webhookd built from
// this tree, on the embedded defaults, with loopback http:// endpoints
// allowed for the test's receiver and a rate limit low enough that the
// client must honour RetryInfo.
func TestPythonSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts webhookd; skipped with -short")
	}
	python := pythonPath()
	if _, err := os.Stat(python); err != nil {
		skipOrFail(t, fmt.Sprintf("no Python at %s (apt-get install python3, or set WEBHOOKD_TEST_PYTHON)", python))
	}
	if out, err := exec.Command(python, "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
		skipOrFail(t, fmt.Sprintf("%s cannot import grpc and protobuf (apt-get install python3-grpcio python3-protobuf): %v\n%s", python, err, out))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "webhookd")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/webhookd/webhookd/cmd/webhookd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build webhookd: %v\n%s", err, out)
	}
	p, err := daemon.Start(ctx, daemon.Config{
		Binary:  bin,
		LogPath: filepath.Join(dir, "webhookd.log"),
		Args: []string{
			"--data-dir=" + filepath.Join(dir, "data"),
			"--allow-http-endpoints", "--allow-cidr=127.0.0.0/8",
			// Low enough that test_rate_limit_retry_info_honoured runs into
			// it in a few dozen calls; each test has an account of its own,
			// so the others are slowed at most a little, and retried.
			"--rate-limit=10", "--rate-burst=20",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	cmd := exec.CommandContext(ctx, python, "-m", "unittest", "discover", "-v", "-s", "tests", "-t", ".")
	cmd.Env = append(os.Environ(),
		"WEBHOOKD_CONTRACT_GRPC_ADDR="+p.GRPCAddr,
		"WEBHOOKD_CONTRACT_ADMIN_TOKEN="+p.Token,
		// The package is imported from this directory, as the README's
		// PYTHONPATH install does; no __pycache__ is left in the tree.
		"PYTHONPATH=.",
		"PYTHONDONTWRITEBYTECODE=1",
	)
	out, err := cmd.CombinedOutput()
	t.Logf("%s -m unittest:\n%s", python, out)
	if err != nil {
		t.Logf("webhookd's log:\n%s", p.LogTail(60))
		t.Fatalf("the Python SDK's tests failed: %v", err)
	}
}
