package egress_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/egress"
)

// TestCheckURLMessages checks that refusals say what is wrong without
// naming a field: the API prefixes the field it reports.
func TestCheckURLMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url       string
		allowHTTP bool
		want      string // "" when accepted
	}{
		{"https://your-app.com/hook", false, ""},
		{"http://localhost:3000/hook", true, ""},
		{"", false, "required"},
		{"https://your-app.com/" + strings.Repeat("a", egress.MaxURLBytes), false, "longer than 2048 bytes"},
		{" https://your-app.com/", false, "must not contain whitespace"},
		{"http://your-app.com/", false, "must use https (plain http is not allowed by this server)"},
		{"ftp://your-app.com/", false, "must be an absolute https:// URL"},
		{"https:your-app.com", false, "must name a host"},
		{"https://user@your-app.com/", false, "must not contain user information"},
		{"https://your-app.com:0/", false, "port 0 is out of range (1 to 65535)"},
		{"https://[fe80::1%25eth0]/", false, "must not name an IPv6 zone (%eth0)"},
		{"https://127.1/", false, `host "127.1" is a number but not a dotted-decimal IPv4 address`},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			err := egress.CheckURL(tc.url, tc.allowHTTP)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("error %v, want one starting %q", err, tc.want)
			}
		})
	}
}

// FuzzCheckURLAcceptsOnlyWhatIsSent checks the promise of the package: a
// URL the API accepts is one the sender builds a request for and does not
// refuse before dialling (its numeric-host check), so that no saved
// endpoint fails every attempt for its form alone.
func FuzzCheckURLAcceptsOnlyWhatIsSent(f *testing.F) {
	for _, s := range []string{
		"https://your-app.com/webhooks", "https://[::1]:443/", "https://x:99999999/", "https://%zz/",
		"https://2130706433/", "https://0x7f.0.0.1/", "https://127.0.0.1./", "https://[::ffff:127.0.0.1]/",
		"https://example.com./", "https://123.example.com/", "https://a.b:1/?q#f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if egress.CheckURL(raw, false) != nil {
			return
		}
		req, err := http.NewRequest(http.MethodPost, raw, nil)
		if err != nil {
			t.Fatalf("accepted %q, for which no request can be made: %v", raw, err)
		}
		if host := req.URL.Hostname(); egress.IsNonCanonicalIPv4(host) {
			t.Fatalf("accepted %q, whose host %q the sender refuses", raw, host)
		}
		if u, _ := url.Parse(raw); u.Port() == "0" {
			t.Fatalf("accepted %q, whose port cannot be dialled", raw)
		}
	})
}
