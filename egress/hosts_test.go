package egress_test

import (
	"testing"

	"github.com/webhookd/webhookd/egress"
)

func TestIsNonCanonicalIPv4(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"example.com", false},
		{"192.0.2.10", false},
		{"::1", false},       // IPv6 literals are judged elsewhere
		{"v1.0x7g", false},   // "0x7g" is not a number: a name
		{"api.v2", false},    // a name whose last label has letters
		{"2130706433", true}, // 127.0.0.1 as one decimal number
		{"0177.0.0.1", true}, // octal
		{"0x7f.0.0.1", true}, // hex
		{"127.1", true},      // shortened
		{"127.0.0.1.", true}, // trailing dot
		{"010.0.0.1", true},  // a leading zero reads as octal to inet_aton
		{"host.123", true},   // the URL standard reads a numeric last label as IPv4
		{"0x", true},         // "0x" alone is the number 0 to the URL standard
		{"999.0.0.1", true},  // out of range: not an address, but read as one
	}
	for _, tt := range tests {
		if got := egress.IsNonCanonicalIPv4(tt.host); got != tt.want {
			t.Errorf("IsNonCanonicalIPv4(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}
