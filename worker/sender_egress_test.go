package worker_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/worker"
)

// fakeDNS is a DNS server on loopback UDP that answers A and AAAA queries
// from a fixed table, so that tests can make any hostname resolve to any
// address. It speaks just enough of RFC 1035 for Go's resolver.
type fakeDNS struct {
	conn    net.PacketConn
	records map[string][]netip.Addr // lower-case name without the final dot
}

func startFakeDNS(t *testing.T, records map[string][]netip.Addr) *fakeDNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDNS{conn: conn, records: records}
	done := make(chan struct{})
	go func() { defer close(done); d.serve() }()
	t.Cleanup(func() { _ = conn.Close(); <-done })
	return d
}

// resolver returns a Go resolver that asks only this server.
func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "udp", d.conn.LocalAddr().String())
		},
	}
}

func (d *fakeDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if reply := d.answer(buf[:n]); reply != nil {
			_, _ = d.conn.WriteTo(reply, from)
		}
	}
}

// answer builds the reply to one query, nil for a malformed one.
func (d *fakeDNS) answer(q []byte) []byte {
	const (
		typeA    = 1
		typeAAAA = 28
	)
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	var labels []string
	off := 12
	for {
		if off >= len(q) {
			return nil
		}
		n := int(q[off])
		off++
		if n == 0 {
			break
		}
		if n > 63 || off+n > len(q) {
			return nil
		}
		labels = append(labels, strings.ToLower(string(q[off:off+n])))
		off += n
	}
	if off+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[off : off+2])
	question := q[12 : off+4]

	addrs, known := d.records[strings.Join(labels, ".")]
	var answers [][]byte
	for _, a := range addrs {
		switch {
		case qtype == typeA && a.Is4():
			b := a.As4()
			answers = append(answers, b[:])
		case qtype == typeAAAA && a.Is6():
			b := a.As16()
			answers = append(answers, b[:])
		}
	}
	flags := uint16(0x8000 | 0x0400 | 0x0080) // response, authoritative, recursion available
	flags |= binary.BigEndian.Uint16(q[2:4]) & 0x0100
	if !known {
		flags |= 3 // NXDOMAIN
	}
	reply := make([]byte, 12, 512)
	copy(reply[0:2], q[0:2])
	binary.BigEndian.PutUint16(reply[2:4], flags)
	binary.BigEndian.PutUint16(reply[4:6], 1)
	binary.BigEndian.PutUint16(reply[6:8], uint16(len(answers)))
	reply = append(reply, question...)
	for _, rdata := range answers {
		reply = append(reply, 0xc0, 12) // the name: a pointer to the question's
		reply = binary.BigEndian.AppendUint16(reply, qtype)
		reply = binary.BigEndian.AppendUint16(reply, 1) // class IN
		reply = binary.BigEndian.AppendUint32(reply, 60)
		reply = binary.BigEndian.AppendUint16(reply, uint16(len(rdata)))
		reply = append(reply, rdata...)
	}
	return reply
}

