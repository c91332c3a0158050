package egress

import (
	"fmt"
	"net/textproto"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"
)

// Limits on an endpoint's custom headers: they keep rows small and
// requests to receivers sane.
const (
	MaxCustomHeaders          = 20
	MaxCustomHeaderNameBytes  = 256
	MaxCustomHeaderValueBytes = 4096
)

// IsReservedHeader reports whether name (in any case) is a header that an
// endpoint's custom headers may not set: webhookd's own, whose meaning
// receivers rely on (Content-Type, User-Agent, X-Webhook-*, Webhook-*),
// the ones net/http derives from the request itself (Host, Content-Length,
// the hop-by-hop headers), and Proxy-*, which belong to proxies that
// webhookd never uses. The API refuses them when an endpoint is saved and
// the sender leaves them out of requests for endpoints stored earlier:
// this one list serves both, so what is accepted is what is sent.
func IsReservedHeader(name string) bool {
	switch n := strings.ToLower(name); n {
	case "content-type", "content-length", "user-agent", "host", "connection", "keep-alive",
		"transfer-encoding", "te", "trailer", "upgrade", "expect":
		return true
	default:
		return strings.HasPrefix(n, "x-webhook-") || strings.HasPrefix(n, "webhook-") ||
			strings.HasPrefix(n, "proxy-")
	}
}

// CheckHeader says why the custom header name: value cannot be sent,
// or returns nil. Name and value follow HTTP's grammar (RFC 9110: a name
// is a token; a value has no control characters other than tab, so no
// line breaks, NUL or DEL), as checked by the same rules net/http applies
// when it sends a request, so an accepted header never fails an attempt.
// Values must also be UTF-8, as they are stored as text. It does not
// check IsReservedHeader.
func CheckHeader(name, value string) error {
	switch {
	case name == "" || len(name) > MaxCustomHeaderNameBytes || !httpguts.ValidHeaderFieldName(name):
		return fmt.Errorf("%q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~, at most %d bytes)",
			name, MaxCustomHeaderNameBytes)
	case len(value) > MaxCustomHeaderValueBytes:
		return fmt.Errorf("value of %q is longer than %d bytes", name, MaxCustomHeaderValueBytes)
	case !httpguts.ValidHeaderFieldValue(value):
		return fmt.Errorf("value of %q must not contain control characters (line breaks, NUL, DEL, …)", name)
	case !utf8.ValidString(value):
		return fmt.Errorf("value of %q is not valid UTF-8", name)
	}
	return nil
}

// CheckHeaders checks an endpoint's custom headers as the API
// accepts them: at most MaxCustomHeaders, each valid (CheckHeader)
// and not reserved (IsReservedHeader), and no two names that differ only
// in case, which HTTP treats as one header (only one of them could be
// sent). Headers are checked in name order, so the error is stable.
func CheckHeaders(headers map[string]string) error {
	if len(headers) > MaxCustomHeaders {
		return fmt.Errorf("at most %d headers", MaxCustomHeaders)
	}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := make(map[string]string, len(names))
	for _, name := range names {
		if err := CheckHeader(name, headers[name]); err != nil {
			return err
		}
		if IsReservedHeader(name) {
			return fmt.Errorf("%q is set by webhookd and cannot be overridden", name)
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		if other, dup := seen[key]; dup {
			return fmt.Errorf("%q and %q are the same header (names are case-insensitive); keep one", other, name)
		}
		seen[key] = name
	}
	return nil
}
