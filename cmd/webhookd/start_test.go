package main_test

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testVersion is stamped into the binary these tests build, the way make
// build stamps the output of git describe.
const testVersion = "0.0.0-test"

// builtWebhookd builds this package's binary once for all the tests of the
// package; TestMain removes it.
var builtWebhookd = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "webhookd-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "webhookd")
	cmd := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X github.com/webhookd/webhookd/internal/version.stamped=v"+testVersion, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New("go build: " + err.Error() + "\n" + string(out))
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := builtWebhookd(); err == nil {
		_ = os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// buildWebhookd returns the binary, built on first use.
func buildWebhookd(t *testing.T) string {
	t.Helper()
	bin, err := builtWebhookd()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// runWebhookd runs the binary in dir to its end with only PATH, HOME and env
// in its environment, and returns its exit status and output.
func runWebhookd(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(buildWebhookd(t), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("running webhookd %v: %v", args, err)
	return 0, ""
}

// entries lists what dir holds, recursively, for "nothing was created".
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			found = append(found, strings.TrimPrefix(path, dir+string(filepath.Separator)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestBadSettingsTouchNothing starts the real binary with one bad setting
// at a time and checks that it exits with status 2 naming the setting as
// --flag (WEBHOOKD_FLAG), and has created nothing — no data directory,
// database or key file, in its working directory or in --data-dir — nor
// printed an admin token.
func TestBadSettingsTouchNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     []string
		wantErr string
	}{
		{"port not a number", []string{"--http-addr", ":abc"}, nil, "--http-addr (WEBHOOKD_HTTP_ADDR): "},
		{"port in the environment", nil, []string{"WEBHOOKD_GRPC_ADDR=127.0.0.1:abc"}, "--grpc-addr (WEBHOOKD_GRPC_ADDR): "},
		{"same port twice", []string{"--http-addr=:7443", "--grpc-addr=127.0.0.1:7443"}, nil, "--grpc-addr (WEBHOOKD_GRPC_ADDR): must differ"},
		{"database URL that is no URL", []string{"--database-url", "nonsense"}, nil, "--database-url (WEBHOOKD_DATABASE_URL): "},
		{"SQLite URL without a file", nil, []string{"WEBHOOKD_DATABASE_URL=sqlite://"}, "--database-url (WEBHOOKD_DATABASE_URL): "},
		{"Redis URL of another scheme", []string{"--redis-url=http://127.0.0.1:6379"}, nil, "--redis-url (WEBHOOKD_REDIS_URL): "},
		{"number that is not one", []string{"--workers=lots"}, nil, "--workers (WEBHOOKD_WORKERS): "},
		{"out of range", nil, []string{"WEBHOOKD_MAX_PAYLOAD_BYTES=10"}, "--max-payload-bytes (WEBHOOKD_MAX_PAYLOAD_BYTES): "},
		{"flag without a value", []string{"--grpc-addr"}, nil, "--grpc-addr (WEBHOOKD_GRPC_ADDR): needs a value"},
		{"short admin token", nil, []string{"WEBHOOKD_ADMIN_TOKEN=short"}, "WEBHOOKD_ADMIN_TOKEN: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			work, data := t.TempDir(), filepath.Join(t.TempDir(), "data")
			// The data directory is given for half of the cases: the other
			// half use the default, webhookd-data in the working directory.
			args := tc.args
			if len(tc.env) > 0 {
				args = append([]string{"--data-dir=" + data}, args...)
			}
			code, out := runWebhookd(t, work, tc.env, args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2; output:\n%s", code, out)
			}
			if !strings.Contains(out, "webhookd: configuration: "+tc.wantErr) {
				t.Errorf("output does not name the setting as %q:\n%s", tc.wantErr, out)
			}
			if adminTokenRE.MatchString(out) {
				t.Errorf("a failed start printed an admin token:\n%s", out)
			}
			if got := entries(t, work); len(got) > 0 {
				t.Errorf("a failed start created %v in its working directory", got)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed start created --data-dir (%v)", err)
			}
		})
	}
}

var servingRE = regexp.MustCompile(`msg=serving grpc=\S+ http=(\S+)`)

// TestAdminTokenShownOnceServing checks that a start which fails leaves no
// admin key behind, so that the next good start still generates one and
// shows it: a key stored by a start that never served would never have been
// shown, and would stop every later start from making one.
func TestAdminTokenShownOnceServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	// An address already taken: refused before anything is created.
	code, out := runWebhookd(t, dir, nil, "--http-addr="+busy.Addr().String(), "--grpc-addr=127.0.0.1:0")
	if code != 1 || !strings.Contains(out, "--http-addr (WEBHOOKD_HTTP_ADDR): listen tcp "+busy.Addr().String()) {
		t.Errorf("start on a taken address: exit status %d, want 1 with an error naming --http-addr; output:\n%s", code, out)
	}
	if got := entries(t, dir); len(got) > 0 {
		t.Errorf("a start on a taken address created %v", got)
	}

	// A Redis that refuses connections: the start fails after the database
	// is ready, where the admin key used to be created.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := closed.Addr().String()
	_ = closed.Close()
	code, out = runWebhookd(t, dir, nil, "--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--redis-url=redis://"+refusing)
	if code != 1 {
		t.Errorf("start without Redis: exit status %d, want 1; output:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "webhookd-data", "webhookd.db")); err != nil {
		t.Fatalf("the start without Redis did not get as far as the database (%v); output:\n%s", err, out)
	}
	if adminTokenRE.MatchString(out) {
		t.Errorf("a start that failed printed an admin token:\n%s", out)
	}

	// The good start: it serves, then shows a token that works. A misspelt
	// variable on the way is warned about.
	cmd := exec.Command(buildWebhookd(t), "--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "WEBHOOKD_WORKRES=4"}
	buf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("webhookd exited with %v after SIGTERM, want status 0; output:\n%s", err, buf.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("webhookd still running 10s after SIGTERM")
		}
	}()
	var httpAddr string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if m := servingRE.FindStringSubmatch(buf.String()); m != nil {
			httpAddr = m[1]
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("webhookd exited during start-up (%v); output:\n%s", err, buf.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhookd not serving within 30s; output:\n%s", buf.String())
		}
	}
	out = buf.String()
	token := adminTokenRE.FindString(out)
	if token == "" {
		t.Fatalf("the first good start after failed ones printed no admin token; output:\n%s", out)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/v1/accounts", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/accounts with the printed token: status %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(out, "name=WEBHOOKD_WORKRES did_you_mean=WEBHOOKD_WORKERS") {
		t.Errorf("no warning about WEBHOOKD_WORKRES suggesting WEBHOOKD_WORKERS; output:\n%s", out)
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	code, out := runWebhookd(t, t.TempDir(), nil, "--version")
	if code != 0 || out != "webhookd "+testVersion+"\n" {
		t.Errorf("webhookd --version: exit status %d, output %q; want 0 and %q", code, out, "webhookd "+testVersion+"\n")
	}
}
