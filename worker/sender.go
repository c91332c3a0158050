package worker

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/webhookd/webhookd/egress"
	"github.com/webhookd/webhookd/internal/version"
	"github.com/webhookd/webhookd/signature"
)

// SenderConfig configures NewSender. Zero fields take the documented defaults.
type SenderConfig struct {
	// Timeout bounds one whole attempt: connecting (DNS, TCP, TLS), sending,
	// waiting for the response and reading its body. Default 5s, the guide's
	// "respond with a 2xx status code quickly (under 5 seconds)".
	Timeout time.Duration
	// MaxResponseBytes is how much of a response body is kept as the
	// attempt's excerpt. Default 4 KiB.
	MaxResponseBytes int
	// MaxDrainBytes is how much more of a response body is read and thrown
	// away after the excerpt so that the keep-alive connection can be reused;
	// a longer body closes the connection instead. Default 64 KiB.
	MaxDrainBytes int64
	// AllowCIDRs re-admits address ranges the SSRF guard refuses
	// (--allow-cidr); see egress.AddressPolicy.
	AllowCIDRs []netip.Prefix
	// UserAgent is sent with every request. Default "webhookd/<version>",
	// the version of this build (see package internal/version).
	UserAgent string
	// MaxIdleConnsPerHost is how many idle keep-alive connections are kept
	// per receiver host. Default 8.
	MaxIdleConnsPerHost int
	// MaxConnsPerHost bounds the connections open to one receiver host
	// (scheme, host and port), in use or idle; a request beyond it waits
	// for a connection within its timeout. webhookd sets it to the
	// per-endpoint concurrency (--endpoint-concurrency), so a receiver that
	// hangs holds no more sockets than it may have attempts. Endpoints that
	// share a host share the bound. Default 8.
	MaxConnsPerHost int
	// MaxIdleConns bounds idle connections over all hosts. Default 256.
	MaxIdleConns int
	// IdleConnTimeout closes an idle connection after this long. Default 90s.
	IdleConnTimeout time.Duration
	// Resolver looks up receiver hostnames; nil means the system's. Every
	// address it returns still passes the SSRF guard at connect time, so
	// tests inject one to make names resolve to the addresses they probe.
	Resolver *net.Resolver
}

// Defaults of SenderConfig.
const (
	DefaultSendTimeout         = 5 * time.Second
	DefaultMaxResponseBytes    = 4 << 10
	DefaultMaxDrainBytes       = 64 << 10
	DefaultMaxIdleConnsPerHost = 8
	DefaultMaxConnsPerHost     = 8
	DefaultMaxIdleConns        = 256
	DefaultIdleConnTimeout     = 90 * time.Second
)

// maxResponseHeaderBytes bounds response headers, which net/http would
// otherwise accept up to 1 MiB per response.
const maxResponseHeaderBytes = 64 << 10

// maxLocationBytes bounds how much of a redirect target is quoted in an error.
const maxLocationBytes = 512

// maxDrainWait bounds the drain after the excerpt in time, as MaxDrainBytes
// does in bytes: a receiver that sends the excerpt at once and then trickles
// the rest must not hold a worker until the attempt's timeout for bytes that
// are thrown away. Cutting a drain short only costs the connection.
const maxDrainWait = 250 * time.Millisecond