// TestSSRFGuardRefusesAfterDNS proves that the guard judges the address a
// hostname resolves to, at connect time: "localhost" is a fine-looking name
// whose addresses are loopback, and the receiver listening there must get
// no request at all.
func TestSSRFGuardRefusesAfterDNS(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sender, err := worker.NewSender(worker.SenderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sender.Close)
	for _, host := range []string{"localhost", "127.0.0.1", "[::ffff:127.0.0.1]"} {
		res := sender.Send(t.Context(), worker.Request{
			URL: "http://" + host + ":" + port + "/hook", Body: []byte(`{}`), MessageID: "evt_1", Secrets: []string{testSecret},
		})
		if !strings.HasPrefix(res.Err, "refused to connect to ") || !strings.Contains(res.Err, "loopback address (allow it with --allow-cidr)") {
			t.Errorf("%s: Err = %q, want a loopback refusal", host, res.Err)
		}
		if res.OK() || res.StatusCode != 0 {
			t.Errorf("%s: result %+v, want a failure without response", host, res)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests; the guard must refuse before connecting", n)
	}
}

// TestSSRFGuardRefusesResolvedAddresses makes hostnames resolve, through a
// real DNS exchange, to every kind of address the guard refuses, and checks
// each attempt is refused at connect time with the address and the reason.
// Every name also listens on the port of a loopback receiver, which must get
// no request: the loopback forms would reach it if the guard let them by.
func TestSSRFGuardRefusesResolvedAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	cases := []struct {
		name  string
		addrs []string
		// dialled is the address the guard sees and names; reason its verdict.
		dialled, reason string
	}{
		{"private.example", []string{"10.0.0.1"}, "10.0.0.1", "private address"},
		{"private-172.example", []string{"172.20.1.1"}, "172.20.1.1", "private address"},
		{"private-192.example", []string{"192.168.0.10"}, "192.168.0.10", "private address"},
		{"loopback.example", []string{"127.0.0.1"}, "127.0.0.1", "loopback address"},
		{"loopback-other.example", []string{"127.45.6.7"}, "127.45.6.7", "loopback address"},
		{"link-local.example", []string{"169.254.10.20"}, "169.254.10.20", "link-local address"},
		{"cgnat.example", []string{"100.64.1.2"}, "100.64.1.2", "carrier-grade NAT address"},
		{"metadata.example", []string{"169.254.169.254"}, "169.254.169.254", "cloud metadata address"},
		{"unspecified.example", []string{"0.0.0.0"}, "0.0.0.0", "unspecified address"},
		{"v6-loopback.example", []string{"::1"}, "[::1]", "loopback address"},
		{"v6-link-local.example", []string{"fe80::1"}, "[fe80::1]", "link-local address"},
		{"v6-private.example", []string{"fc00::1"}, "[fc00::1]", "private address"},
		{"v6-private-fd.example", []string{"fd12:3456::1"}, "[fd12:3456::1]", "private address"},
		{"v6-metadata.example", []string{"fd00:ec2::254"}, "[fd00:ec2::254]", "cloud metadata address"},
		// Go dials an IPv4-mapped answer as the IPv4 address it carries.
		{"v6-mapped-loopback.example", []string{"::ffff:127.0.0.1"}, "127.0.0.1", "loopback address"},
		{"v6-mapped-metadata.example", []string{"::ffff:169.254.169.254"}, "169.254.169.254", "cloud metadata address"},
		{"nat64-metadata.example", []string{"64:ff9b::a9fe:a9fe"}, "[64:ff9b::a9fe:a9fe]",
			"IPv4 cloud metadata address 169.254.169.254 embedded in an IPv6 address"},
		{"nat64-loopback.example", []string{"64:ff9b::7f00:1"}, "[64:ff9b::7f00:1]",
			"IPv4 loopback address 127.0.0.1 embedded in an IPv6 address"},
		{"6to4-loopback.example", []string{"2002:7f00:1::"}, "[2002:7f00:1::]",
			"IPv4 loopback address 127.0.0.1 embedded in an IPv6 address"},
		{"6to4-private.example", []string{"2002:a00:1::1"}, "[2002:a00:1::1]",
			"IPv4 private address 10.0.0.1 embedded in an IPv6 address"},
	}
	records := map[string][]netip.Addr{}
	for _, tc := range cases {
		for _, a := range tc.addrs {
			records[tc.name] = append(records[tc.name], netip.MustParseAddr(a))
		}
	}
	// A name with several refused addresses: every one is refused, none is
	// reached, whichever the dialler tries first.
	records["many.example"] = []netip.Addr{netip.MustParseAddr("10.1.1.1"), netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
	records["allowed.example"] = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	dns := startFakeDNS(t, records)

	guarded := newTestSender(t, worker.SenderConfig{Timeout: 5 * time.Second, AllowCIDRs: []netip.Prefix{}, Resolver: dns.resolver()})
	// The guard runs once the dialler has a socket for the address; where
	// the kernel has no IPv6 at all, making the socket fails first, so the
	// attempt still fails but with another message.
	ipv6 := true
	if l, err := net.ListenTCP("tcp6", &net.TCPAddr{IP: net.IPv6unspecified}); err != nil {
		ipv6 = false
	} else {
		_ = l.Close()
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if strings.HasPrefix(tc.dialled, "[") && !ipv6 {
				t.Skip("this machine cannot open IPv6 sockets, so the dialler fails before the guard runs")
			}
			res := guarded.Send(t.Context(), request("http://"+tc.name+":"+strconv.Itoa(port)+"/hook"))
			want := "refused to connect to " + tc.dialled + ":" + strconv.Itoa(port) + ": " + tc.reason + " (allow it with --allow-cidr)"
			if res.Err != want || res.StatusCode != 0 {
				t.Errorf("result %+v\nwant Err %q", res, want)
			}
		})
	}
	t.Run("many.example", func(t *testing.T) {
		t.Parallel()
		res := guarded.Send(t.Context(), request("http://many.example:"+strconv.Itoa(port)+"/hook"))
		if !strings.HasPrefix(res.Err, "refused to connect to ") || res.StatusCode != 0 {
			t.Errorf("result %+v, want a refusal", res)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		t.Parallel()
		res := guarded.Send(t.Context(), request("http://unknown.example:"+strconv.Itoa(port)+"/hook"))
		if res.Err != "DNS lookup of unknown.example failed: no such host" {
			t.Errorf("Err = %q, want a failed lookup", res.Err)
		}
	})
	// The same resolver with loopback allowed does reach the receiver, which
	// shows the names above really resolved and were refused by the guard.
	t.Run("allowed by --allow-cidr", func(t *testing.T) {
		t.Parallel()
		var h atomic.Int32
		ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { h.Add(1) }))
		t.Cleanup(ok.Close)
		allowed := newTestSender(t, worker.SenderConfig{Timeout: 5 * time.Second, Resolver: dns.resolver()})
		okPort := ok.Listener.Addr().(*net.TCPAddr).Port
		if res := allowed.Send(t.Context(), request("http://allowed.example:"+strconv.Itoa(okPort)+"/hook")); !res.OK() || h.Load() != 1 {
			t.Fatalf("result %+v, %d requests; want a delivery to the allowed address", res, h.Load())
		}
	})
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("the loopback receiver got %d requests; the guard must refuse before connecting", n)
		}
	})
}

