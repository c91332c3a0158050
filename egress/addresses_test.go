package egress_test

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/egress"
)

func TestAddressPolicyCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		addr   string
		allow  []string
		reason string // "" when the address may be dialled
	}{
		// Public addresses pass.
		{"93.184.215.14:443", nil, ""},
		{"8.8.8.8:53", nil, ""},
		{"[2606:4700:4700::1111]:443", nil, ""},
		{"[::ffff:8.8.8.8]:443", nil, ""},
		{"[64:ff9b::808:808]:443", nil, ""},
		{"[2002:808:808::1]:443", nil, ""},
		// IPv4 special-purpose ranges.
		{"127.0.0.1:80", nil, "loopback address"},
		{"127.255.0.9:80", nil, "loopback address"},
		{"10.1.2.3:443", nil, "private address"},
		{"172.16.0.1:443", nil, "private address"},
		{"172.31.255.255:443", nil, "private address"},
		{"192.168.1.1:443", nil, "private address"},
		{"100.64.0.1:443", nil, "carrier-grade NAT address"},
		{"100.100.100.200:80", nil, "carrier-grade NAT address"},
		{"169.254.169.254:80", nil, "cloud metadata address"},
		{"169.254.1.1:80", nil, "link-local address"},
		{"0.0.0.0:80", nil, "unspecified address"},
		{"0.1.2.3:80", nil, `"this network" address`},
		{"224.0.0.1:80", nil, "multicast address"},
		{"239.255.255.250:1900", nil, "multicast address"},
		{"255.255.255.255:80", nil, "broadcast address"},
		{"240.0.0.1:80", nil, "reserved address"},
		{"198.18.0.1:80", nil, "benchmarking address"},
		// IPv6 special-purpose ranges.
		{"[::1]:80", nil, "loopback address"},
		{"[::]:80", nil, "unspecified address"},
		{"[fe80::1%eth0]:80", nil, "link-local address"},
		{"[fc00::1]:80", nil, "private address"},
		{"[fd12:3456::1]:80", nil, "private address"},
		{"[fd00:ec2::254]:80", nil, "cloud metadata address"},
		{"[ff02::1]:80", nil, "multicast address"},
		{"[fec0::1]:80", nil, "site-local address"},
		{"[::7f00:1]:80", nil, "IPv4-compatible address"},
		{"[64:ff9b:1::a00:1]:80", nil, "local-use NAT64 address"},
		{"[2001:0:4136:e378:8000:63bf:3fff:fdd2]:443", nil, "Teredo address"},
		{"[2001:2::1]:443", nil, "benchmarking address"},
		{"[2001:4:112::1]:53", nil, "IETF protocol assignment address"},
		{"[2620:4f:8000::1]:53", nil, "AS112 DNS sink address"},
		{"[3fff::1]:443", nil, "documentation address"},
		{"[5f00::1]:443", nil, "segment routing (SRv6) address"},
		{"[4000::1]:443", nil, "reserved address (outside the global unicast range 2000::/3)"},
		{"192.31.196.1:53", nil, "AS112 DNS sink address"},
		{"192.175.48.6:53", nil, "AS112 DNS sink address"},
		{"192.88.99.1:443", nil, "6to4 relay anycast address"},
		// IPv6 forms carrying a refused IPv4 address.
		{"[::ffff:127.0.0.1]:80", nil, "IPv4 loopback address 127.0.0.1 embedded in an IPv6 address"},
		{"[::ffff:169.254.169.254]:80", nil, "IPv4 cloud metadata address 169.254.169.254 embedded in an IPv6 address"},
		{"[::ffff:0:10.0.0.1]:80", nil, "IPv4 private address 10.0.0.1 embedded in an IPv6 address"},
		{"[64:ff9b::a9fe:a9fe]:80", nil, "IPv4 cloud metadata address 169.254.169.254 embedded in an IPv6 address"},
		{"[64:ff9b::c0a8:101]:80", nil, "IPv4 private address 192.168.1.1 embedded in an IPv6 address"},
		{"[2002:7f00:1::]:80", nil, "IPv4 loopback address 127.0.0.1 embedded in an IPv6 address"},
		// The allow-list re-admits ranges, including embedded forms.
		{"127.0.0.1:80", []string{"127.0.0.0/8"}, ""},
		{"[::ffff:127.0.0.1]:80", []string{"127.0.0.0/8"}, ""},
		{"[::1]:80", []string{"::1/128"}, ""},
		{"10.0.0.5:80", []string{"10.0.0.0/24"}, ""},
		{"10.0.1.5:80", []string{"10.0.0.0/24"}, "private address"},
		{"[::1]:80", []string{"127.0.0.0/8"}, "loopback address"},
	}
	for _, tc := range cases {
		t.Run(tc.addr+"/"+strings.Join(tc.allow, ","), func(t *testing.T) {
			t.Parallel()
			var policy egress.AddressPolicy
			for _, a := range tc.allow {
				policy.Allow = append(policy.Allow, netip.MustParsePrefix(a))
			}
			ap := netip.MustParseAddrPort(tc.addr)
			err := policy.Check(ap)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want allowed", tc.addr, err)
				}
				return
			}
			var refused *egress.RefusedAddressError
			if !errors.As(err, &refused) {
				t.Fatalf("Check(%s) = %v, want a *RefusedAddressError", tc.addr, err)
			}
			if refused.Reason != tc.reason {
				t.Errorf("reason = %q, want %q", refused.Reason, tc.reason)
			}
			// Control, the dialer hook, decides the same from the string form.
			if err := policy.Control(t.Context(), "tcp", ap.String(), nil); err == nil || err.Error() != refused.Error() {
				t.Errorf("Control = %v, want %v", err, refused)
			}
		})
	}
}

func TestRefusedAddressErrorMessage(t *testing.T) {
	t.Parallel()
	err := egress.AddressPolicy{}.Check(netip.MustParseAddrPort("127.0.0.1:80"))
	const want = "refused to connect to 127.0.0.1:80: loopback address (allow it with --allow-cidr)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// TestDialerAppliesThePolicy dials a live loopback listener through
// Dialer: refused by the zero policy before connecting (the error is the
// policy's own), reached once loopback is allowed. "localhost" makes the
// policy judge what the name resolved to.
func TestDialerAppliesThePolicy(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, host := range []string{"127.0.0.1", "localhost"} {
		addr := net.JoinHostPort(host, port)
		conn, err := egress.AddressPolicy{}.Dialer(5*time.Second, nil).DialContext(t.Context(), "tcp", addr)
		var refused *egress.RefusedAddressError
		if !errors.As(err, &refused) {
			if conn != nil {
				_ = conn.Close()
			}
			t.Fatalf("dial %s = %v, want a *RefusedAddressError", addr, err)
		}
		allow := egress.AddressPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
		conn, err = allow.Dialer(5*time.Second, nil).DialContext(t.Context(), "tcp", addr)
		if err != nil {
			t.Fatalf("dial %s with loopback allowed: %v", addr, err)
		}
		_ = conn.Close()
	}
}
