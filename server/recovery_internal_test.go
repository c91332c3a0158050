package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// idleStream is a server stream with nothing but a context.
type idleStream struct{ grpc.ServerStream }

func (idleStream) Context() context.Context { return context.Background() }

// TestStreamPanicAnswersInternal checks the streaming interceptor: webhookd
// serves no stream whose handler can be made to panic from outside, so the
// interceptor is called directly.
func TestStreamPanicAnswersInternal(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	r, err := newPanicRecovery(slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	_, stream := r.interceptors()
	err = stream(nil, idleStream{}, &grpc.StreamServerInfo{FullMethod: "/webhooks.v1.WebhookService/ListenEndpoint"},
		func(any, grpc.ServerStream) error { panic("stream exploded") })
	if status.Code(err) != codes.Internal {
		t.Fatalf("got %v, want INTERNAL", err)
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if want := `webhookd_handler_panics_total{transport="grpc"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("metrics lack %s:\n%s", want, rec.Body.String())
	}
}
