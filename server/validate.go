package server

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/egress"
)

// Limits on what customers may store. They keep rows small and requests to
// receivers sane; each is reported with the field it concerns.
const (
	maxURLBytes          = 2048
	maxDescriptionBytes  = 1024
	maxIdempotencyKey    = 255
	maxDisplayNameBytes  = 200
	maxDisableReasonSize = 200
	// maxFilterValues bounds the values of one list filter (event types,
	// statuses): each becomes a bound variable of the query, and a call
	// naming tens of thousands would fail in the database instead of here.
	maxFilterValues = 100
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
		// Port 0 and ports past 65535 cannot be dialled: such an endpoint
		// would fail every attempt. (url.Parse has checked the digits.)
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return webhookd.Invalid(field, "port %s is out of range (1 to 65535)", port)
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
	if !egress.IsNonCanonicalIPv4(host) {
		return nil // a name, or a dotted-decimal IPv4 address
	}
	return webhookd.Invalid(field, "host %q is a number but not a dotted-decimal IPv4 address; "+
		"write the address as four decimal parts (such as 192.0.2.10) or use a hostname", host)
}

// validateHeaders applies egress.CheckCustomHeaders, the rules the
// sender applies too, so that an accepted header is one that is sent.
func validateHeaders(field string, headers map[string]string) error {
	if err := egress.CheckCustomHeaders(headers); err != nil {
		return webhookd.Invalid(field, "%s", err.Error())
	}
	return nil
}

func validateLength(field, value string, max int) error {
	if len(value) > max {
		return webhookd.Invalid(field, "longer than %d bytes", max)
	}
	return nil
}

// validateFilterValues refuses a list filter with more than maxFilterValues values.
func validateFilterValues(field string, n int) error {
	if n > maxFilterValues {
		return webhookd.Invalid(field, "at most %d values per call, got %d", maxFilterValues, n)
	}
	return nil
}
