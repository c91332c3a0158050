package webhookd

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it. The transport
// layer maps each kind to one gRPC code (and through the gateway to one HTTP
// status) in a single place, so handlers never choose status codes themselves.
type Kind int

const (
	// KindInternal is a fault of webhookd itself; its detail is logged, never
	// shown to the caller.
	KindInternal Kind = iota
	// KindInvalid means the request is malformed; Field names the offending field.
	KindInvalid
	// KindNotFound means the resource does not exist or belongs to another account.
	KindNotFound
	// KindConflict means the request clashes with the current state.
	KindConflict
	// KindUnauthenticated means no valid credential was presented.
	KindUnauthenticated
	// KindPermissionDenied means the credential may not perform this action.
	KindPermissionDenied
	// KindUnavailable means a dependency is down; retrying later may succeed.
	KindUnavailable
	// KindFailedPrecondition means the resource is not in a state that allows the action.
	KindFailedPrecondition
	// KindAborted means the resource changed since the caller read it (a
	// stale etag); reading it again and redoing the change may succeed.
	KindAborted
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindPermissionDenied:
		return "permission_denied"
	case KindUnavailable:
		return "unavailable"
	case KindFailedPrecondition:
		return "failed_precondition"
	case KindAborted:
		return "aborted"
	default:
		return "internal"
	}
}

// Error is the error type of the domain. Message is safe to show to callers;
// Err, when set, is the underlying cause and is only logged.
type Error struct {
	Kind    Kind
	Field   string // request field at fault, for KindInvalid (e.g. "endpoint.url")
	Message string
	Err     error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf reports the kind of err, KindInternal for errors that carry none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Invalid reports that field of the request is unacceptable.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that the named resource does not exist for the caller.
func NotFound(resource, id string) *Error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf("%s %q not found", resource, id)}
}

// Conflict reports a clash with current state.
func Conflict(format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Message: fmt.Sprintf(format, args...)}
}

// FailedPrecondition reports that the resource's state does not allow the action.
func FailedPrecondition(format string, args ...any) *Error {
	return &Error{Kind: KindFailedPrecondition, Message: fmt.Sprintf(format, args...)}
}

// Aborted reports that a write lost a race: what it was based on changed.
func Aborted(format string, args ...any) *Error {
	return &Error{Kind: KindAborted, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a failure of a dependency the caller may retry.
func Unavailable(message string, err error) *Error {
	return &Error{Kind: KindUnavailable, Message: message, Err: err}
}

// Internal wraps an unexpected failure; message stays generic for callers.
func Internal(message string, err error) *Error {
	return &Error{Kind: KindInternal, Message: message, Err: err}
}
