package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/web"
)

func get(t testing.TB, h http.Handler, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t testing.TB, r *http.Response) string {
	t.Helper()
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assetPath is the hashed script index.html loads.
func assetPath(t *testing.T, index string) string {
	t.Helper()
	i := strings.Index(index, `src="/assets/`)
	if i < 0 {
		t.Fatalf("index.html loads no /assets/ script:\n%s", index)
	}
	rest := index[i+len(`src="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestHandler(t *testing.T) {
	t.Parallel()
	h, err := web.Handler(web.Config{FrameAncestors: web.DefaultFrameAncestors})
	if err != nil {
		t.Fatal(err)
	}
	index := body(t, get(t, h, "/"))
	script := assetPath(t, index)

	tests := []struct {
		name, path  string
		status      int
		cache       string
		contentType string
		wantIndex   bool
	}{
		{"root", "/", 200, "no-cache", "text/html; charset=utf-8", true},
		{"deep link to a delivery", "/endpoints/ep_1/deliveries/dlv_2", 200, "no-cache", "text/html; charset=utf-8", true},
		{"index.html itself", "/index.html", 200, "no-cache", "text/html; charset=utf-8", true},
		{"hashed asset", script, 200, "public, max-age=31536000, immutable", "text/javascript; charset=utf-8", false},
		{"missing asset is not the app", "/assets/index-nothere.js", 404, "", "", false},
		{"favicon", "/favicon.svg", 200, "no-cache", "image/svg+xml", false},
		{"API reference", "/docs", 200, "no-cache", "text/html; charset=utf-8", false},
		{"API reference with a slash", "/docs/", 200, "no-cache", "text/html; charset=utf-8", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := get(t, h, tc.path)
			if r.StatusCode != tc.status {
				t.Fatalf("GET %s: status %d, want %d", tc.path, r.StatusCode, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := r.Header.Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if got := r.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			csp := r.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy %q allows inline code", csp)
			}
			if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options %q, want DENY", got)
			}
			b := body(t, r)
			if got := b == index; got != tc.wantIndex {
				t.Errorf("body is index.html: %v, want %v", got, tc.wantIndex)
			}
			if strings.HasPrefix(tc.path, "/docs") && !strings.Contains(b, "<title>API reference") {
				t.Errorf("GET %s is not the API reference:\n%s", tc.path, b)
			}
		})
	}
}

// The built pages must not carry inline script: the CSP would block it.
func TestIndexHasNoInlineScript(t *testing.T) {
	t.Parallel()
	h, err := web.Handler(web.Config{FrameAncestors: "'none'"})
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/", "/docs"} {
		checkNoInlineScript(t, body(t, get(t, h, page)))
	}
}

func checkNoInlineScript(t *testing.T, index string) {
	t.Helper()
	for _, tag := range strings.Split(index, "<script")[1:] {
		if !strings.Contains(tag[:strings.IndexByte(tag, '>')], "src=") {
			t.Errorf("inline <script%s", tag)
		}
	}
	if strings.Contains(index, "style=") || strings.Contains(index, "<style") {
		t.Errorf("inline style in index.html:\n%s", index)
	}
}

func TestHandlerGzipAndConditional(t *testing.T) {
	t.Parallel()
	h, err := web.Handler(web.Config{FrameAncestors: "'none'"})
	if err != nil {
		t.Fatal(err)
	}
	script := assetPath(t, body(t, get(t, h, "/")))
	plain := get(t, h, script)
	zipped := get(t, h, script, "Accept-Encoding", "br, gzip")
	if zipped.Header.Get("Content-Encoding") != "gzip" || plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding: %q with gzip accepted, %q without", zipped.Header.Get("Content-Encoding"), plain.Header.Get("Content-Encoding"))
	}
	if plain.Header.Get("ETag") == zipped.Header.Get("ETag") {
		t.Errorf("both encodings have ETag %s", plain.Header.Get("ETag"))
	}
	if body(t, zipped) != body(t, plain) {
		t.Error("the gzipped asset differs from the plain one")
	}
	again := get(t, h, script, "If-None-Match", plain.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: status %d, want 304", again.StatusCode)
	}
}

func TestFrameAncestors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value, xfo string
		ok         bool
	}{
		{"'none'", "DENY", true},
		{"'self'", "SAMEORIGIN", true},
		{"'self' https://app.example.com", "", true},
		{"", "", false},
		{"'self'; script-src *", "", false},
		{"https://a.example.com, https://b.example.com", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			h, err := web.Handler(web.Config{FrameAncestors: tc.value})
			if (err == nil) != tc.ok {
				t.Fatalf("Handler(%q): error %v, want ok=%v", tc.value, err, tc.ok)
			}
			if !tc.ok {
				return
			}
			r := get(t, h, "/")
			if got := r.Header.Get("X-Frame-Options"); got != tc.xfo {
				t.Errorf("X-Frame-Options %q, want %q", got, tc.xfo)
			}
			if csp := r.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors "+tc.value) {
				t.Errorf("Content-Security-Policy %q does not end in frame-ancestors %s", csp, tc.value)
			}
		})
	}
}

func TestHandlerRefusesWrites(t *testing.T) {
	t.Parallel()
	h, err := web.Handler(web.Config{FrameAncestors: "'none'"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/endpoints", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /endpoints: status %d, want 405", rec.Code)
	}
}

// maxFirstLoadGzip is the budget for the JS and CSS of the first
// load, gzipped.
const maxFirstLoadGzip = 150 << 10

// TestFirstLoadSize keeps the dashboard's first load within budget: the
// script and stylesheets index.html loads, as served gzipped.
func TestFirstLoadSize(t *testing.T) {
	t.Parallel()
	h, err := web.Handler(web.Config{FrameAncestors: "'none'"})
	if err != nil {
		t.Fatal(err)
	}
	total := firstLoadGzip(t, h)
	if total == 0 {
		t.Fatal("index.html loads no /assets/ file")
	}
	t.Logf("first load: %d bytes of JS + CSS gzipped (budget %d)", total, maxFirstLoadGzip)
	if total > maxFirstLoadGzip {
		t.Errorf("first load is %d bytes gzipped, over the budget of %d", total, maxFirstLoadGzip)
	}
}

// firstLoadGzip is the size of the script and stylesheets index.html loads,
// as served gzipped.
func firstLoadGzip(t testing.TB, h http.Handler) int {
	t.Helper()
	index := body(t, get(t, h, "/"))
	var total int
	for _, attr := range []string{`src="/assets/`, `href="/assets/`} {
		for _, part := range strings.Split(index, attr)[1:] {
			p := "/assets/" + part[:strings.IndexByte(part, '"')]
			r := get(t, h, p, "Accept-Encoding", "gzip")
			b, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d bytes gzipped", p, len(b))
			total += len(b)
		}
	}
	return total
}
