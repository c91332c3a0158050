package app

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// --pprof-addr takes loopback addresses only, and --help does not show it.
func TestPprofAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		wantErr string
	}{
		{"", ""},
		{"127.0.0.1:6060", ""},
		{"[::1]:0", ""},
		{"0.0.0.0:6060", "--pprof-addr (WEBHOOKD_PPROF_ADDR): 0.0.0.0 is not a loopback address"},
		{"10.1.2.3:6060", "is not a loopback address"},
		{"localhost:6060", "is not ip:port"},
		{":6060", "is not ip:port"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig([]string{"--pprof-addr=" + tt.addr}, func(string) string { return "" }, io.Discard)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	var help strings.Builder
	_, _ = ParseConfig([]string{"--help"}, func(string) string { return "" }, &help)
	if strings.Contains(help.String(), "pprof") {
		t.Errorf("--help shows --pprof-addr:\n%s", help.String())
	}
}

func TestServePprof(t *testing.T) {
	t.Parallel()
	srv, addr, err := servePprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/debug/pprof/cmdline: %s", resp.Status)
	}
	srv.Close()
	if resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline"); err == nil {
		resp.Body.Close()
		t.Error("pprof answered after Close")
	}
}
