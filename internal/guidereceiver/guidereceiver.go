// Package guidereceiver runs, for tests, the webhook receiver a customer
// following the public guide would write: Express with express.json() and
// the guide's verifyWebhookSignature middleware, verbatim, plus the
// standardwebhooks npm package over the raw body (js/receiver.js). Tests of
// signing, of the engine and of the whole service use it to prove that what
// webhookd sends verifies exactly as the guide promises.
//
// Node.js and npm are needed; the receiver's npm packages are pinned by
// js/package-lock.json and installed with `npm ci` on first use. Without
// them a test is skipped, except when CI is set: there it fails.
package guidereceiver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// dir is js/ beside this file, wherever the tests run from.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "js")
}

// npmInstall runs `npm ci` once when the pinned packages are missing
// (node_modules is not committed).
var npmInstall = sync.OnceValues(func() ([]byte, error) {
	installed := true
	for _, f := range []string{".package-lock.json", "express/package.json", "standardwebhooks/package.json"} {
		if _, err := os.Stat(filepath.Join(dir(), "node_modules", f)); err != nil {
			installed = false
		}
	}
	if installed {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir()
	return cmd.CombinedOutput()
})

// Log is the line receiver.js prints for each request.
type Log struct {
	ID          string `json:"id"`
	ContentType string `json:"contentType"`
	Type        string `json:"type"`
	Guide       struct {
		Passed bool   `json:"passed"`
		Error  string `json:"error"`
	} `json:"guide"`
	Standard []struct {
		Passed bool   `json:"passed"`
		Error  string `json:"error"`
	} `json:"standard"`
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// Verified reports whether both the guide's check and every Standard
// Webhooks check passed.
func (l Log) Verified() bool {
	if !l.Guide.Passed || len(l.Standard) == 0 {
		return false
	}
	for _, s := range l.Standard {
		if !s.Passed {
			return false
		}
	}
	return l.Status == 200
}

// Receiver is a running receiver.js.
type Receiver struct {
	// URL is where it receives webhooks.
	URL  string
	logs chan Log
}

// RequireNode skips t (fails it under CI) when node or the other tools are missing.
func RequireNode(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range append([]string{"node"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found on PATH (%v); CI must run the Node.js tests", tool, err)
			}
			t.Skipf("%s not found on PATH; skipping the test against Node.js (it is required when CI is set)", tool)
		}
	}
}

// Start runs receiver.js with the guide's WEBHOOK_SECRET and the Standard
// Webhooks secrets each request must verify against (default: guideSecret).
// It stops when t ends.
func Start(t testing.TB, guideSecret string, standardSecrets ...string) *Receiver {
	t.Helper()
	RequireNode(t, "npm")
	if out, err := npmInstall(); err != nil {
		msg := fmt.Sprintf("npm ci in %s failed: %v\n%s", dir(), err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + "\n(skipping outside CI: the npm registry may be unreachable)")
	}
	cmd := exec.Command("node", "receiver.js", "0")
	cmd.Dir = dir()
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+guideSecret, "STANDARD_WEBHOOK_SECRETS="+strings.Join(standardSecrets, ","))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("receiver.js stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var hello struct{ Listening int }
	select {
	case line, ok := <-lines:
		if !ok || json.Unmarshal([]byte(line), &hello) != nil || hello.Listening == 0 {
			t.Fatalf("receiver.js did not start (first line %q)", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("receiver.js did not start within 30s")
	}
	r := &Receiver{URL: fmt.Sprintf("http://127.0.0.1:%d/webhooks/real-estate", hello.Listening), logs: make(chan Log, 1024)}
	go func() {
		defer close(r.logs)
		for line := range lines {
			var l Log
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				l.Error = "unparseable log line: " + line
			}
			r.logs <- l
		}
	}()
	return r
}

// Next returns the log line of the next request the receiver got.
func (r *Receiver) Next(t testing.TB) Log {
	t.Helper()
	select {
	case l, ok := <-r.logs:
		if !ok {
			t.Fatal("receiver.js exited")
		}
		return l
	case <-time.After(15 * time.Second):
		t.Fatal("receiver.js got no request within 15s")
	}
	return Log{}
}
