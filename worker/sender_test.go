package worker_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/webhookd/webhookd/internal/version"
	"github.com/webhookd/webhookd/signature"
	"github.com/webhookd/webhookd/worker"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// testTimeout is the attempt timeout of these tests: short, so that hanging
// receivers cost little, and far above what a loopback exchange takes.
const testTimeout = 200 * time.Millisecond

// loopback allow-lists the test receivers' addresses, which the SSRF guard
// refuses by default.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func newTestSender(t *testing.T, cfg worker.SenderConfig) *worker.Sender {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = testTimeout
	}
	if cfg.AllowCIDRs == nil {
		cfg.AllowCIDRs = loopback
	}
	s, err := worker.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// receiver is an httptest server that records what it received.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	method string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, handler http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, recorded{req.Method, req.Header.Clone(), body})
		r.mu.Unlock()
		handler(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.requests...)
}

func request(url string) worker.Request {
	return worker.Request{
		URL:       url,
		Body:      []byte(`{"id":"evt_1","type":"property.created","created":"2023-06-15T10:30:00Z","data":{}}`),
		MessageID: "evt_1",
		Timestamp: time.Unix(1686825000, 0),
		Secrets:   []string{testSecret},
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestSendOutcomes runs one attempt against receivers that behave in every
// way the delivery contract distinguishes, and checks the recorded result.
func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		handler http.HandlerFunc
		url     func(t *testing.T, r *receiver) string // default: r.URL + "/hook"
		check   func(t *testing.T, res worker.Result, r *receiver)
	}{
		{
			name: "200 is a success, with the body as excerpt",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, `{"received":true}`)
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 200, BodyExcerpt: `{"received":true}`})
			},
		},
		{
			name:    "204 is a success",
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) },
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 204})
			},
		},
		{
			name: "500 is a failure that keeps the body",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "database is down", http.StatusInternalServerError)
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 500, BodyExcerpt: "database is down\n", Err: "unexpected status 500"})
			},
		},
		{
			name: "a receiver that never answers times out",
			handler: func(_ http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{Err: "timeout after 200ms waiting for the response"})
				if res.Duration < testTimeout || res.Duration > 2*time.Second {
					t.Errorf("Duration = %v, want about %v", res.Duration, testTimeout)
				}
			},
		},
		{
			name:    "a closed port is refused",
			handler: func(http.ResponseWriter, *http.Request) {},
			url: func(t *testing.T, _ *receiver) string {
				return "http://" + closedPort(t) + "/hook"
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				if !strings.HasPrefix(res.Err, "connection refused (127.0.0.1:") || res.StatusCode != 0 {
					t.Errorf("result %+v, want connection refused", res)
				}
			},
		},
		{
			name:    "a redirect is not followed",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/target", http.StatusFound) },
			check: func(t *testing.T, res worker.Result, r *receiver) {
				want(t, res, worker.Result{StatusCode: 302, BodyExcerpt: res.BodyExcerpt,
					Err: "redirect to " + r.URL + "/target not followed (status 302)"})
				if got := r.received(); len(got) != 1 {
					t.Errorf("receiver got %d requests, want only the first (no request to the target)", len(got))
				}
			},
		},
		{
			name:    "410 Gone",
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) },
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 410, Err: "unexpected status 410", Gone: true})
			},
		},
		{
			name: "429 with Retry-After in seconds",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusTooManyRequests)
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 429, Err: "unexpected status 429", RetryAfter: 2 * time.Minute})
			},
		},
		{
			name: "503 with Retry-After as an HTTP date",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", time.Now().Add(time.Hour+30*time.Second).UTC().Format(http.TimeFormat))
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				if res.RetryAfter < time.Hour || res.RetryAfter > time.Hour+31*time.Second || res.Err != "unexpected status 503" {
					t.Errorf("result %+v, want RetryAfter of about 1h", res)
				}
			},
		},
		{
			name: "429 with Retry-After 0 is reported as 1s so that it is not mistaken for none",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 429, Err: "unexpected status 429", RetryAfter: time.Second})
			},
		},
		{
			name: "Retry-After is ignored on other statuses",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusInternalServerError)
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 500, Err: "unexpected status 500"})
			},
		},
		{
			name: "a 200 whose body trickles past the timeout fails",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				for i := 0; i < 100; i++ {
					if _, err := w.Write([]byte("x")); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				if res.Err != "timeout after 200ms reading the response body" || res.StatusCode != 200 || res.OK() {
					t.Errorf("result %+v, want a body-read timeout", res)
				}
				if !strings.HasPrefix(res.BodyExcerpt, "x") || strings.Trim(res.BodyExcerpt, "x") != "" {
					t.Errorf("excerpt %q, want the bytes read before the timeout", res.BodyExcerpt)
				}
			},
		},
		{
			name: "the excerpt is valid UTF-8 without NUL",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte("ok\x00\xff\xfe é"))
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 200, BodyExcerpt: "ok\ufffd\ufffd\ufffd é"})
			},
		},
		{
			name: "the excerpt is cut to 4 KiB on a character boundary",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(strings.Repeat("a", 4095) + "€€€"))
			},
			check: func(t *testing.T, res worker.Result, _ *receiver) {
				want(t, res, worker.Result{StatusCode: 200, BodyExcerpt: strings.Repeat("a", 4095)})
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newReceiver(t, tc.handler)
			url := r.URL + "/hook"
			if tc.url != nil {
				url = tc.url(t, r)
			}
			res := newTestSender(t, worker.SenderConfig{}).Send(t.Context(), request(url))
			tc.check(t, res, r)
		})
	}
}

