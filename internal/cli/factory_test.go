package cli

import "testing"

func TestTransport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		s         settings
		plaintext bool
		usage     bool
	}{
		{"loopback IPv4", settings{Server: "127.0.0.1:9090"}, true, false},
		{"loopback IPv6", settings{Server: "[::1]:9090"}, true, false},
		{"localhost", settings{Server: "localhost:9090"}, true, false},
		{"loopback with a CA file is TLS", settings{Server: "127.0.0.1:9090", CAFile: "ca.pem"}, false, false},
		{"remote is TLS", settings{Server: "webhooks.example.com:443"}, false, false},
		{"remote address is TLS", settings{Server: "10.0.0.5:9090"}, false, false},
		{"a name that only starts like localhost is remote", settings{Server: "localhost.example.com:443"}, false, false},
		{"remote with --plaintext", settings{Server: "10.0.0.5:9090", Plaintext: true}, true, false},
		{"no port", settings{Server: "webhooks.example.com"}, false, true},
		{"no host", settings{Server: ":9090"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, plaintext, err := transport(tt.s)
			if tt.usage {
				if !isUsage(err) {
					t.Fatalf("transport(%+v) error = %v, want a usage error", tt.s, err)
				}
				return
			}
			if err != nil || plaintext != tt.plaintext {
				t.Fatalf("transport(%+v) = plaintext %v, %v; want plaintext %v", tt.s, plaintext, err, tt.plaintext)
			}
		})
	}
}
