package server

import (
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
	if port := u.Port(); port != "" {
		for _, c := range port {
			if c < '0' || c > '9' {
				return webhookd.Invalid(field, "has an invalid port")
			}
		}
	}
	return nil
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