// withDefaults returns c with every zero field set to its default.
func (c SenderConfig) withDefaults() SenderConfig {
	if c.Timeout == 0 {
		c.Timeout = DefaultSendTimeout
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.MaxDrainBytes == 0 {
		c.MaxDrainBytes = DefaultMaxDrainBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = defaultUserAgent()
	}
	if c.MaxIdleConnsPerHost == 0 {
		c.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if c.MaxIdleConns == 0 {
		c.MaxIdleConns = DefaultMaxIdleConns
	}
	if c.MaxConnsPerHost == 0 {
		c.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if c.IdleConnTimeout == 0 {
		c.IdleConnTimeout = DefaultIdleConnTimeout
	}
	return c
}

// Validate reports every out-of-range setting. Zero values are valid: they
// mean the default.
func (c SenderConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("sender: "+format, args...))
	}
	if c.Timeout < 0 {
		bad("Timeout must not be negative, got %v", c.Timeout)
	}
	if c.MaxResponseBytes < 0 || c.MaxResponseBytes > 1<<20 {
		bad("MaxResponseBytes must be between 0 (default) and 1 MiB, got %d", c.MaxResponseBytes)
	}
	if c.MaxDrainBytes < 0 || c.MaxDrainBytes > 16<<20 {
		bad("MaxDrainBytes must be between 0 (default) and 16 MiB, got %d", c.MaxDrainBytes)
	}
	if c.MaxIdleConnsPerHost < 0 {
		bad("MaxIdleConnsPerHost must not be negative, got %d", c.MaxIdleConnsPerHost)
	}
	if c.MaxIdleConns < 0 {
		bad("MaxIdleConns must not be negative, got %d", c.MaxIdleConns)
	}
	if c.MaxConnsPerHost < 0 {
		bad("MaxConnsPerHost must not be negative, got %d", c.MaxConnsPerHost)
	}
	if c.IdleConnTimeout < 0 {
		bad("IdleConnTimeout must not be negative, got %v", c.IdleConnTimeout)
	}
	for _, p := range c.AllowCIDRs {
		if !p.IsValid() {
			bad("AllowCIDRs holds an invalid prefix")
		}
	}
	if strings.ContainsAny(c.UserAgent, "\r\n") {
		bad("UserAgent must be one line")
	}
	return errors.Join(errs...)
}

func defaultUserAgent() string {
	return "webhookd/" + version.String()
}

// Request is one attempt to deliver a body to an endpoint.
type Request struct {
	URL string
	// Body is the exact bytes to send, normally Envelope(event).
	Body []byte
	// Headers are the endpoint's custom headers. They never replace the
	// headers webhookd sets (Content-Type, User-Agent, X-Webhook-*,
	// webhook-*) nor the ones net/http manages (Host, Content-Length, ...).
	Headers map[string]string
	// MessageID identifies the message to receivers: the event id, the same on
	// every attempt so that they can deduplicate.
	MessageID string
	// Timestamp is signed into the request; normally the attempt's start.
	// Zero means the time Send starts.
	Timestamp time.Time
	// Secrets sign the request: current first, then the previous secret
	// while a rotation's grace period lasts. At least one is required.
	Secrets []string
}

// Result is what came of one attempt, ready to be recorded as a
// webhookd.Attempt. Err is empty exactly when the attempt succeeded.
type Result struct {
	// StatusCode is the response status, 0 when no response arrived.
	StatusCode int
	// BodyExcerpt is the start of the response body (at most
	// MaxResponseBytes), valid UTF-8 without NUL bytes so that any database
	// stores it: invalid bytes and NUL become U+FFFD.
	BodyExcerpt string
	// Duration is how long the attempt took, connecting to reading.
	Duration time.Duration
	// Err says why the attempt failed, in words a customer can act on
	// ("timeout after 5s waiting for the response", "unexpected status
	// 500", "redirect to https://… not followed", "refused to connect to
	// 10.0.0.1:443: private address (allow it with --allow-cidr)").
	Err string
	// RetryAfter is the delay a 429 or 503 response asked for with
	// Retry-After, 0 when it asked for none; pass it to RetryPolicy.Next. A
	// Retry-After of 0 or of a past date is reported as 1s, because 0 here
	// means "no header"; the policy's MinRetryAfter then applies.
	RetryAfter time.Duration
	// Gone is set when the receiver answered 410 Gone: it asks for no more
	// deliveries, and retrying would not change its mind.
	Gone bool
	// Canceled is set when ctx ended before the attempt completed
	// (shutdown). Such an attempt says nothing about the endpoint; the
	// engine should release the delivery rather than count a failure.
	Canceled bool
}

// OK reports whether the receiver answered 2xx in time.
func (r Result) OK() bool { return r.Err == "" }

// Sender makes webhook requests. It holds one http.Client, and with it one
// pool of keep-alive connections shared by every endpoint, so a busy
// endpoint reuses warm connections instead of paying TCP and TLS setup per
// event. It is safe for concurrent use.
type Sender struct {
	cfg    SenderConfig
	client *http.Client
	// excerpts recycles the buffers response bodies are read into: one per
	// attempt would be most of the garbage a busy engine makes.
	excerpts sync.Pool
}

// NewSender returns a Sender for cfg after applying defaults and validating.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	dialer := egress.AddressPolicy{Allow: cfg.AllowCIDRs}.Dialer(cfg.Timeout, cfg.Resolver)
	transport := &http.Transport{
		// Never a proxy: the SSRF guard checks the address we connect to,
		// and through a proxy that would be the proxy's, not the receiver's.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cfg.Timeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           cfg.MaxIdleConns,
		MaxIdleConnsPerHost:    min(cfg.MaxIdleConnsPerHost, cfg.MaxConnsPerHost),
		MaxConnsPerHost:        cfg.MaxConnsPerHost,
		IdleConnTimeout:        cfg.IdleConnTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		// The excerpt shows what the receiver sent, and a compressed body
		// cannot be inflated past our read bounds.
		DisableCompression: true,
	}
	client := &http.Client{
		Transport: transport,
		// Redirects are never followed: the signature was made for this
		// URL, a redirect could lead the request somewhere the customer
		// never registered, and a 3xx usually means a misconfigured URL
		// (http → https, a missing trailing slash) that the customer must
		// fix. Returning ErrUseLastResponse hands us the 3xx itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	sender := &Sender{cfg: cfg, client: client}
	sender.excerpts.New = func() any {
		// A few bytes past the excerpt let sanitize cut on a character
		// boundary instead of leaving half a character at the end.
		buf := make([]byte, cfg.MaxResponseBytes+utf8.UTFMax-1)
		return &buf
	}
	return sender, nil
}

// Timeout is the configured bound of one attempt (SenderConfig.Timeout
// after defaults): leases on a delivery must outlast it.
func (s *Sender) Timeout() time.Duration { return s.cfg.Timeout }

// Close closes idle connections; in-flight requests are not interrupted.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// errAttemptTimeout is the cause of an attempt's own deadline, which tells
// it apart from the caller's context ending.
var errAttemptTimeout = errors.New("attempt timed out")

// errDrainCut is the cause of cutting a slow drain short (maxDrainWait).
var errDrainCut = errors.New("draining the response body took too long")

// stage is how far an attempt got, for timeout messages.
type stage int32

const (
	stageConnecting stage = iota
	stageWaiting
	stageReading
)

// Send makes one attempt. It never returns an error: everything that can go
// wrong is described in Result.Err, which the engine records as the attempt's
// error. ctx ending (shutdown) aborts the attempt and sets Result.Canceled.
func (s *Sender) Send(ctx context.Context, req Request) Result {
	start := time.Now()
	res := s.send(ctx, req)
	res.Duration = time.Since(start)
	res.Err = sanitize(res.Err, 1024)
	return res
}

func (s *Sender) send(ctx context.Context, req Request) Result {
	if len(req.Secrets) == 0 {
		return Result{Err: "endpoint has no signing secret"}
	}
	if req.Timestamp.IsZero() {
		req.Timestamp = time.Now()
	}
	ctx, cancel := context.WithTimeoutCause(ctx, s.cfg.Timeout, errAttemptTimeout)
	defer cancel()
	// Cancelling the request's context is the one way to abort a body read
	// in flight; readBody does it when a drain runs out of time.
	ctx, cutDrain := context.WithCancelCause(ctx)
	defer cutDrain(nil)

	var reached atomic.Int32 // a stage
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { reached.Store(int32(stageWaiting)) },
	})
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Result{Err: "invalid endpoint URL: " + unwrapURLError(err).Error()}
	}
	if host := httpReq.URL.Hostname(); egress.IsNonCanonicalIPv4(host) {
		// Checked before DNS: the system resolver may read such a host as
		// an address (2130706433 as 127.0.0.1), and no policy should depend
		// on which resolver a build happens to use.
		return Result{Err: "refused to connect to " + sanitize(host, maxLocationBytes) + ": " + egress.NonCanonicalIPv4Reason}
	}
	if msg := setCustomHeaders(httpReq.Header, req.Headers); msg != "" {
		return Result{Err: msg}
	}
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("User-Agent", s.cfg.UserAgent)
	signature.Sign(httpReq.Header, req.MessageID, req.Timestamp, req.Body, req.Secrets)

	resp, err := s.client.Do(httpReq)
	if err != nil {
		return s.failure(ctx, err, stage(reached.Load()), httpReq.URL)
	}
	res := Result{StatusCode: resp.StatusCode}
	buf := s.excerpts.Get().(*[]byte)
	excerpt, readErr := s.readBody(*buf, resp.Body, resp.ContentLength, func() { cutDrain(errDrainCut) })
	res.BodyExcerpt = sanitize(string(excerpt), s.cfg.MaxResponseBytes) // a copy: buf goes back
	s.excerpts.Put(buf)

	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		// Success, unless the body could not be read in time (below).
	case code >= 300 && code <= 399:
		res.Err = redirectMessage(resp)
	default:
		res.Err = "unexpected status " + strconv.Itoa(code)
		if code == http.StatusGone {
			res.Gone = true
		}
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				res.RetryAfter = max(d, time.Second)
			}
		}
	}
	if readErr != nil && res.Err == "" {
		// The whole exchange must finish in time: a receiver that answers
		// 200 and then stalls is failing, and at-least-once delivery makes
		// trying again safe.
		f := s.failure(ctx, readErr, stageReading, httpReq.URL)
		res.Err, res.Canceled = f.Err, f.Canceled
	}
	return res
}

