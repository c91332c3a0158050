package app

import (
	"net"
	"net/url"
	"testing"
)

// TestDashboardURL: portal links point at the configured address, or at
// the HTTP listener, with a wildcard address made one a browser can open.
func TestDashboardURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		configured, addr, want string
	}{
		{"", "127.0.0.1:8080", "http://127.0.0.1:8080/"},
		{"", "0.0.0.0:8080", "http://localhost:8080/"},
		{"", "[::]:8080", "http://localhost:8080/"},
		{"", "[::1]:8443", "http://[::1]:8443/"},
		{"https://webhooks.example.com/", "0.0.0.0:8080", "https://webhooks.example.com/"},
	}
	for _, tc := range tests {
		t.Run(tc.addr+" "+tc.configured, func(t *testing.T) {
			t.Parallel()
			addr, err := net.ResolveTCPAddr("tcp", tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			var configured *url.URL
			if tc.configured != "" {
				if configured, err = url.Parse(tc.configured); err != nil {
					t.Fatal(err)
				}
			}
			if got := dashboardURL(configured, addr); got != tc.want {
				t.Errorf("dashboardURL(%q, %s) = %q, want %q", tc.configured, tc.addr, got, tc.want)
			}
		})
	}
}
