package egress_test

import (
	"encoding/csv"
	"errors"
	"math/big"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/egress"
)

// registryBlock is one address block of an IANA special-purpose registry.
type registryBlock struct {
	prefix            netip.Prefix
	name              string
	globallyReachable string // "True", "False", "N/A" or "" (terminated), footnote marks removed
}

// footnote matches the registry's footnote marks ("False [1]", "192.0.0.0/24 [2]").
var footnote = regexp.MustCompile(`\s*\[\d+\]`)

// readRegistry reads a copy of an IANA special-purpose registry in the form
// of its CSV download (lines starting with # are this project's notes).
func readRegistry(t *testing.T, path string) []registryBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	header := rows[0]
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("%s: no %q column in %v", path, name, header)
		return -1
	}
	blockCol, nameCol, reachCol := col("Address Block"), col("Name"), col("Globally Reachable")
	var blocks []registryBlock
	for _, row := range rows[1:] {
		// One cell may list several blocks: "192.0.0.170/32, 192.0.0.171/32".
		for _, cell := range strings.Split(footnote.ReplaceAllString(row[blockCol], ""), ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(cell))
			if err != nil {
				t.Fatalf("%s: address block %q: %v", path, row[blockCol], err)
			}
			blocks = append(blocks, registryBlock{
				prefix:            p,
				name:              row[nameCol],
				globallyReachable: strings.TrimSpace(footnote.ReplaceAllString(row[reachCol], "")),
			})
		}
	}
	if len(blocks) < 20 {
		t.Fatalf("%s: only %d blocks read", path, len(blocks))
	}
	return blocks
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	raw := p.Masked().Addr().AsSlice()
	n := new(big.Int).SetBytes(raw)
	hostBits := uint(len(raw)*8 - p.Bits())
	n.Or(n, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), hostBits), big.NewInt(1)))
	out := make([]byte, len(raw))
	n.FillBytes(out)
	a, _ := netip.AddrFromSlice(out)
	return a
}

// midAddr is an address halfway through p.
func midAddr(p netip.Prefix) netip.Addr {
	first := new(big.Int).SetBytes(p.Masked().Addr().AsSlice())
	last := new(big.Int).SetBytes(lastAddr(p).AsSlice())
	mid := new(big.Int).Rsh(new(big.Int).Add(first, last), 1)
	out := make([]byte, len(p.Addr().AsSlice()))
	mid.FillBytes(out)
	a, _ := netip.AddrFromSlice(out)
	return a
}

// embedsIPv4 names the registry blocks whose addresses carry an IPv4
// address that a translator or tunnel delivers to: the guard judges them by
// that address (refusing 64:ff9b::a00:1 as 10.0.0.1, allowing
// 64:ff9b::808:808 as 8.8.8.8), so they are checked that way.
var embedsIPv4 = map[netip.Prefix]struct {
	private, public string // an address of the block carrying 10.0.0.1, and 8.8.8.8
}{
	netip.MustParsePrefix("::ffff:0:0/96"): {"::ffff:10.0.0.1", "::ffff:8.8.8.8"},
	netip.MustParsePrefix("64:ff9b::/96"):  {"64:ff9b::a00:1", "64:ff9b::808:808"},
	netip.MustParsePrefix("2002::/16"):     {"2002:a00:1::1", "2002:808:808::1"},
}

// TestAddressPolicyCoversIANASpecialPurposeRegistries checks the guard
// against copies of IANA's IPv4 and IPv6 special-purpose registries
// (testdata), so that a block cannot be missed again. Every block that is
// not globally reachable ("False", "N/A", or empty for terminated entries)
// must be refused at its first, middle and last address. webhookd refuses
// the globally reachable ones too (AS112 sinks, anycast relays, ORCHIDv2,
// DETs: no webhook receiver lives there), except the blocks that embed an
// IPv4 address, which are judged by that address.
func TestAddressPolicyCoversIANASpecialPurposeRegistries(t *testing.T) {
	t.Parallel()
	var policy egress.AddressPolicy
	for _, file := range []string{"testdata/iana-ipv4-special-registry.csv", "testdata/iana-ipv6-special-registry.csv"} {
		for _, b := range readRegistry(t, file) {
			t.Run(b.prefix.String(), func(t *testing.T) {
				t.Parallel()
				if forms, ok := embedsIPv4[b.prefix]; ok {
					if err := policy.Check(netip.AddrPortFrom(netip.MustParseAddr(forms.private), 443)); err == nil {
						t.Errorf("%s (%s) carrying 10.0.0.1 is allowed", forms.private, b.name)
					}
					if err := policy.Check(netip.AddrPortFrom(netip.MustParseAddr(forms.public), 443)); err != nil {
						t.Errorf("%s (%s) carrying 8.8.8.8: %v, want allowed", forms.public, b.name, err)
					}
					return
				}
				addrs := []netip.Addr{b.prefix.Masked().Addr(), midAddr(b.prefix), lastAddr(b.prefix)}
				for _, addr := range slices.Compact(addrs) {
					err := policy.Check(netip.AddrPortFrom(addr, 443))
					var refused *egress.RefusedAddressError
					if !errors.As(err, &refused) {
						t.Errorf("%s in %s (%s, globally reachable %q) is allowed", addr, b.prefix, b.name, b.globallyReachable)
					}
				}
			})
		}
	}
}

// TestAddressPolicyAllowsGlobalAddresses keeps the registry test honest: a
// guard that refused everything would pass it. These are ordinary global
// unicast addresses, some right beside special-purpose blocks.
func TestAddressPolicyAllowsGlobalAddresses(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{
		"8.8.8.8", "1.1.1.1", "93.184.215.14",
		"192.31.195.255", "192.31.197.0", // beside AS112-v4 192.31.196.0/24
		"192.88.98.255", "192.88.100.0", // beside the 6to4 relay block 192.88.99.0/24
		"192.175.47.255", "192.175.49.0", // beside AS112 192.175.48.0/24
		"2606:4700:4700::1111", "2001:4860:4860::8888",
		"2001:200::1",       // just past 2001::/23
		"2620:4f:7fff::1",   // beside AS112 2620:4f:8000::/48
		"3fff:1000::1",      // just past the documentation block 3fff::/20
		"2a00:1450:4001::1", // an ordinary RIR allocation
	} {
		if err := (egress.AddressPolicy{}).Check(netip.AddrPortFrom(netip.MustParseAddr(addr), 443)); err != nil {
			t.Errorf("%s: %v, want allowed", addr, err)
		}
	}
}
