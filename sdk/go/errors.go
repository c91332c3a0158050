package webhookd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is how every call through a [Client] fails: webhookd's gRPC status,
// with its details made easy to reach. It implements GRPCStatus, so
// status.Code(err) and status.FromError(err) keep working.
//
//	var e *webhookd.Error
//	if errors.As(err, &e) && e.Code() == codes.InvalidArgument {
//		for _, v := range e.FieldViolations() { … v.Field, v.Description … }
//	}
type Error struct {
	st *status.Status
}

// FieldViolation is one field webhookd refused and why: Field is the
// request's field path ("endpoint.url", "event_types[0]").
type FieldViolation struct {
	Field       string
	Description string
}

func (e *Error) Error() string {
	return fmt.Sprintf("webhookd: %s: %s", e.st.Code(), e.st.Message())
}

// Code is the gRPC code: InvalidArgument for a bad field, NotFound,
// ResourceExhausted when rate-limited, Unavailable, …
func (e *Error) Code() codes.Code { return e.st.Code() }

// Message is webhookd's message, without the code.
func (e *Error) Message() string { return e.st.Message() }

// GRPCStatus is the status itself, details included.
func (e *Error) GRPCStatus() *status.Status { return e.st }

// FieldViolations are the fields of the request that webhookd refused (its
// google.rpc.BadRequest detail); none for other failures.
func (e *Error) FieldViolations() []FieldViolation {
	var out []FieldViolation
	for _, d := range e.st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return out
}

// RetryDelay is how long webhookd asked the caller to wait before trying
// again (its google.rpc.RetryInfo detail, sent with RESOURCE_EXHAUSTED when
// rate-limited), and whether it asked at all.
func (e *Error) RetryDelay() (time.Duration, bool) { return retryInfoDelay(e.st) }

// Is makes errors.Is(err, context.Canceled) and errors.Is(err,
// context.DeadlineExceeded) hold for calls that ended that way.
func (e *Error) Is(target error) bool {
	switch target {
	case context.Canceled:
		return e.st.Code() == codes.Canceled
	case context.DeadlineExceeded:
		return e.st.Code() == codes.DeadlineExceeded
	}
	return false
}

// toError is err as an *Error. gRPC's client returns statuses only, so the
// fallback (codes.Unknown) is for errors of interceptors added by the caller.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	st, ok := status.FromError(err)
	if !ok {
		st = status.New(codes.Unknown, err.Error())
	}
	return &Error{st: st}
}

// wrapStreamErrors makes streaming calls fail with *Error too.
func wrapStreamErrors(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, toError(err)
	}
	return errorStream{s}, nil
}

type errorStream struct{ grpc.ClientStream }

func (s errorStream) RecvMsg(m any) error {
	if err := s.ClientStream.RecvMsg(m); err != nil {
		if errors.Is(err, io.EOF) {
			return err // the end of the stream, as callers test for it
		}
		return toError(err)
	}
	return nil
}

func (s errorStream) SendMsg(m any) error {
	if err := s.ClientStream.SendMsg(m); err != nil {
		if errors.Is(err, io.EOF) {
			return err // the server ended the stream: RecvMsg has its status
		}
		return toError(err)
	}
	return nil
}
