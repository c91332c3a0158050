package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLBytes bounds an endpoint URL: it keeps rows small, and no receiver
// needs more.
const MaxURLBytes = 2048

// CheckURL says why raw cannot be an endpoint's URL, or returns nil. It
// accepts absolute http(s) URLs with a host and no user information, whose
// port, if any, can be dialled. Plain http is refused unless allowHTTP:
// signatures protect integrity, but payloads would travel in the clear.
//
// The error's message is about the URL without naming it ("must name a
// host"): the caller knows the field and reports the two together.
//
// Whether the host's addresses may be reached is not checked here but when
// the sender connects (AddressPolicy): a hostname can resolve anywhere, so
// refusing private literals here would prove nothing.
func CheckURL(raw string, allowHTTP bool) error {
	if raw == "" {
		return errors.New("required")
	}
	if len(raw) > MaxURLBytes {
		return fmt.Errorf("longer than %d bytes", MaxURLBytes)
	}
	if strings.TrimSpace(raw) != raw || strings.ContainsAny(raw, " \t\r\n") {
		return errors.New("must not contain whitespace")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP {
			return errors.New("must use https (plain http is not allowed by this server)")
		}
	default:
		return errors.New("must be an absolute https:// URL")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return errors.New("must name a host")
	}
	if u.User != nil {
		return errors.New("must not contain user information (user:password@); use custom headers for credentials")
	}
	if err := checkHost(u.Hostname()); err != nil {
		return err
	}
	if port := u.Port(); port != "" {
		// Port 0 and ports past 65535 cannot be dialled: such an endpoint
		// would fail every attempt. (url.Parse has checked the digits.)
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("port %s is out of range (1 to 65535)", port)
		}
	}
	return nil
}

// checkHost refuses hosts whose meaning depends on who reads them. A host
// whose last label is a number is an IPv4 address to browsers and to the C
// library's inet_aton (2130706433, 0177.0.0.1, 0x7f.0.0.1 and 127.1 all
// mean 127.0.0.1), but a name to other resolvers; only the dotted decimal
// form is accepted (IsNonCanonicalIPv4, which the sender applies too), so
// that what the customer sees is what webhookd dials. IPv6 literals must
// parse and carry no zone, which names an interface of the sending machine.
func checkHost(host string) error {
	if strings.Contains(host, ":") {
		addr, err := netip.ParseAddr(host)
		switch {
		case err != nil || !addr.Is6():
			return errors.New("has an invalid IPv6 address")
		case addr.Zone() != "":
			return fmt.Errorf("must not name an IPv6 zone (%%%s)", addr.Zone())
		}
		return nil
	}
	if !IsNonCanonicalIPv4(host) {
		return nil // a name, or a dotted-decimal IPv4 address
	}
	return fmt.Errorf("host %q is a number but not a dotted-decimal IPv4 address; "+
		"write the address as four decimal parts (such as 192.0.2.10) or use a hostname", host)
}