// want compares res with w, ignoring Duration.
func want(t *testing.T, res, w worker.Result) {
	t.Helper()
	w.Duration = res.Duration
	if res != w {
		t.Errorf("result\n  %+v\nwant\n  %+v", res, w)
	}
}

// TestSendRequest checks what the receiver gets: a signed JSON POST whose
// webhookd headers no custom header can override.
func TestSendRequest(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(http.ResponseWriter, *http.Request) {})
	req := request(r.URL + "/hook")
	req.Headers = map[string]string{
		"X-Tenant":            "acme",
		"authorization":       "Bearer customer-token",
		"content-type":        "text/plain",
		"User-Agent":          "evil/1.0",
		"X-Webhook-Signature": "forged",
		"x-webhook-id":        "evt_forged",
		"Webhook-Signature":   "v1,forged",
		"webhook-timestamp":   "0",
		"Host":                "evil.example",
		"Content-Length":      "1",
		"Transfer-Encoding":   "chunked",
		"Connection":          "close",
	}
	res := newTestSender(t, worker.SenderConfig{UserAgent: "webhookd/test"}).Send(t.Context(), req)
	if !res.OK() {
		t.Fatalf("send: %+v", res)
	}
	got := r.received()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests", len(got))
	}
	signed := http.Header{}
	signature.Sign(signed, req.MessageID, req.Timestamp, req.Body, req.Secrets)
	wantHeaders := map[string]string{
		"Content-Type":        "application/json",
		"User-Agent":          "webhookd/test",
		"X-Tenant":            "acme",
		"Authorization":       "Bearer customer-token",
		"X-Webhook-Id":        "evt_1",
		"X-Webhook-Timestamp": "1686825000",
		"X-Webhook-Signature": signed.Get("X-Webhook-Signature"),
		"Webhook-Id":          "evt_1",
		"Webhook-Timestamp":   "1686825000",
		"Webhook-Signature":   signed.Get("Webhook-Signature"),
	}
	for name, value := range wantHeaders {
		if values := got[0].header.Values(name); len(values) != 1 || values[0] != value {
			t.Errorf("%s = %q, want exactly %q", name, values, value)
		}
	}
	if got[0].method != http.MethodPost || !bytes.Equal(got[0].body, req.Body) {
		t.Errorf("got %s %q, want POST %q", got[0].method, got[0].body, req.Body)
	}
}

