package worker_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/egress"
	"github.com/webhookd/webhookd/signature"
	"github.com/webhookd/webhookd/worker"
)

// TestSendCustomHeadersFollowTheAPIRules checks that the sender and the
// API share one set of rules: a custom header the API accepts
// (egress.CheckHeaders) reaches the receiver unchanged, and one it
// refuses as reserved is never sent.
func TestSendCustomHeadersFollowTheAPIRules(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(http.ResponseWriter, *http.Request) {})
	sender := newTestSender(t, worker.SenderConfig{UserAgent: "webhookd/test"})
	for _, name := range []string{
		"X-Tenant", "Authorization", "Cookie", "Accept", "Date", "X-Forwarded-For",
		"Proxy-Authorization", "Proxy-Connection", "proxy-anything", "Keep-Alive", "TE", "Trailer",
		"Expect", "Upgrade", "Connection", "Host", "Content-Length", "Transfer-Encoding",
		"Content-Type", "User-Agent", "X-Webhook-Id", "webhook-signature",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const value = "custom-value"
			accepted := egress.CheckHeaders(map[string]string{name: value}) == nil
			if egress.IsReservedHeader(name) == accepted {
				t.Fatalf("IsReservedHeader(%q) = %v, but CheckHeaders accepts it: %v", name, !accepted, accepted)
			}
			req := request(r.URL + "/hook")
			req.MessageID = "evt_" + name // tells this subtest's request apart
			req.Headers = map[string]string{name: value}
			if res := sender.Send(t.Context(), req); !res.OK() {
				t.Fatalf("send: %+v", res)
			}
			var got http.Header
			for _, rec := range r.received() {
				if rec.header.Get(signature.HeaderWebhookID) == req.MessageID {
					got = rec.header
				}
			}
			if got == nil {
				t.Fatal("the receiver did not get the request")
			}
			sent := false
			for _, v := range got.Values(name) {
				sent = sent || v == value
			}
			if sent != accepted {
				t.Errorf("%s accepted by the API: %v; sent with the custom value: %v (%q)", name, accepted, sent, got.Values(name))
			}
		})
	}
}

// TestSendRefusesUnsendableCustomHeaders covers endpoints stored before the
// API checked headers this way: a value with a control character, or two
// names that are one header, fail the attempt with a message naming the
// header, before anything is sent.
func TestSendRefusesUnsendableCustomHeaders(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(http.ResponseWriter, *http.Request) {})
	sender := newTestSender(t, worker.SenderConfig{})
	cases := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"control character", map[string]string{"X-Team": "a\x01b"}, `value of "X-Team" must not contain control characters`},
		{"DEL", map[string]string{"X-Team": "a\x7f"}, `value of "X-Team" must not contain control characters`},
		{"line break", map[string]string{"X-Team": "a\r\nX-Injected: 1"}, `value of "X-Team" must not contain control characters`},
		{"bad name", map[string]string{"X Team": "a"}, `"X Team" is not a valid header name`},
		{"names differing in case", map[string]string{"X-Team": "a", "x-team": "b"}, `two headers are named "X-Team" in different cases`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := request(r.URL + "/hook")
			req.Headers = tc.headers
			res := sender.Send(t.Context(), req)
			if res.OK() || res.StatusCode != 0 || !strings.Contains(res.Err, tc.want) {
				t.Fatalf("result %+v, want a failure containing %q", res, tc.want)
			}
		})
	}
	if n := len(r.received()); n != 0 {
		t.Fatalf("the receiver got %d requests, want none", n)
	}
}
