package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/webhookd/webhookd"
)

// TestToStatusContext checks that DEADLINE_EXCEEDED and CANCELLED answer
// only for the caller's own context: a domain error that wraps a deadline
// of webhookd's (a database connect timeout) keeps its kind.
func TestToStatusContext(t *testing.T) {
	t.Parallel()
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancelExpired()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	connectTimeout := webhookd.Unavailable("database unavailable: connect timeout", fmt.Errorf("dial: %w", context.DeadlineExceeded))
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want codes.Code
	}{
		{"own timeout, caller waiting", context.Background(), connectTimeout, codes.Unavailable},
		{"own timeout, caller's deadline passed", expired, connectTimeout, codes.DeadlineExceeded},
		{"caller cancelled", cancelled, connectTimeout, codes.Canceled},
		{"bare deadline", context.Background(), fmt.Errorf("query: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{"bare cancel", context.Background(), context.Canceled, codes.Canceled},
		{"not found", context.Background(), webhookd.NotFound("endpoint", "ep_1"), codes.NotFound},
		{"unknown", context.Background(), errors.New("boom"), codes.Internal},
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := status.Code(toStatus(tt.ctx, logger, "/test", tt.err)); got != tt.want {
				t.Errorf("toStatus = %v, want %v", got, tt.want)
			}
		})
	}
}
