package server

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// This file bounds what one client connection may hold of the process, so
// that slow or idle clients cannot take its file descriptors: a client that
// sent headers and then one body byte held its HTTP connection for ever,
// and about 1,100 of them left webhookd without descriptors (/healthz, the
// database and receivers included). Every HTTP connection now has deadlines
// for its request, its answer and its idle time, the listener accepts at
// most HTTPMaxConns at once (the rest wait in the kernel's accept queue),
// and gRPC connections must finish their handshake, stay reachable and not
// sit idle.

// Defaults of the Config fields of the same names.
const (
	// DefaultHTTPReadHeaderTimeout bounds reading a request's headers.
	DefaultHTTPReadHeaderTimeout = 10 * time.Second
	// DefaultHTTPReadTimeout bounds reading a whole request, body included:
	// the largest body (576 KiB by default) needs about 20 KiB/s.
	DefaultHTTPReadTimeout = 30 * time.Second
	// DefaultHTTPWriteTimeout bounds a request from the end of its headers
	// to the end of its answer; it must outlast the longest call
	// (SendTestEvent with wait), and the app sets it from that.
	DefaultHTTPWriteTimeout = 2 * time.Minute
	// DefaultHTTPIdleTimeout closes a keep-alive connection idle this long.
	DefaultHTTPIdleTimeout = 2 * time.Minute
	// DefaultHTTPMaxHeaderBytes bounds a request's headers (net/http's
	// own default is 1 MiB; webhookd's headers are a token and a few more).
	DefaultHTTPMaxHeaderBytes = 64 << 10
	// DefaultHTTPMaxConns bounds the HTTP connections open at once.
	DefaultHTTPMaxConns = 1024
	// DefaultGRPCHandshakeTimeout bounds a new gRPC connection's setup
	// (gRPC's own default is 120 s).
	DefaultGRPCHandshakeTimeout = 10 * time.Second
	// DefaultGRPCMaxConnectionIdle closes a gRPC connection that has had no
	// call in flight for this long; clients reconnect on their next call.
	DefaultGRPCMaxConnectionIdle = 5 * time.Minute
	// DefaultGRPCKeepaliveTime is how long a connection may be silent
	// before webhookd pings it, and DefaultGRPCKeepaliveTimeout how long
	// the answer may take before the connection is closed: a peer that
	// vanished (a cut network, a killed host) is noticed.
	DefaultGRPCKeepaliveTime    = 2 * time.Minute
	DefaultGRPCKeepaliveTimeout = 20 * time.Second
	// DefaultGRPCKeepaliveMinTime is the shortest interval at which a
	// client may ping; a client pinging more often is sent GOAWAY
	// (too_many_pings) and disconnected, pings being cheap to send and not
	// free to answer.
	DefaultGRPCKeepaliveMinTime = 20 * time.Second
)

// setTransportDefaults fills the zero timeouts and caps of c.
func (c *Config) setTransportDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HTTPReadHeaderTimeout, DefaultHTTPReadHeaderTimeout)
	def(&c.HTTPReadTimeout, DefaultHTTPReadTimeout)
	def(&c.HTTPWriteTimeout, DefaultHTTPWriteTimeout)
	def(&c.HTTPIdleTimeout, DefaultHTTPIdleTimeout)
	def(&c.GRPCHandshakeTimeout, DefaultGRPCHandshakeTimeout)
	def(&c.GRPCMaxConnectionIdle, DefaultGRPCMaxConnectionIdle)
	def(&c.GRPCKeepaliveTime, DefaultGRPCKeepaliveTime)
	def(&c.GRPCKeepaliveTimeout, DefaultGRPCKeepaliveTimeout)
	def(&c.GRPCKeepaliveMinTime, DefaultGRPCKeepaliveMinTime)
	if c.HTTPMaxHeaderBytes == 0 {
		c.HTTPMaxHeaderBytes = DefaultHTTPMaxHeaderBytes
	}
	if c.HTTPMaxConns == 0 {
		c.HTTPMaxConns = DefaultHTTPMaxConns
	}
}

// grpcConnectionOptions are the gRPC server's connection bounds.
func (c *Config) grpcConnectionOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ConnectionTimeout(c.GRPCHandshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: c.GRPCMaxConnectionIdle,
			Time:              c.GRPCKeepaliveTime,
			Timeout:           c.GRPCKeepaliveTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime: c.GRPCKeepaliveMinTime,
			// Clients that keep an idle connection warm with pings are
			// welcome, at MinTime.
			PermitWithoutStream: true,
		}),
	}
}
