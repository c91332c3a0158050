// Package listen is `webhookctl listen`: it connects to webhookd's
// ListenEndpointDeliveries stream, replays every request it receives to a
// local URL with the same headers and body (so the local server's signature
// checks pass unchanged), and reports the local server's answer back, which
// webhookd records as the attempt. It prints one line per request in and
// out, and reconnects with backoff when the connection drops.
//
// The package holds the command (NewCommand) and the client it runs (Run),
// which tests drive directly against a real webhookd.
package listen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// Options configure Run. Zero fields take the documented defaults.
type Options struct {
	// ForwardTo is the local URL requests are replayed to (--forward-to).
	// Required unless PrintSecret.
	ForwardTo string
	// AllowRemoteForward accepts a ForwardTo whose host is not loopback.
	AllowRemoteForward bool
	// Endpoint is a development endpoint to listen to, ep_… or
	// endpoints/ep_…; empty means the account's own.
	Endpoint string
	// Events replace the development endpoint's event types when set.
	Events []string
	// PrintSecret prints the endpoint's signing secret and returns.
	PrintSecret bool
	// JSON prints one JSON object per line instead of text (--format json).
	JSON bool
	// Timeout bounds one local request (default 5s, webhookd's own).
	Timeout time.Duration
	// Out receives the lines; Err the reconnection notices.
	Out, Err io.Writer
	// Now is the clock of the printed times (time.Now when nil).
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the wait before reconnecting
	// (default 500ms doubling up to 15s).
	MinBackoff, MaxBackoff time.Duration
}

// maxExcerptBytes is how much of a local response is reported: what
// webhookd keeps of one.
const maxExcerptBytes = 4 << 10

func (o *Options) setDefaults() {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Err == nil {
		o.Err = os.Stderr
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 15 * time.Second
	}
}

// UsageError is a bad flag or argument (exit status 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Validate checks the options before anything connects.
func (o *Options) Validate() error {
	if o.PrintSecret {
		return nil
	}
	if o.ForwardTo == "" {
		return &UsageError{"--forward-to is required, e.g. --forward-to http://localhost:3000/webhooks/real-estate"}
	}
	u, err := url.Parse(o.ForwardTo)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &UsageError{fmt.Sprintf("--forward-to %q: want an absolute http:// or https:// URL", o.ForwardTo)}
	}
	if !o.AllowRemoteForward && !isLoopback(u.Hostname()) {
		return &UsageError{fmt.Sprintf("--forward-to %q is not on this machine (loopback): webhookctl would send your endpoint's signed deliveries to it; pass --allow-remote-forward if that is what you want", o.ForwardTo)}
	}
	if o.Timeout < 0 {
		return &UsageError{"--timeout must not be negative"}
	}
	return nil
}

// isLoopback reports whether host names this machine: localhost (and its
// subdomains, which resolvers must answer with loopback) or a loopback
// address.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run listens until ctx ends (Ctrl-C), which is a clean end (nil). It
// returns an error for what reconnecting cannot fix: a bad key, an endpoint
// that is not there or not a development endpoint, a refused request.
func Run(ctx context.Context, client webhooksv1.WebhookServiceClient, opts Options) error {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return err
	}
	r := &runner{opts: opts, client: client, local: localClient(opts.Timeout)}
	backoff := opts.MinBackoff
	for {
		ready, err := r.session(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errSecretPrinted):
			return nil
		case permanent(err):
			return err
		}
		if ready {
			backoff = opts.MinBackoff // the connection worked: start over
		}
		r.notice("connection to webhookd lost (%s); reconnecting in %s", describe(err), backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, opts.MaxBackoff)
	}
}

var errSecretPrinted = errors.New("secret printed")

// permanent reports whether err is one reconnecting would only repeat.
func permanent(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.PermissionDenied, codes.Unauthenticated,
		codes.FailedPrecondition, codes.Unimplemented:
		return true
	}
	return false
}

