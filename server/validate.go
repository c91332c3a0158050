package server

import (
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/webhookd/webhookd"
)

// Limits on what customers may store. They keep rows small and requests to
// receivers sane; each is reported with the field it concerns.
const (
	maxURLBytes          = 2048
	maxDescriptionBytes  = 1024
	maxHeaders           = 20
	maxHeaderNameBytes   = 256
	maxHeaderValueBytes  = 4096
	maxIdempotencyKey    = 255
	maxDisplayNameBytes  = 200
	maxDisableReasonSize = 200
)

// validateEndpointURL accepts absolute http(s) URLs with a host and no user
// information. Plain http is refused unless allowHTTP: signatures protect
// integrity, but payloads would travel in the clear.
func validateEndpointURL(field, raw string, allowHTTP bool) error {
	if raw == "" {
		return webhookd.Invalid(field, "required")
	}
	if len(raw) > maxURLBytes {
		return webhookd.Invalid(field, "longer than %d bytes", maxURLBytes)
	}
	if strings.TrimSpace(raw) != raw || strings.ContainsAny(raw, " \t\r\n") {
		return webhookd.Invalid(field, "must not contain whitespace")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return webhookd.Invalid(field, "not a valid URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP {
			return webhookd.Invalid(field, "must use https (plain http is not allowed by this server)")
		}
	default:
		return webhookd.Invalid(field, "must be an absolute https:// URL")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return webhookd.Invalid(field, "must name a host")
	}
	if u.User != nil {
		return webhookd.Invalid(field, "must not contain user information (user:password@); use custom headers for credentials")
	}
	if err := validateEndpointHost(field, u.Hostname()); err != nil {
		return err
	}
	if port := u.Port(); port != "" {
		for _, c := range port {
			if c < '0' || c > '9' {
				return webhookd.Invalid(field, "has an invalid port")
			}
		}
	}
	return nil
}

// validateEndpointHost refuses hosts whose meaning depends on who reads
// them. A host whose last label is a number is an IPv4 address to browsers
// and to the C library's inet_aton (2130706433, 0177.0.0.1, 0x7f.0.0.1 and
// 127.1 all mean 127.0.0.1), but a name to other resolvers; only the dotted
// decimal form is accepted, so that what the customer sees is what webhookd
// dials. IPv6 literals must parse and carry no zone, which names an
// interface of the sending machine. Whether an address may be reached at
// all is decided at connect time, after DNS, by the worker's SSRF guard
// (worker/ssrf.go, which refuses these same numeric forms): a hostname can
// resolve anywhere, so refusing private literals here would prove nothing.
func validateEndpointHost(field, host string) error {
	if strings.Contains(host, ":") {
		addr, err := netip.ParseAddr(host)
		switch {
		case err != nil || !addr.Is6():
			return webhookd.Invalid(field, "has an invalid IPv6 address")
		case addr.Zone() != "":
			return webhookd.Invalid(field, "must not name an IPv6 zone (%%%s)", addr.Zone())
		}
		return nil
	}
	if !webhookd.IsNonCanonicalIPv4(host) {
		return nil // a name, or a dotted-decimal IPv4 address
	}
	return webhookd.Invalid(field, "host %q is a number but not a dotted-decimal IPv4 address; "+
		"write the address as four decimal parts (such as 192.0.2.10) or use a hostname", host)
}

// reservedHeader reports headers webhookd sets itself (or that HTTP
// transports own), which endpoint headers must not replace.
func reservedHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "content-type", "content-length", "user-agent", "host", "connection",
		"transfer-encoding", "te", "trailer", "upgrade", "keep-alive", "proxy-connection", "expect":
		return true
	}
	return strings.HasPrefix(n, "x-webhook-") || strings.HasPrefix(n, "webhook-")
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func validateHeaders(field string, headers map[string]string) error {
	if len(headers) > maxHeaders {
		return webhookd.Invalid(field, "at most %d headers", maxHeaders)
	}
	for name, value := range headers {
		switch {
		case len(name) > maxHeaderNameBytes || !validHeaderName(name):
			return webhookd.Invalid(field, "%q is not a valid header name", name)
		case reservedHeader(name):
			return webhookd.Invalid(field, "%q is set by webhookd and cannot be overridden", name)
		case len(value) > maxHeaderValueBytes:
			return webhookd.Invalid(field, "value of %q is longer than %d bytes", name, maxHeaderValueBytes)
		case strings.ContainsAny(value, "\r\n\x00") || !utf8.ValidString(value):
			return webhookd.Invalid(field, "value of %q must not contain line breaks or NUL", name)
		}
	}
	return nil
}

func validateLength(field, value string, max int) error {
	if len(value) > max {
		return webhookd.Invalid(field, "longer than %d bytes", max)
	}
	return nil
}
