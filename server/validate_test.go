package server

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/egress"
)

func TestValidateEndpointURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url       string
		allowHTTP bool
		ok        bool
	}{
		{"https://your-app.com/webhooks/real-estate", false, true},
		{"https://your-app.com:8443/hook?tenant=1", false, true},
		{"https://[2001:db8::1]/hook", false, true},
		{"http://localhost:3000/webhooks", true, true},
		{"http://localhost:3000/webhooks", false, false},
		{"", false, false},
		{"your-app.com/hook", false, false},
		{"//your-app.com/hook", false, false},
		{"https:///hook", false, false},
		{"https://user@your-app.com/", false, false},
		{"https://user:pw@your-app.com/", false, false},
		{"ftp://your-app.com/", false, false},
		{"javascript:alert(1)", false, false},
		{"https:your-app.com", false, false},
		{" https://your-app.com/", false, false},
		{"https://your-app.com/a b", false, false},
		{"https://your-app.com:port/", false, false},
		{"https://your-app.com:1/", false, true},
		{"https://your-app.com:65535/", false, true},
		{"https://your-app.com:0/", false, false},
		{"https://your-app.com:00/", false, false},
		{"https://your-app.com:65536/", false, false},
		{"https://your-app.com:99999999999/", false, false},
		{"https://[2001:db8::1]:0/", false, false},
		{"https://your-app.com:/", false, true}, // an empty port is the scheme's
		{"https://your-app.com/" + strings.Repeat("a", 2048), false, false},
		// Numeric hosts: only dotted decimal; whether the address may be
		// reached is the SSRF guard's call at connect time.
		{"https://192.0.2.10/hook", false, true},
		{"http://127.0.0.1:3000/hook", true, true},
		{"https://169.254.169.254/latest/meta-data/", false, true},
		{"https://2130706433/", false, false},
		{"https://0177.0.0.1/", false, false},
		{"https://0x7f.0.0.1/", false, false},
		{"https://0x7f000001/", false, false},
		{"https://127.1/", false, false},
		{"https://127.0.1/", false, false},
		{"https://127.0.0.1./", false, false},
		{"https://1.2.3.4.5/", false, false},
		{"https://example.0x1/", false, false},
		{"https://3232235777:8443/hook", false, false},
		{"https://123.example.com/", false, true},
		{"https://0x7f.example.com/", false, true},
		{"https://example.com./", false, true},
		{"https://your-app.com/0177.0.0.1", false, true},
		// IPv6 literals must parse and name no zone; the mapped, NAT64 and
		// 6to4 forms of private addresses are refused when dialled.
		{"https://[::1]/", false, true},
		{"https://[::ffff:127.0.0.1]/", false, true},
		{"https://[::ffff:169.254.169.254]/", false, true},
		{"https://[64:ff9b::a9fe:a9fe]/", false, true},
		{"https://[2002:7f00:1::]/", false, true},
		{"https://[fe80::1%25eth0]/", false, false},
		{"https://[::ffff:0177.0.0.1]/", false, false},
		{"https://[1.2.3.4]/", false, false},
	}
	for _, tc := range tests {
		err := validateEndpointURL("endpoint.url", tc.url, tc.allowHTTP)
		if (err == nil) != tc.ok {
			t.Errorf("validateEndpointURL(%q, allowHTTP=%v) = %v, want ok=%v", tc.url, tc.allowHTTP, err, tc.ok)
		}
	}
}

// TestValidateEndpointURLNamesTheField checks that a refused numeric host
// is a client error naming endpoint.url and saying what to write instead.
func TestValidateEndpointURLNamesTheField(t *testing.T) {
	t.Parallel()
	err := validateEndpointURL("endpoint.url", "https://2130706433/hook", false)
	var e *webhookd.Error
	if !errors.As(err, &e) || e.Kind != webhookd.KindInvalid || e.Field != "endpoint.url" {
		t.Fatalf("error %#v, want an Invalid error for endpoint.url", err)
	}
	if !strings.Contains(e.Message, `host "2130706433" is a number but not a dotted-decimal IPv4 address`) {
		t.Fatalf("message %q does not say what is wrong", e.Message)
	}
}