// readBody reads the excerpt into buf, then drains at most MaxDrainBytes more so the
// connection can return to the pool, and closes the body. Nothing here is
// unbounded: a body longer than both is cut off by closing the connection,
// at once when its declared length (contentLength, -1 when unknown) says
// the drain could not reach its end, or by cut when the drain takes longer
// than maxDrainWait; every read ends at the attempt's deadline. Only an
// error while reading the excerpt is returned; once the excerpt is complete
// the exchange has told us all we keep.
func (s *Sender) readBody(buf []byte, body io.ReadCloser, contentLength int64, cut func()) ([]byte, error) {
	defer body.Close()
	n, err := io.ReadFull(body, buf)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return buf[:n], nil
	case err != nil:
		return buf[:n], err
	}
	if contentLength < 0 || contentLength-int64(n) <= s.cfg.MaxDrainBytes {
		timer := time.AfterFunc(maxDrainWait, cut)
		_, _ = io.CopyN(io.Discard, body, s.cfg.MaxDrainBytes)
		timer.Stop()
	}
	return buf[:n], nil
}

// failure describes a transport error in words a customer can act on.
func (s *Sender) failure(ctx context.Context, err error, at stage, u *url.URL) Result {
	if ctx.Err() != nil {
		if context.Cause(ctx) == errAttemptTimeout {
			what := [...]string{
				stageConnecting: "connecting to " + u.Host,
				stageWaiting:    "waiting for the response",
				stageReading:    "reading the response body",
			}[at]
			return Result{Err: "timeout after " + s.cfg.Timeout.String() + " " + what}
		}
		return Result{Err: "attempt canceled: " + context.Cause(ctx).Error(), Canceled: true}
	}
	return Result{Err: describeError(err)}
}