func describe(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

type runner struct {
	opts     Options
	client   webhooksv1.WebhookServiceClient
	local    *http.Client
	wasReady bool
}

// session runs one stream until it fails; ready says whether it got as far
// as webhookd's ready message.
func (r *runner) session(ctx context.Context) (ready bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := r.client.ListenEndpointDeliveries(ctx)
	if err != nil {
		return false, err
	}
	start := &webhooksv1.ListenEndpointDeliveriesRequest_Start{Endpoint: endpointName(r.opts.Endpoint), EventTypes: r.opts.Events}
	if err := stream.Send(&webhooksv1.ListenEndpointDeliveriesRequest{
		Message: &webhooksv1.ListenEndpointDeliveriesRequest_Start_{Start: start},
	}); err != nil {
		_, err = stream.Recv() // the status says why
		return false, err
	}
	first, err := stream.Recv()
	if err != nil {
		return false, err
	}
	ep := first.GetReady().GetEndpoint()
	if ep == nil {
		return false, errors.New("webhookd did not start the stream with ready")
	}
	if r.opts.PrintSecret {
		fmt.Fprintln(r.opts.Out, ep.GetSecret())
		return true, errSecretPrinted
	}
	r.printReady(ep)
	for {
		msg, err := stream.Recv()
		if err != nil {
			return true, err
		}
		fw := msg.GetForward()
		if fw == nil {
			continue // a message of a newer webhookd
		}
		r.printIn(fw)
		res := r.forward(ctx, fw)
		if ctx.Err() != nil {
			return true, ctx.Err() // interrupted: webhookd gives it to another listener
		}
		r.printOut(fw, res)
		if err := stream.Send(&webhooksv1.ListenEndpointDeliveriesRequest{
			Message: &webhooksv1.ListenEndpointDeliveriesRequest_Result_{Result: res},
		}); err != nil {
			_, err = stream.Recv()
			return true, err
		}
	}
}

// endpointName accepts ep_… as well as endpoints/ep_….
func endpointName(s string) string {
	if s == "" || strings.HasPrefix(s, "endpoints/") {
		return s
	}
	return "endpoints/" + s
}

// localClient makes the local requests: no redirects followed (webhookd
// follows none), no proxy (the URL is local), bounded by timeout.
func localClient(timeout time.Duration) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	return &http.Client{
		Timeout:       timeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// forward replays fw to the local URL and returns the result to report.
func (r *runner) forward(ctx context.Context, fw *webhooksv1.ListenEndpointDeliveriesResponse_Forward) *webhooksv1.ListenEndpointDeliveriesRequest_Result {
	res := &webhooksv1.ListenEndpointDeliveriesRequest_Result{Attempt: fw.GetAttempt()}
	started := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.opts.ForwardTo, bytes.NewReader(fw.GetBody()))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	for k, v := range fw.GetHeaders() {
		req.Header.Set(k, v)
	}
	resp, err := r.local.Do(req)
	if err != nil {
		res.Duration = durationpb.New(time.Since(started))
		res.Error = localError(err, r.opts.Timeout)
		return res
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerptBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	_ = resp.Body.Close()
	res.Duration = durationpb.New(time.Since(started))
	res.StatusCode = int32(resp.StatusCode)
	res.BodyExcerpt = strings.ToValidUTF8(string(excerpt), string(utf8.RuneError))
	return res
}

// localError words a failed local request as webhookd words a failed
// attempt, naming the cause first ("connection refused", "timeout").
func localError(err error, timeout time.Duration) string {
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Addr != nil {
			return "connection refused by " + opErr.Addr.String() + " (is your local server running?)"
		}
		return "connection refused (is your local server running?)"
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("timeout after %s waiting for the local server", timeout)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}

// Output: one line per event, text or JSON.

const timeLayout = "2006-01-02 15:04:05"

func (r *runner) now() time.Time { return r.opts.Now() }

func (r *runner) printReady(ep *webhooksv1.Endpoint) {
	again := r.wasReady
	r.wasReady = true
	if r.opts.JSON {
		r.printJSON(map[string]any{
			"type": "ready", "endpoint": ep.GetName(), "secret": ep.GetSecret(),
			"eventTypes": ep.GetEventTypes(), "forwardTo": r.opts.ForwardTo, "reconnected": again,
		})
		return
	}
	word := "Ready!"
	if again {
		word = "Reconnected."
	}
	fmt.Fprintf(r.opts.Out, "%s  %s Listening to %s (%s), forwarding to %s. Signing secret: %s\n",
		r.now().Format(timeLayout), word, ep.GetName(), strings.Join(ep.GetEventTypes(), ", "), r.opts.ForwardTo, ep.GetSecret())
}

func (r *runner) printIn(fw *webhooksv1.ListenEndpointDeliveriesResponse_Forward) {
	event := strings.TrimPrefix(fw.GetEvent(), "events/")
	if r.opts.JSON {
		r.printJSON(map[string]any{
			"type": "request", "event": event, "eventType": fw.GetEventType(), "delivery": fw.GetDelivery(),
			"attempt": fw.GetAttempt(), "attemptNumber": fw.GetAttemptNumber(),
		})
		return
	}
	fmt.Fprintf(r.opts.Out, "%s  --> %s [%s]\n", r.now().Format(timeLayout), fw.GetEventType(), event)
}

func (r *runner) printOut(fw *webhooksv1.ListenEndpointDeliveriesResponse_Forward, res *webhooksv1.ListenEndpointDeliveriesRequest_Result) {
	event := strings.TrimPrefix(fw.GetEvent(), "events/")
	ms := res.GetDuration().AsDuration().Milliseconds()
	if r.opts.JSON {
		line := map[string]any{
			"type": "response", "event": event, "delivery": fw.GetDelivery(), "attempt": fw.GetAttempt(),
			"method": http.MethodPost, "url": r.opts.ForwardTo, "durationMs": ms,
		}
		if res.GetError() != "" {
			line["error"] = res.GetError()
		} else {
			line["status"] = res.GetStatusCode()
		}
		r.printJSON(line)
		return
	}
	if res.GetError() != "" {
		fmt.Fprintf(r.opts.Out, "%s  <-- [ERR] POST %s (%d ms) %s [%s]\n", r.now().Format(timeLayout), r.opts.ForwardTo, ms, res.GetError(), event)
		return
	}
	fmt.Fprintf(r.opts.Out, "%s  <-- [%d] POST %s (%d ms) [%s]\n", r.now().Format(timeLayout), res.GetStatusCode(), r.opts.ForwardTo, ms, event)
}

func (r *runner) printJSON(fields map[string]any) {
	fields["time"] = r.now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(fields) // maps of plain values always marshal
	fmt.Fprintln(r.opts.Out, string(b))
}

func (r *runner) notice(format string, args ...any) {
	if r.opts.JSON {
		r.printJSON(map[string]any{"type": "reconnecting", "message": fmt.Sprintf(format, args...)})
		return
	}
	fmt.Fprintf(r.opts.Err, "%s  "+format+"\n", append([]any{r.now().Format(timeLayout)}, args...)...)
}
