package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// AddressPolicy decides which IP addresses outbound webhook requests may
// connect to. It guards against server-side request forgery: endpoint URLs
// are chosen by customers, and without it a URL could make webhookd POST to
// its own admin ports, the platform's private network or a cloud metadata
// service, and show the answer back in the attempt's response excerpt.
//
// The check runs at connect time, on the address the dialer is about to use
// after DNS resolution (Control, which Dialer installs), not on the URL when
// an endpoint is saved (CheckURL judges only its form): a
// hostname can resolve to a public address when checked and to 127.0.0.1 a
// second later (DNS rebinding), and only the connect-time check sees what is
// actually dialled, for every address of every attempt, redirects included
// (webhookd follows none anyway). The zero value refuses every special-purpose
// range; Allow re-admits ranges an operator trusts (tests allow loopback).
type AddressPolicy struct {
	// Allow lists prefixes that may be dialled even though they are in a
	// refused range (the --allow-cidr setting). An IPv4 prefix also admits
	// the IPv4-mapped, IPv4-translated, NAT64 and 6to4 forms of its addresses.
	Allow []netip.Prefix
}

// RefusedAddressError is the error of a connection the AddressPolicy refused.
// Its message is shown to customers as the attempt's error, so it names the
// address, the reason and the way out.
type RefusedAddressError struct {
	Addr   netip.AddrPort
	Reason string // e.g. "loopback address"
}

func (e *RefusedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s (allow it with --allow-cidr)", e.Addr, e.Reason)
}

// Dialer returns the dialer outbound webhook requests connect through: it
// refuses, before the socket connects, every address p does not allow, for
// each address the resolver returned (nil means the system's resolver).
// Timeout bounds one connection. Requests must use it directly, never
// through a proxy: p would then judge the proxy's address, not the
// receiver's.
func (p AddressPolicy) Dialer(timeout time.Duration, resolver *net.Resolver) *net.Dialer {
	return &net.Dialer{
		Timeout:        timeout,
		KeepAlive:      30 * time.Second, // as net/http's default transport
		ControlContext: p.Control,
		Resolver:       resolver,
	}
}

// Control is a net.Dialer.ControlContext function: it is called with the
// resolved "ip:port" of each connection attempt before the socket connects,
// and its error aborts that attempt.
func (p AddressPolicy) Control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// The dialer always passes a numeric address; anything else is not
		// something we can vouch for.
		return fmt.Errorf("refused to connect to %q: not an IP address and port", address)
	}
	return p.Check(ap)
}

// Check returns a *RefusedAddressError when addr may not be dialled.
func (p AddressPolicy) Check(addr netip.AddrPort) error {
	ip := addr.Addr().WithZone("")
	embedded, hasEmbedded := embeddedIPv4(ip)
	for _, allowed := range p.Allow {
		if allowed.Contains(ip) || (hasEmbedded && allowed.Contains(embedded)) {
			return nil
		}
	}
	if reason := refusedReason(ip); reason != "" {
		return &RefusedAddressError{Addr: addr, Reason: reason}
	}
	return nil
}

// refusedRange is one special-purpose range that webhooks may not reach.
type refusedRange struct {
	prefix netip.Prefix
	reason string
}

