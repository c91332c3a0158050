package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/webhookd/webhookd/signature"
)

// TestEveryCommandHasHelpAndAnExample walks the whole tree: --help of every
// command shows what it does and an example.
func TestEveryCommandHasHelpAndAnExample(t *testing.T) {
	t.Parallel()
	root := NewRootCommand(&Factory{Getenv: func(string) string { return "" }})
	root.InitDefaultHelpCmd()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" || strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: Short %q, Example %q; every command needs both", c.CommandPath(), c.Short, c.Example)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestApplySets(t *testing.T) {
	t.Parallel()
	base := map[string]any{"property": map[string]any{"id": "prop_1", "price": 750000.0}}
	tests := []struct {
		name  string
		sets  []string
		want  map[string]any
		usage bool
	}{
		{"number under data.", []string{"data.property.price=1"}, map[string]any{"property": map[string]any{"id": "prop_1", "price": 1.0}}, false},
		{"without data.", []string{"property.price=2"}, map[string]any{"property": map[string]any{"id": "prop_1", "price": 2.0}}, false},
		{"string when not JSON", []string{"property.id=prop 2"}, map[string]any{"property": map[string]any{"id": "prop 2", "price": 750000.0}}, false},
		{"JSON string keeps digits a string", []string{`property.id="42"`}, map[string]any{"property": map[string]any{"id": "42", "price": 750000.0}}, false},
		{"new nested object", []string{"agent.name=Ann", "agent.active=true"},
			map[string]any{"property": map[string]any{"id": "prop_1", "price": 750000.0}, "agent": map[string]any{"name": "Ann", "active": true}}, false},
		{"JSON object value", []string{`property={"id":"x"}`}, map[string]any{"property": map[string]any{"id": "x"}}, false},
		{"no =", []string{"property.price"}, nil, true},
		{"through a scalar", []string{"property.id.x=1"}, nil, true},
		{"empty key", []string{"property..price=1"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, _ := structpb.NewStruct(base)
			got, err := applySets(data, tt.sets)
			if tt.usage {
				if !isUsage(err) {
					t.Fatalf("applySets(%q) error = %v, want a usage error", tt.sets, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.AsMap()); diff != "" {
				t.Errorf("applySets(%q) (-want +got):\n%s", tt.sets, diff)
			}
		})
	}
}

func TestParseHeaderFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want http.Header
		err  bool
	}{
		{"curl -D style with a request line", "POST /hook HTTP/1.1\r\nX-Webhook-Id: evt_1\r\nwebhook-signature: v1,a v1,b\r\n\r\n{\"body\":1}",
			http.Header{"X-Webhook-Id": {"evt_1"}, "Webhook-Signature": {"v1,a v1,b"}}, false},
		{"status line", "HTTP/1.1 200 OK\nX-A: 1\n", http.Header{"X-A": {"1"}}, false},
		{"JSON object", `{"X-Webhook-Id": "evt_1", "webhook-timestamp": 1700000000}`,
			http.Header{"X-Webhook-Id": {"evt_1"}, "Webhook-Timestamp": {"1700000000"}}, false},
		{"value with a colon", "X-Url: http://a:1/b\n", http.Header{"X-Url": {"http://a:1/b"}}, false},
		{"garbage after headers", "X-A: 1\nnot a header\n", nil, true},
		{"empty", "\n\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseHeaderFile([]byte(tt.in))
			if tt.err {
				if err == nil {
					t.Fatalf("parseHeaderFile(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyRequest signs requests with signature.Sign, the signer of real
// deliveries, and checks what verify says of each way they go wrong.
func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"evt_1","type":"property.created","created":"2026-12-01T10:00:00Z","data":{"price":1}}`)
	signed := func(ts time.Time, body []byte, secrets ...string) http.Header {
		h := http.Header{}
		signature.Sign(h, "evt_1", ts, body, secrets)
		return h
	}
	onlyGuide := func(h http.Header) http.Header {
		h.Del(signature.HeaderStandardID)
		h.Del(signature.HeaderStandardTimestamp)
		h.Del(signature.HeaderStandardSignature)
		return h
	}
	tests := []struct {
		name               string
		h                  http.Header
		body               []byte
		secret             string
		verified           bool
		guide, standard    bool
		guideSays, stdSays string
	}{
		{"good", signed(now, body, secret), body, secret, true, true, true, "", ""},
		{"during a rotation, old secret", signed(now, body, "whsec_bmV3bmV3bmV3bmV3bmV3bmV3", secret), body, secret, false, false, true, "wrong secret", ""},
		{"wrong secret", signed(now, body, secret), body, "whsec_AAAAAAAAAAAAAAAAAAAAAAAA", false, false, false, "wrong secret", "wrong secret"},
		// Base64 decoding skips newlines, so the Standard Webhooks key
		// is the same; the guide's HMAC keys with the string itself.
		{"secret with a newline", signed(now, body, secret), body, secret + "\n", false, false, true, "whitespace", ""},
		{"timestamp an hour old", signed(now.Add(-time.Hour), body, secret), body, secret, false, true, false, "1h0m0s old", "1h0m0s old"},
		{"timestamp in the future", signed(now.Add(time.Hour), body, secret), body, secret, false, true, false, "in the future", "in the future"},
		{"body pretty-printed", signed(now, body, secret), []byte("{\n  \"id\": \"evt_1\",\n  \"type\": \"property.created\",\n  \"created\": \"2026-12-01T10:00:00Z\",\n  \"data\": {\"price\": 1.0}\n}\n"), secret,
			false, true, false, "re-serialised", "verifies only after re-canonicalising"},
		{"guide's headers only", onlyGuide(signed(now, body, secret)), body, secret, true, true, false, "", ""},
		{"no signature headers", http.Header{"Content-Type": {"application/json"}}, body, secret, false, false, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := verifyRequest(tt.h, tt.body, tt.secret, now, 5*time.Minute)
			guide, std := r.Schemes[0], r.Schemes[1]
			if r.Verified != tt.verified || guide.Verified != tt.guide || std.Verified != tt.standard {
				t.Errorf("verified %v (guide %v, standard %v), want %v (%v, %v): %+v", r.Verified, guide.Verified, std.Verified, tt.verified, tt.guide, tt.standard, r)
			}
			says := func(s schemeResult) string { return strings.Join(append(s.Problems, s.Notes...), "\n") }
			if !strings.Contains(says(guide), tt.guideSays) || !strings.Contains(says(std), tt.stdSays) {
				t.Errorf("guide says %q (want %q), standard says %q (want %q)", says(guide), tt.guideSays, says(std), tt.stdSays)
			}
		})
	}
}

// TestSaveConfigIsPrivate: the profile file holds API keys, so it is 0600
// even when it existed with a looser mode, and its directory is 0700.
func TestSaveConfigIsPrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "webhookd")
	path := filepath.Join(dir, "config.json")
	if err := saveConfig(path, configFile{Profiles: map[string]Profile{"a": {Server: "x:1", APIKey: "whk_a"}}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := saveConfig(path, configFile{Profiles: map[string]Profile{"a": {Server: "x:1", APIKey: "whk_b"}}}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
	}
	c, err := loadConfig(path)
	if err != nil || c.Profiles["a"].APIKey != "whk_b" {
		t.Fatalf("loadConfig = %+v, %v", c, err)
	}
}
