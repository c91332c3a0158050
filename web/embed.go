// Package web serves the customer dashboard: the Preact app built from
// web/src into web/dist (committed, rebuilt and compared by scripts/test.sh)
// and embedded in the webhookd binary, so the dashboard needs no set-up and
// loads nothing from another origin. The app calls only the public REST API.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// Config configures Handler.
type Config struct {
	// FrameAncestors is the CSP frame-ancestors source list: who may show
	// the dashboard in a frame. "'none'" (the default) forbids every
	// frame; a platform that embeds the dashboard names its own origins,
	// e.g. "'self' https://app.example.com".
	FrameAncestors string
}

// DefaultFrameAncestors forbids framing.
const DefaultFrameAncestors = "'none'"

// Validate reports a source list that would break the header it goes in.
func (c Config) Validate() error {
	fa := strings.TrimSpace(c.FrameAncestors)
	if fa == "" {
		return errors.New("frame ancestors: must not be empty (use 'none' to forbid framing)")
	}
	if strings.ContainsAny(fa, ";,\r\n\"") {
		return fmt.Errorf("frame ancestors %q: a CSP source list is space-separated, without ';', ',' or quotes other than '…'", fa)
	}
	return nil
}

type file struct {
	body, gzipped []byte
	contentType   string
	etag          string
}

// Handler serves the dashboard, and the API reference (Swagger UI over
// /openapi.json) at /docs. Paths under /assets/ are Vite's
// content-hashed files, cached for a year; any other path that is not a
// file is a client-side route (a deep link such as
// /endpoints/ep_…/deliveries/dlv_…) and gets index.html, which is never
// cached so a new release is picked up at once.
func Handler(cfg Config) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &handler{files: map[string]*file{}, headers: securityHeaders(strings.TrimSpace(cfg.FrameAncestors))}
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &file{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		if f.contentType = mime.TypeByExtension(path.Ext(p)); f.contentType == "" {
			f.contentType = http.DetectContentType(body)
		}
		// Compressed once here rather than per request; small files and
		// those that do not shrink are served as they are.
		if len(body) > 512 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if buf.Len() < len(body) {
				f.gzipped = buf.Bytes()
			}
		}
		h.files["/"+p] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	if h.files["/index.html"] == nil {
		return nil, errors.New("web: dist/index.html is missing: build the dashboard (make web)")
	}
	return h, nil
}

type handler struct {
	files   map[string]*file
	headers http.Header
}

func securityHeaders(frameAncestors string) http.Header {
	h := http.Header{}
	// No inline script or style, nothing from another origin; the API is
	// this origin's /v1/.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "+frameAncestors)
	// X-Frame-Options for browsers without frame-ancestors; it can only say
	// "nowhere" or "same origin", so a list of origins relies on CSP alone.
	switch frameAncestors {
	case "'none'":
		h.Set("X-Frame-Options", "DENY")
	case "'self'":
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	f := h.files[p]
	cache := "no-cache"
	switch {
	case strings.HasPrefix(p, "/assets/"):
		if f == nil {
			http.NotFound(w, r)
			return
		}
		cache = "public, max-age=31536000, immutable"
	case f == nil && h.files[p+"/index.html"] != nil:
		// A page of its own, such as the API reference at /docs.
		f = h.files[p+"/index.html"]
	case f == nil || p == "/index.html":
		f = h.files["/index.html"]
	}
	for k, v := range h.headers {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", cache)
	w.Header().Add("Vary", "Accept-Encoding")
	body, etag := f.body, f.etag
	if f.gzipped != nil && acceptsGzip(r) {
		// Each encoding is its own representation, with its own tag.
		w.Header().Set("Content-Encoding", "gzip")
		body, etag = f.gzipped, strings.TrimSuffix(etag, `"`)+`-gz"`
	}
	w.Header().Set("ETag", etag)
	// ServeContent answers If-None-Match with 304 and handles HEAD and
	// ranges; the zero modification time leaves Last-Modified out.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