// refusedIPv4 is checked in order, so specific entries (the metadata
// address) come before the ranges that contain them. Sources: RFC 6890 and
// the IANA special-purpose address registries.
var refusedIPv4 = [...]refusedRange{
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified address"},
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" address`},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("169.254.169.254/32"), "cloud metadata address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address"},
	// Anycast and sink services that are globally reachable by the
	// registry's definition but never a webhook receiver: AS112 answers
	// misdirected reverse-DNS queries, AMT and 6to4 relay tunnels.
	{netip.MustParsePrefix("192.31.196.0/24"), "AS112 DNS sink address"},
	{netip.MustParsePrefix("192.52.193.0/24"), "AMT relay anycast address"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address"},
	{netip.MustParsePrefix("192.175.48.0/24"), "AS112 DNS sink address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
}

// refusedIPv6 covers native IPv6 ranges; forms that embed an IPv4 address
// are judged by that address (see embeddedIPv4) before this table, and
// addresses outside globalUnicastIPv6 are refused after it. The test
// TestAddressPolicyCoversIANASpecialPurposeRegistries checks both tables
// against copies of IANA's registries in testdata.
var refusedIPv6 = [...]refusedRange{
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	// Deprecated IPv4-compatible addresses (::a.b.c.d): no legitimate
	// receiver uses them, and some stacks still route them as IPv4.
	{netip.MustParsePrefix("::/96"), "IPv4-compatible address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "discard-only address"},
	{netip.MustParsePrefix("100:0:0:1::/64"), "dummy address"},
	// Teredo addresses carry a relay's IPv4 address and the client's
	// (obfuscated); like the rest of the IETF protocol assignments in
	// 2001::/23 (benchmarking, ORCHID, AMT, AS112, anycast services) no
	// webhook receiver lives there.
	{netip.MustParsePrefix("2001::/32"), "Teredo address"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking address"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignment address"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address"},
	{netip.MustParsePrefix("2620:4f:8000::/48"), "AS112 DNS sink address"},
	{netip.MustParsePrefix("3fff::/20"), "documentation address"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing (SRv6) address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "cloud metadata address"},
	{netip.MustParsePrefix("fc00::/7"), "private address"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "site-local address"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address"},
}

// IPv6 ranges whose addresses carry an IPv4 address that a translator or
// tunnel may deliver to; such an address is as dangerous as the IPv4 one.
var (
	ipv4MappedPrefix     = netip.MustParsePrefix("::ffff:0:0/96")   // RFC 4291
	ipv4TranslatedPrefix = netip.MustParsePrefix("::ffff:0:0:0/96") // RFC 2765 (SIIT)
	nat64Prefix          = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052
	sixToFourPrefix      = netip.MustParsePrefix("2002::/16")       // RFC 3056
)

// globalUnicastIPv6 is the only IPv6 space IANA allocates to registries for
// ordinary hosts (RFC 4291, RFC 3513); the rest is reserved by the IETF,
// so a block carved out of it later (as 5f00::/16 was in 2024) is refused
// before anyone adds it to refusedIPv6.
var globalUnicastIPv6 = netip.MustParsePrefix("2000::/3")

// embeddedIPv4 returns the IPv4 address carried by an IPv4-mapped,
// IPv4-translated, NAT64 (well-known prefix) or 6to4 IPv6 address.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	switch {
	case ipv4MappedPrefix.Contains(ip), ipv4TranslatedPrefix.Contains(ip), nat64Prefix.Contains(ip):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFourPrefix.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// refusedReason says why ip may not be dialled, or "" when it may.
func refusedReason(ip netip.Addr) string {
	if v4, ok := embeddedIPv4(ip); ok {
		if reason := refusedReason(v4); reason != "" {
			return "IPv4 " + reason + " " + v4.String() + " embedded in an IPv6 address"
		}
		return ""
	}
	table := refusedIPv6[:]
	if ip.Is4() {
		table = refusedIPv4[:]
	}
	for _, r := range table {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	if ip.Is6() && !globalUnicastIPv6.Contains(ip) {
		return "reserved address (outside the global unicast range 2000::/3)"
	}
	return ""
}

// NonCanonicalIPv4Reason is the sender's reason for refusing a host that
// IsNonCanonicalIPv4 reports, before any lookup. CheckURL refuses such hosts
// when an endpoint is saved; the sender checks again because a URL may have
// been stored under older rules, and its own guard must not depend on them.
const NonCanonicalIPv4Reason = "a numeric host must be a dotted-decimal IPv4 address such as 192.0.2.10 " +
	"(decimal, octal, hex and shortened forms are refused)"
