package server

import (
	"net/netip"
	"testing"
	"time"
)

// TestAuthFailureClientAddr checks whose address a call counts against:
// the peer's, unless the peer is a trusted proxy, in which case the last
// untrusted hop of X-Forwarded-For; IPv6 clients by their /64.
func TestAuthFailureClientAddr(t *testing.T) {
	t.Parallel()
	l, err := NewAuthFailureLimiter(AuthFailureConfig{Rate: 1, Burst: 1, TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"untrusted peer: its header is ignored", "203.0.113.7", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted proxy: the client it names", "10.1.2.3", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a chain of proxies: the last untrusted hop", "10.1.2.3", []string{"192.0.2.9, 198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"trusted proxy without a header: the proxy", "10.1.2.3", nil, "10.1.2.3"},
		{"a mangled hop: the last good one", "10.1.2.3", []string{"garbage"}, "10.1.2.3"},
		{"IPv6 by /64", "2001:db8:1:2:3:4:5:6", nil, "2001:db8:1:2::"},
		{"IPv4-mapped IPv6", "::ffff:203.0.113.7", nil, "203.0.113.7"},
		{"IPv6 proxy", "fd00::1", []string{"2001:db8::77"}, "2001:db8::"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := l.clientAddr(netip.MustParseAddr(tc.remote), tc.xff); got != netip.MustParseAddr(tc.want) {
				t.Fatalf("clientAddr(%s, %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
			}
		})
	}
}

// TestAuthFailureBudget checks the budget: Burst failures at once, then
// one per 1/Rate, and a full budget again after a quiet spell.
func TestAuthFailureBudget(t *testing.T) {
	t.Parallel()
	addr := netip.MustParseAddr("203.0.113.7")
	clock := mustTime("2026-12-01T00:00:00Z")
	l, err := NewAuthFailureLimiter(AuthFailureConfig{Rate: 1, Burst: 3, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if limited, _ := l.limited(addr); limited {
			t.Fatalf("limited after %d failures, burst 3", i)
		}
		l.failed(addr)
	}
	if limited, wait := l.limited(addr); !limited || wait != time.Second {
		t.Fatalf("after 3 failures: limited %v, wait %s; want limited for 1s", limited, wait)
	}
	clock = clock.Add(time.Second)
	if limited, _ := l.limited(addr); limited {
		t.Fatal("still limited once one failure's worth refilled")
	}
	l.failed(addr)
	if limited, _ := l.limited(addr); !limited {
		t.Fatal("not limited after spending the refilled failure")
	}
	clock = clock.Add(time.Minute)
	for range 3 {
		if limited, _ := l.limited(addr); limited {
			t.Fatal("limited after a quiet minute")
		}
		l.failed(addr)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
