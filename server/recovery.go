package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// This file turns a panic in a request handler into an INTERNAL answer for
// that one request. Without it a panicking gRPC handler ends the process,
// and with it every API call in flight and the delivery workers that share
// the process; net/http survives a handler's panic but drops the
// connection without an answer. Each recovered panic is logged with its
// stack and counted in webhookd_handler_panics_total{transport}.

// panicRecovery logs and counts recovered panics.
type panicRecovery struct {
	logger *slog.Logger
	panics *prometheus.CounterVec
}

// newPanicRecovery registers the panic counter on reg (when not nil).
func newPanicRecovery(logger *slog.Logger, reg prometheus.Registerer) (*panicRecovery, error) {
	r := &panicRecovery{
		logger: logger,
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_handler_panics_total",
			Help: "Request handlers that panicked and were answered INTERNAL instead of ending the process, by transport (grpc, http).",
		}, []string{"transport"}),
	}
	// Both series exist from the start, so that alerts on an increase see
	// the first panic.
	r.panics.WithLabelValues("grpc")
	r.panics.WithLabelValues("http")
	if reg != nil {
		if err := reg.Register(r.panics); err != nil {
			return nil, err
		}
	}
	return r, nil
}

var errPanicked = status.Error(codes.Internal, "internal error")

// recovered logs a recovered panic value with the stack of the goroutine
// that panicked (recover runs on it, so debug.Stack still shows the
// handler's frames) and counts it.
func (r *panicRecovery) recovered(ctx context.Context, transport, method string, v any) {
	r.panics.WithLabelValues(transport).Inc()
	r.logger.ErrorContext(ctx, "request handler panicked; answered INTERNAL",
		"transport", transport, "method", method, "panic", v, "stack", string(debug.Stack()))
}

// interceptors return the unary and stream interceptors that recover. They
// go first in the chain, so a panic in any later interceptor is caught too.
func (r *panicRecovery) interceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				r.recovered(ctx, "grpc", info.FullMethod, v)
				resp, err = nil, errPanicked
			}
		}()
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				r.recovered(ss.Context(), "grpc", info.FullMethod, v)
				err = errPanicked
			}
		}()
		return handler(srv, ss)
	}
	return unary, stream
}

// middleware recovers panics of HTTP handlers: the client gets HTTP 500
// with the gateway's JSON status (code INTERNAL) when nothing was written
// yet; otherwise the connection is closed, since a half-written answer
// cannot be mended. http.ErrAbortHandler is net/http's own way to abort a
// response and is passed on.
func (r *panicRecovery) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			r.recovered(req.Context(), "http", req.Method+" "+req.URL.Path, v)
			if rec.status != 0 {
				panic(http.ErrAbortHandler)
			}
			writeStatus(w, errPanicked)
		}()
		next.ServeHTTP(rec, req)
	})
}

// statusRecorder remembers the status code a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush keeps streamed responses (the gateway's server streams) working
// through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		if s.status == 0 {
			s.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
