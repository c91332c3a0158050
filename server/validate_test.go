package server

import (
	"net/url"
	"strings"
	"testing"
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
		{"https://your-app.com/" + strings.Repeat("a", 2048), false, false},
	}
	for _, tc := range tests {
		err := validateEndpointURL("endpoint.url", tc.url, tc.allowHTTP)
		if (err == nil) != tc.ok {
			t.Errorf("validateEndpointURL(%q, allowHTTP=%v) = %v, want ok=%v", tc.url, tc.allowHTTP, err, tc.ok)
		}
	}
}

// FuzzValidateEndpointURL checks that whatever is accepted is an absolute
// https URL with a host, no user information and within the length limit.
func FuzzValidateEndpointURL(f *testing.F) {
	for _, s := range []string{"https://your-app.com/webhooks", "https://[::1]:443/", "https://a@b/", "http://x/", "https://x:99999999/", "https://%zz/"} {
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
		case u.Scheme != "https" || u.Hostname() == "" || u.User != nil || len(raw) > maxURLBytes:
			t.Fatalf("accepted %q (scheme %q host %q user %v)", raw, u.Scheme, u.Hostname(), u.User)
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
		{map[string]string{"X-Ok": strings.Repeat("v", maxHeaderValueBytes+1)}, false},
	}
	for _, tc := range tests {
		if err := validateHeaders("endpoint.headers", tc.headers); (err == nil) != tc.ok {
			t.Errorf("validateHeaders(%v) = %v, want ok=%v", tc.headers, err, tc.ok)
		}
	}
	many := map[string]string{}
	for i := range maxHeaders + 1 {
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