// TestSSRFGuardRefusesNonCanonicalIPv4 sends to IPv4 addresses written the
// ways inet_aton and browsers accept but dotted decimal does not. They are
// refused before any lookup, whatever the system resolver would make of
// them, and the loopback receiver they all denote gets nothing.
func TestSSRFGuardRefusesNonCanonicalIPv4(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	// Loopback is allowed here: only the form is at fault. The timeout is
	// generous so that a loaded machine cannot turn a refusal into a timeout.
	sender := newTestSender(t, worker.SenderConfig{Timeout: 5 * time.Second})
	for _, host := range []string{
		"2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "127.0.1", "0177.1",
		"127.0.0.1.", "017700000001", "0X7F.0.0.1", "1.2.3.4.5", "example.0x10", "2852039166",
	} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			res := sender.Send(t.Context(), request("http://"+host+":"+port+"/hook"))
			want := "refused to connect to " + host + ": a numeric host must be a dotted-decimal IPv4 address"
			if !strings.HasPrefix(res.Err, want) || res.StatusCode != 0 {
				t.Errorf("result %+v, want Err starting %q", res, want)
			}
		})
	}
	t.Run("dotted decimal and names ending in a letter are dialled", func(t *testing.T) {
		t.Parallel()
		for _, host := range []string{"127.0.0.1", "localhost"} {
			if res := sender.Send(t.Context(), request("http://"+host+":"+port+"/hook")); !res.OK() {
				t.Errorf("%s: %+v", host, res)
			}
		}
	})
	t.Cleanup(func() {
		if n := hits.Load(); n != 2 {
			t.Errorf("the receiver got %d requests, want only the 2 in canonical form", n)
		}
	})
}
