package worker_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/payload"
	"github.com/webhookd/webhookd/worker"
)

// receiverDir holds receiver.js and its pinned npm packages.
var receiverDir = filepath.Join("testdata", "receiver")

// npmInstall makes sure the receiver's packages are installed, running
// `npm ci` (exactly the versions of package-lock.json) when they are not.
// node_modules is gitignored, so a fresh clone installs once.
var npmInstall = sync.OnceValues(func() ([]byte, error) {
	installed := true
	for _, f := range []string{".package-lock.json", "express/package.json", "standardwebhooks/package.json"} {
		if _, err := os.Stat(filepath.Join(receiverDir, "node_modules", f)); err != nil {
			installed = false
		}
	}
	if installed {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = receiverDir
	return cmd.CombinedOutput()
})

// receiverLog is one line receiver.js prints per request.
type receiverLog struct {
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

type nodeReceiver struct {
	url  string
	logs chan receiverLog
}

// startNodeReceiver runs receiver.js with the guide's WEBHOOK_SECRET and the
// Standard Webhooks secrets each request must verify against.
func startNodeReceiver(t *testing.T, guideSecret string, standardSecrets ...string) *nodeReceiver {
	t.Helper()
	if out, err := npmInstall(); err != nil {
		msg := fmt.Sprintf("npm ci in %s failed: %v\n%s", receiverDir, err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + "\n(skipping outside CI: the npm registry may be unreachable)")
	}
	cmd := exec.Command("node", "receiver.js", "0")
	cmd.Dir = receiverDir
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
	r := &nodeReceiver{url: fmt.Sprintf("http://127.0.0.1:%d/webhooks/real-estate", hello.Listening), logs: make(chan receiverLog, 64)}
	go func() {
		defer close(r.logs)
		for line := range lines {
			var l receiverLog
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				l.Error = "unparseable log line: " + line
			}
			r.logs <- l
		}
	}()
	return r
}

// next returns the receiver's log line for the request just made.
func (r *nodeReceiver) next(t *testing.T) receiverLog {
	t.Helper()
	select {
	case l, ok := <-r.logs:
		if !ok {
			t.Fatal("receiver.js exited")
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("receiver.js printed nothing for the request")
	}
	return receiverLog{}
}

// TestGuideVerifierAcceptsOurSignatures is the end-to-end proof of the
// delivery contract: requests made by Sender, with bodies made by Envelope,
// pass both the guide's own Express verifier (which re-serialises the body
// with JSON.stringify before hashing) and the standardwebhooks package,
// including during a secret rotation; a tampered body or a wrong secret is
// refused by both.
func TestGuideVerifierAcceptsOurSignatures(t *testing.T) {
	t.Parallel()
	requireNode(t, "npm")
	const (
		current  = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
		previous = testSecret
	)
	sender := newTestSender(t, worker.SenderConfig{Timeout: 10 * time.Second})

	var events []*webhookd.Event
	for _, et := range webhookd.BuiltinEventTypes() { // the guide's two examples among them
		events = append(events, eventFromExample(t, et.Example))
	}
	for i, data := range []string{
		`{"name":"Zoë Ångström","note":"日本語 😀 \u2028 \u0007 \"quoted\" \\ </script>","lone":"\ud800"}`,
		`{"big":1e21,"tenth":0.1,"neg0":-0,"tiny":1e-7,"exp":1E+2,"max":1.7976931348623157e308,"long":123456789012345678901234567890,"sum":0.30000000000000004}`,
		`{"b":1,"10":"ten","2":"two","a":{"1":true,"0":false,"z":[null]}}`,
	} {
		canon, err := payload.CanonicalizeObject([]byte(data))
		if err != nil {
			t.Fatalf("data %d: %v", i, err)
		}
		events = append(events, &webhookd.Event{ID: fmt.Sprintf("evt_custom%d", i), Type: "property.updated", CreateTime: time.Now(), Data: canon})
	}

	t.Run("one secret", func(t *testing.T) {
		r := startNodeReceiver(t, current)
		for _, ev := range events {
			res := sender.Send(t.Context(), worker.Request{
				URL: r.url, Body: worker.Envelope(ev), MessageID: ev.ID, Timestamp: time.Now(), Secrets: []string{current},
			})
			l := r.next(t)
			if !res.OK() || res.BodyExcerpt != `{"received":true}` || l.Status != 200 {
				t.Errorf("%s: result %+v, receiver %+v; want both verifications to pass", ev.ID, res, l)
			}
			if l.ID != ev.ID || l.Type != ev.Type || l.ContentType != "application/json" {
				t.Errorf("%s: receiver saw id %q type %q content type %q", ev.ID, l.ID, l.Type, l.ContentType)
			}
		}
	})

	t.Run("rotation: both secrets verify webhook-signature, the current one X-Webhook-Signature", func(t *testing.T) {
		r := startNodeReceiver(t, current, current, previous)
		for _, ev := range events[:3] {
			res := sender.Send(t.Context(), worker.Request{
				URL: r.url, Body: worker.Envelope(ev), MessageID: ev.ID, Timestamp: time.Now(), Secrets: []string{current, previous},
			})
			l := r.next(t)
			if !res.OK() || len(l.Standard) != 2 || !l.Standard[0].Passed || !l.Standard[1].Passed || !l.Guide.Passed {
				t.Errorf("%s: result %+v, receiver %+v", ev.ID, res, l)
			}
		}
	})

	t.Run("a wrong secret is refused", func(t *testing.T) {
		r := startNodeReceiver(t, current)
		ev := events[0]
		res := sender.Send(t.Context(), worker.Request{
			URL: r.url, Body: worker.Envelope(ev), MessageID: ev.ID, Timestamp: time.Now(), Secrets: []string{previous},
		})
		l := r.next(t)
		if res.StatusCode != 401 || res.Err != "unexpected status 401" || l.Guide.Passed || l.Standard[0].Passed {
			t.Errorf("result %+v, receiver %+v; want 401 from both checks", res, l)
		}
	})

	t.Run("a tampered body is refused", func(t *testing.T) {
		r := startNodeReceiver(t, current)
		ev := events[0]
		body := worker.Envelope(ev)
		tampered := bytes.Replace(body, []byte("750000"), []byte("750001"), 1)
		if bytes.Equal(body, tampered) {
			t.Fatal("the first event is not the guide's property.created example")
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url, bytes.NewReader(tampered))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		worker.Sign(req.Header, ev.ID, time.Now(), body, []string{current})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		l := r.next(t)
		if resp.StatusCode != 401 || l.Guide.Passed || l.Standard[0].Passed {
			t.Errorf("status %d, receiver %+v; want 401 from both checks", resp.StatusCode, l)
		}
	})
}
