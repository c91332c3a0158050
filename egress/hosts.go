package egress

import (
	"net/netip"
	"strings"
)

// IsNonCanonicalIPv4 reports whether host (a URL's Hostname) would be read
// as an IPv4 address by some parser but is not in the one form every parser
// agrees on: four dotted decimal parts without leading zeros. inet_aton and
// browsers read 2130706433, 0177.0.0.1, 0x7f.0.0.1 and 127.1 as 127.0.0.1,
// while Go's resolver would look them up as names; rather than depend on
// which resolver a build uses, such hosts are refused before any lookup.
// The rule is the URL standard's: a host whose last label is a number
// (decimal, or hex after 0x) is an IPv4 address. The API refuses such hosts
// when an endpoint is saved and the sender before it dials, both through
// this one function.
func IsNonCanonicalIPv4(host string) bool {
	if strings.Contains(host, ":") {
		return false // an IPv6 literal
	}
	trimmed := strings.TrimSuffix(host, ".")
	last := trimmed[strings.LastIndexByte(trimmed, '.')+1:]
	if !isNumericLabel(last) {
		return false
	}
	addr, err := netip.ParseAddr(host)
	return err != nil || !addr.Is4()
}

// isNumericLabel reports whether a host label is a number to the URL
// standard's IPv4 parser: decimal digits, or 0x followed by hex digits.
func isNumericLabel(label string) bool {
	if label == "" {
		return false
	}
	digits, isDigit := label, func(c byte) bool { return c >= '0' && c <= '9' }
	if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
		digits = label[2:]
		isDigit = func(c byte) bool {
			return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		}
	}
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return false
		}
	}
	return true
}
