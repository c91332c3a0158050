package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/webhookd/webhookd"
)

// codeOf is the one place where domain error kinds become gRPC codes (and,
// through the gateway, HTTP statuses: 400, 401, 403, 404, 409, 503).
func codeOf(kind webhookd.Kind) codes.Code {
	switch kind {
	case webhookd.KindInvalid:
		return codes.InvalidArgument
	case webhookd.KindNotFound:
		return codes.NotFound
	case webhookd.KindConflict:
		return codes.AlreadyExists
	case webhookd.KindUnauthenticated:
		return codes.Unauthenticated
	case webhookd.KindPermissionDenied:
		return codes.PermissionDenied
	case webhookd.KindUnavailable:
		return codes.Unavailable
	case webhookd.KindFailedPrecondition:
		return codes.FailedPrecondition
	case webhookd.KindAborted:
		return codes.Aborted
	default:
		return codes.Internal
	}
}

// toStatus turns any error a handler returns into a gRPC status. Domain
// errors keep their safe message (plus a field violation for invalid
// requests); anything else is logged and reported as a bare INTERNAL so that
// no SQL text or stack detail reaches callers.
func toStatus(ctx context.Context, logger *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	// Whether the caller gave up is the caller's context's to say, not the
	// error chain's: a domain error may wrap a deadline of webhookd's own
	// (a database connect timeout is UNAVAILABLE, not the caller's
	// DEADLINE_EXCEEDED).
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case ctxErr != nil:
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	var de *webhookd.Error
	if !errors.As(err, &de) {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, "request canceled")
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, "deadline exceeded")
		}
		logger.ErrorContext(ctx, "request failed", "method", method, "error", err)
		return status.Error(codes.Internal, "internal error")
	}
	code := codeOf(de.Kind)
	switch code {
	case codes.Internal, codes.Unavailable:
		logger.ErrorContext(ctx, "request failed", "method", method, "kind", de.Kind.String(), "error", err)
	}
	msg := de.Message
	if de.Field != "" {
		msg = de.Field + ": " + de.Message
	}
	if code == codes.Internal {
		msg = "internal error"
	}
	st := status.New(code, msg)
	if de.Kind == webhookd.KindInvalid && de.Field != "" {
		withDetails, derr := st.WithDetails(&errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: de.Field, Description: de.Message}},
		})
		if derr == nil {
			st = withDetails
		}
	}
	return st.Err()
}

// errorInterceptors map handler errors to statuses for unary and streaming calls.
func errorInterceptors(logger *slog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		return resp, toStatus(ctx, logger, info.FullMethod, err)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return toStatus(ss.Context(), logger, info.FullMethod, handler(srv, ss))
	}
	return unary, stream
}

// rateLimited is the status of a call over its account's rate limit:
// RESOURCE_EXHAUSTED (HTTP 429) with a google.rpc.RetryInfo saying when to
// retry, which the gateway also turns into a Retry-After header.
func rateLimited(rate float64, wait time.Duration) error {
	st := status.New(codes.ResourceExhausted, rateLimitMessage(rate, wait))
	if withDetails, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		st = withDetails
	}
	return st.Err()
}

// writeStatus answers an HTTP request that the gateway never saw (refused
// or failed in webhookd's HTTP middleware) in the gateway's own form: the
// HTTP status of the code, the status as JSON, and Retry-After when the
// status says when to retry.
func writeStatus(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(ri.GetRetryDelay().AsDuration())))
		}
	}
	body, _ := protojson.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(runtime.HTTPStatusFromCode(st.Code()))
	_, _ = w.Write(body)
}