// describeError turns a net/http client error into a short, specific
// message, most specific cause first.
func describeError(err error) string {
	var refused *egress.RefusedAddressError
	if errors.As(err, &refused) {
		return refused.Error()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "DNS lookup of " + dnsErr.Name + " failed: no such host"
		}
		return "DNS lookup of " + dnsErr.Name + " failed: " + dnsErr.Err
	}
	var opErr *net.OpError
	addr := ""
	if errors.As(err, &opErr) && opErr.Addr != nil {
		addr = " (" + opErr.Addr.String() + ")"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused" + addr
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the receiver" + addr
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable" + addr
	}
	if msg := describeTLSError(err); msg != "" {
		return msg
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection closed by the receiver before a complete response"
	}
	msg := strings.TrimPrefix(unwrapURLError(err).Error(), "net/http: HTTP/1.x transport connection broken: ")
	if strings.Contains(msg, "server response headers exceeded") {
		// Informational 1xx responses count towards the bound, so an
		// endless stream of them ends here too.
		return "response headers longer than " + strconv.Itoa(maxResponseHeaderBytes>>10) +
			" KiB (1xx responses included); connection closed"
	}
	return msg
}

// describeTLSError names the usual certificate problems; "" for other errors.
func describeTLSError(err error) string {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		recordHeader     tls.RecordHeaderError
		alert            tls.AlertError
		verification     *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknownAuthority):
		return "TLS certificate is not trusted: signed by an unknown authority"
	case errors.As(err, &hostname):
		return "TLS certificate is not valid for this host: " + hostname.Error()
	case errors.As(err, &invalid):
		return "TLS certificate is invalid: " + invalid.Error()
	case errors.As(err, &verification):
		return "TLS certificate verification failed: " + verification.Err.Error()
	case errors.As(err, &recordHeader), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLS handshake failed: the receiver did not answer with TLS (is it plain http?)"
	case errors.As(err, &alert):
		return "TLS handshake failed: the receiver sent alert: " + alert.Error()
	case strings.Contains(err.Error(), "tls: "):
		return "TLS handshake failed: " + unwrapURLError(err).Error()
	}
	return ""
}