// TestSendEndlessBody proves the response read is bounded: against a body
// that never ends the attempt still succeeds promptly, keeps a 4 KiB
// excerpt, and stops reading (the receiver's writes fail).
func TestSendEndlessBody(t *testing.T) {
	t.Parallel()
	var written atomic.Int64
	stopped := make(chan struct{})
	r := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		defer close(stopped)
		chunk := bytes.Repeat([]byte("z"), 32<<10)
		for {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	res := newTestSender(t, worker.SenderConfig{Timeout: 5 * time.Second}).Send(t.Context(), request(r.URL))
	if !res.OK() || res.StatusCode != 200 || len(res.BodyExcerpt) != 4096 || strings.Trim(res.BodyExcerpt, "z") != "" {
		t.Fatalf("result: status %d, err %q, excerpt of %d bytes; want a success with a 4096-byte excerpt", res.StatusCode, res.Err, len(res.BodyExcerpt))
	}
	if res.Duration > 2*time.Second {
		t.Errorf("Duration = %v; reading must stop after the excerpt and a bounded drain", res.Duration)
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the receiver is still writing: the sender did not close the connection")
	}
	// What the receiver managed to write is the drain bound plus what the
	// kernel's socket buffers absorbed, nowhere near an unbounded read.
	if n := written.Load(); n > 64<<20 {
		t.Errorf("receiver wrote %d bytes before the sender hung up", n)
	}
}

// TestSendReusesConnections proves the keep-alive pool: consecutive
// attempts to one receiver share a TCP connection.
func TestSendReusesConnections(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := newTestSender(t, worker.SenderConfig{Timeout: 5 * time.Second})
	for i := 0; i < 5; i++ {
		if res := s.Send(t.Context(), request(srv.URL)); !res.OK() {
			t.Fatalf("attempt %d: %+v", i, res)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 attempts opened %d connections, want 1", n)
	}
}

func TestSendTransportErrors(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	// The handshake failure is the expected outcome; keep it out of the log.
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	cases := []struct {
		name, url, wantPrefix string
	}{
		{"untrusted certificate", tlsSrv.URL, "TLS certificate is not trusted: signed by an unknown authority"},
		{"https to a plain HTTP server", strings.Replace(plain.URL, "http:", "https:", 1), "TLS handshake failed: the receiver did not answer with TLS"},
		{"unsupported scheme", "ftp://127.0.0.1/x", "unsupported protocol scheme"},
		{"malformed URL", "http://[::1", "invalid endpoint URL: "},
		{"unknown host", "https://webhookd-test.invalid/hook", "DNS lookup of webhookd-test.invalid failed"},
	}
	s := newTestSender(t, worker.SenderConfig{Timeout: 2 * time.Second})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := s.Send(t.Context(), request(tc.url))
			if !strings.HasPrefix(res.Err, tc.wantPrefix) || res.StatusCode != 0 {
				t.Errorf("Err = %q, want prefix %q", res.Err, tc.wantPrefix)
			}
		})
	}
}

func TestSendCanceled(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancelCause(t.Context())
	time.AfterFunc(20*time.Millisecond, func() { cancel(errors.New("shutting down")) })
	res := newTestSender(t, worker.SenderConfig{Timeout: 5 * time.Second}).Send(ctx, request(r.URL))
	want(t, res, worker.Result{Err: "attempt canceled: shutting down", Canceled: true})
}

func TestSendWithoutSecret(t *testing.T) {
	t.Parallel()
	req := request("http://127.0.0.1:1/")
	req.Secrets = nil
	res := newTestSender(t, worker.SenderConfig{}).Send(t.Context(), req)
	want(t, res, worker.Result{Err: "endpoint has no signing secret"})
}

func TestSenderConfigValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     worker.SenderConfig
		wantErr string
	}{
		{"zero value takes defaults", worker.SenderConfig{}, ""},
		{"negative timeout", worker.SenderConfig{Timeout: -time.Second}, "Timeout must not be negative"},
		{"huge excerpt", worker.SenderConfig{MaxResponseBytes: 2 << 20}, "MaxResponseBytes must be between"},
		{"negative drain", worker.SenderConfig{MaxDrainBytes: -1}, "MaxDrainBytes must be between"},
		{"negative idle conns", worker.SenderConfig{MaxIdleConnsPerHost: -1}, "MaxIdleConnsPerHost must not be negative"},
		{"negative conns per host", worker.SenderConfig{MaxConnsPerHost: -1}, "MaxConnsPerHost must not be negative"},
		{"invalid prefix", worker.SenderConfig{AllowCIDRs: []netip.Prefix{{}}}, "AllowCIDRs holds an invalid prefix"},
		{"multi-line user agent", worker.SenderConfig{UserAgent: "a\r\nX-Evil: 1"}, "UserAgent must be one line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				s, err := worker.NewSender(tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if s.Timeout() != worker.DefaultSendTimeout {
					t.Errorf("Timeout() = %v, want the default %v", s.Timeout(), worker.DefaultSendTimeout)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want %q", err, tc.wantErr)
			}
			if _, err := worker.NewSender(tc.cfg); err == nil {
				t.Fatal("NewSender accepted an invalid config")
			}
		})
	}
}

func TestDefaultUserAgent(t *testing.T) {
	t.Parallel()
	var ua string
	r := newReceiver(t, func(_ http.ResponseWriter, r *http.Request) {})
	if res := newTestSender(t, worker.SenderConfig{}).Send(t.Context(), request(r.URL)); !res.OK() {
		t.Fatal(res.Err)
	}
	ua = r.received()[0].header.Get("User-Agent")
	if want := "webhookd/" + version.String(); ua != want || !utf8.ValidString(ua) {
		t.Errorf("User-Agent = %q, want %q (the build's version)", ua, want)
	}
}
