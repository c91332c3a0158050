package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// pprofFlag is --pprof-addr, left out of --help: it serves the Go runtime's
// profiles (CPU, heap, goroutines with their stacks) to whoever reaches the
// address, so it is for a developer profiling webhookd under make bench,
// and only on loopback.
const pprofFlag = "pprof-addr"

// checkPprofAddr accepts "" (off) or a loopback IP address with a port.
func checkPprofAddr(addr string) error {
	if addr == "" {
		return nil
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not ip:port, e.g. 127.0.0.1:6060", addr)
	}
	if !ap.Addr().IsLoopback() {
		return fmt.Errorf("%s is not a loopback address: the profiles show the process's internals", ap.Addr())
	}
	return nil
}

// servePprof serves /debug/pprof/ on addr until the returned server is
// closed, and says where it listens. It uses its own mux: net/http/pprof's init registers on
// http.DefaultServeMux, which nothing else here serves.
func servePprof(addr string, logger *slog.Logger) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("--%s: %w", pprofFlag, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("pprof server stopped", "error", err)
		}
	}()
	logger.Info("serving pprof", "addr", ln.Addr().String())
	return srv, ln.Addr().String(), nil
}
