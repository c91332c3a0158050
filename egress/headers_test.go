package egress_test

import (
	"strings"
	"testing"

	"github.com/webhookd/webhookd/egress"
)

func TestCheckHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		headers map[string]string
		want    string // "" when accepted, else a part of the error
	}{
		{"ordinary", map[string]string{"Authorization": "Bearer abc", "X-Team": "payments"}, ""},
		{"tab, spaces and UTF-8", map[string]string{"X-Note": "a\tb c caf\u00e9"}, ""},
		{"empty value", map[string]string{"X-Empty": ""}, ""},
		{"none", nil, ""},
		{"SOH", map[string]string{"X-Team": "a\x01"}, "control characters"},
		{"DEL", map[string]string{"X-Team": "a\x7f"}, "control characters"},
		{"NUL", map[string]string{"X-Team": "a\x00"}, "control characters"},
		{"CRLF", map[string]string{"X-Team": "a\r\nX-Injected: 1"}, "control characters"},
		{"invalid UTF-8", map[string]string{"X-Team": "a\xff"}, "not valid UTF-8"},
		{"space in name", map[string]string{"X Team": "a"}, "not a valid header name"},
		{"colon in name", map[string]string{"X-Team:": "a"}, "not a valid header name"},
		{"empty name", map[string]string{"": "a"}, "not a valid header name"},
		{"long name", map[string]string{strings.Repeat("X", egress.MaxCustomHeaderNameBytes+1): "a"}, "not a valid header name"},
		{"long value", map[string]string{"X-Team": strings.Repeat("v", egress.MaxCustomHeaderValueBytes+1)}, "longer than"},
		{"names differing in case", map[string]string{"X-Team": "a", "x-team": "b"}, `"X-Team" and "x-team" are the same header`},
		{"reserved, any case", map[string]string{"CONTENT-TYPE": "text/plain"}, "set by webhookd"},
		{"Proxy-Authorization", map[string]string{"Proxy-Authorization": "Basic abc"}, "set by webhookd"},
		{"signature", map[string]string{"x-webhook-signature": "forged"}, "set by webhookd"},
		{"Standard Webhooks", map[string]string{"Webhook-Id": "msg_1"}, "set by webhookd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := egress.CheckHeaders(tc.headers)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	many := map[string]string{}
	for i := range egress.MaxCustomHeaders + 1 {
		many["X-H"+strings.Repeat("a", i)] = "v"
	}
	if egress.CheckHeaders(many) == nil {
		t.Error("accepted more than the header limit")
	}
}