// FuzzValidateEndpointURL checks that whatever is accepted is an absolute
// https URL with a host, no user information and within the length limit.
func FuzzValidateEndpointURL(f *testing.F) {
	for _, s := range []string{
		"https://your-app.com/webhooks", "https://[::1]:443/", "https://a@b/", "http://x/", "https://x:99999999/", "https://%zz/",
		// Numeric and IPv6 host forms an SSRF probe would try.
		"https://2130706433/", "https://0177.0.0.1/", "https://0x7f.0.0.1/", "https://127.1/", "https://127.0.0.1./",
		"https://169.254.169.254/latest/meta-data/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:169.254.169.254]/",
		"https://[64:ff9b::a9fe:a9fe]/", "https://[2002:7f00:1::]/", "https://[fe80::1%25eth0]/", "https://[fc00::1]/",
		"https://[::ffff:0177.0.0.1]/", "https://0X7F.1/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if validateEndpointURL("endpoint.url", raw, false) != nil {
			return
		}
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			t.Fatalf("accepted unparsable %q: %v", raw, err)
		case u.Scheme != "https" || u.Hostname() == "" || u.User != nil || len(raw) > egress.MaxURLBytes:
			t.Fatalf("accepted %q (scheme %q host %q user %v)", raw, u.Scheme, u.Hostname(), u.User)
		}
		// A host ending in a decimal label is an IPv4 address to browsers
		// and inet_aton: it must be one in the form every parser reads alike.
		host := u.Hostname()
		labels := strings.Split(strings.TrimSuffix(host, "."), ".")
		if last := labels[len(labels)-1]; !strings.Contains(host, ":") && last != "" && strings.Trim(last, "0123456789") == "" {
			if addr, err := netip.ParseAddr(host); err != nil || !addr.Is4() {
				t.Fatalf("accepted %q, whose host %q reads as an IPv4 address in a non-standard form", raw, host)
			}
		}
		if strings.Contains(host, ":") {
			if addr, err := netip.ParseAddr(host); err != nil || !addr.Is6() || addr.Zone() != "" {
				t.Fatalf("accepted %q, whose host %q is not a zone-free IPv6 address", raw, host)
			}
		}
	})
}

func TestValidateHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		headers map[string]string
		ok      bool
	}{
		{map[string]string{"Authorization": "Bearer abc", "X-Team": "payments"}, true},
		{map[string]string{"x-webhook-id": "forged"}, false},
		{map[string]string{"Webhook-Signature": "v1,forged"}, false},
		{map[string]string{"Content-Type": "text/plain"}, false},
		{map[string]string{"Bad Header": "x"}, false},
		{map[string]string{"X-Ok": "line\nbreak"}, false},
		{map[string]string{"X-Ok": "tab\tand spaces and caf\u00e9"}, true},
		{map[string]string{"X-Ok": "ctl\x01"}, false},
		{map[string]string{"X-Ok": "del\x7f"}, false},
		{map[string]string{"X-Ok": "nul\x00"}, false},
		{map[string]string{"X-Ok": "bad utf-8 \xff"}, false},
		{map[string]string{"X-Team": "a", "x-team": "b"}, false},
		{map[string]string{"Proxy-Authorization": "Basic abc"}, false},
		{map[string]string{"proxy-connection": "close"}, false},
		{map[string]string{"Keep-Alive": "timeout=5"}, false},
		{map[string]string{"X-Ok": strings.Repeat("v", egress.MaxCustomHeaderValueBytes+1)}, false},
	}
	for _, tc := range tests {
		if err := validateHeaders("endpoint.headers", tc.headers); (err == nil) != tc.ok {
			t.Errorf("validateHeaders(%v) = %v, want ok=%v", tc.headers, err, tc.ok)
		}
	}
	many := map[string]string{}
	for i := range egress.MaxCustomHeaders + 1 {
		many["X-H"+strings.Repeat("a", i)] = "v"
	}
	if validateHeaders("endpoint.headers", many) == nil {
		t.Error("accepted more than the header limit")
	}
}

func TestPageTokens(t *testing.T) {
	t.Parallel()
	items := []string{"e5", "e4", "e3"}
	page, next := pageOf(items, 2, func(s string) string { return s }, "endpoints", "acct_1")
	if len(page) != 2 || next == "" {
		t.Fatalf("page %v next %q", page, next)
	}
	p, size, err := parsePage(2, next, "endpoints", "acct_1")
	if err != nil || p.After != "e4" || p.Size != 3 || size != 2 {
		t.Fatalf("parsePage = %+v, %d, %v", p, size, err)
	}
	if _, _, err := parsePage(2, next, "endpoints", "acct_2"); err == nil {
		t.Fatal("a token was accepted for another query")
	}
	if _, last := pageOf(items, 3, func(s string) string { return s }); last != "" {
		t.Fatal("the last page has a next token")
	}
	if p, size, _ := parsePage(5000, "", "x"); size != maxPageSize || p.Size != maxPageSize+1 {
		t.Fatalf("page size not capped: %d", size)
	}
}