// unwrapURLError drops net/http's `Post "https://…":` prefix: the URL is
// already shown next to the attempt.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// redirectMessage is the error of a 3xx response.
func redirectMessage(resp *http.Response) string {
	code := strconv.Itoa(resp.StatusCode)
	loc, err := resp.Location()
	if err != nil {
		if raw := resp.Header.Get("Location"); raw != "" {
			return "redirect (status " + code + ") to " + sanitize(raw, maxLocationBytes) + " not followed"
		}
		return "redirect (status " + code + ") without a Location not followed"
	}
	return "redirect to " + sanitize(loc.String(), maxLocationBytes) + " not followed (status " + code + ")"
}

// setCustomHeaders adds an endpoint's custom headers to h by the rules the
// API checks them with (egress.CheckHeaders), for endpoints stored
// before those rules: reserved headers are left out, as they always were,
// and a header net/http could not send, or two names that are one header,
// fail the attempt with a message naming it rather than net/http's, or
// one value silently replacing the other. It returns that message, or "".
func setCustomHeaders(h http.Header, custom map[string]string) string {
	for name, value := range custom {
		if egress.IsReservedHeader(name) {
			continue
		}
		if err := egress.CheckHeader(name, value); err != nil {
			return "custom header refused: " + err.Error() + "; correct the endpoint's headers"
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		if _, dup := h[key]; dup {
			return fmt.Sprintf("custom header refused: two headers are named %q in different cases; keep one", key)
		}
		h[key] = []string{value}
	}
	return ""
}

// sanitize returns s cut to at most limit bytes on a character boundary,
// with invalid UTF-8 and NUL replaced by U+FFFD: excerpts and messages come
// from receivers and must be storable as text in any database (PostgreSQL
// refuses NUL) and printable in any UI.
func sanitize(s string, limit int) string {
	if len(s) > limit {
		cut := limit
		// Back off an incomplete trailing character instead of turning it
		// into a replacement character.
		for i := 0; i < utf8.UTFMax && cut > 0; i++ {
			if utf8.RuneStart(s[cut]) {
				break
			}
			cut--
		}
		s = s[:cut]
	}
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
