package cli

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/webhookd/webhookd/internal/cli/listen"
)

// Exit statuses of webhookctl.
const (
	ExitOK    = 0
	ExitError = 1 // the API or the network failed, or a check did not pass
	ExitUsage = 2 // bad flags or arguments: nothing was sent
)

// usageError is a mistake in the command line. It exits with ExitUsage and
// is followed by a hint to run --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef makes a usageError.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// silentError has already been reported on stdout or stderr (a verification
// that failed, a test event the endpoint refused): only the exit status is
// left to set.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// cobraUsageMessages start the errors cobra itself returns for a bad command
// line; they are not typed, so they are recognised by their text.
var cobraUsageMessages = []string{
	"unknown command", "unknown flag", "unknown shorthand flag", "required flag",
	"if any flags in the group", "at least one of the flags in the group",
	"accepts ", "requires at least", "invalid argument", "flag needs an argument",
}

// exitCode is the exit status for an error Execute returned.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var silent *silentError
	if errors.As(err, &silent) {
		return silent.code
	}
	if isUsage(err) {
		return ExitUsage
	}
	return ExitError
}

func isUsage(err error) bool {
	var ue *usageError
	var listenUsage *listen.UsageError
	if errors.As(err, &ue) || errors.As(err, &listenUsage) {
		return true
	}
	if _, ok := status.FromError(err); ok && status.Code(err) != codes.Unknown {
		return false
	}
	msg := err.Error()
	for _, prefix := range cobraUsageMessages {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// describeError is the message printed for err: for a gRPC status, its code
// and message, each field violation on its own line, and a hint for the
// failures a user can fix from here.
func describeError(err error, server string) string {
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", codeName(st.Code()), st.Message())
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				line := v.GetField() + ": " + v.GetDescription()
				if line == st.Message() {
					continue // the message says it already
				}
				fmt.Fprintf(&b, "\n  %s", line)
			}
		case *errdetails.RetryInfo:
			if d.GetRetryDelay() != nil {
				fmt.Fprintf(&b, "\n  retry after %s", d.GetRetryDelay().AsDuration())
			}
		}
	}
	switch st.Code() {
	case codes.Unauthenticated:
		b.WriteString("\n  check the API key: --api-key, WEBHOOKD_API_KEY or 'webhookctl login'")
	case codes.PermissionDenied:
		b.WriteString("\n  this call needs a key allowed to make it (accounts and api-keys need an internal key)")
	case codes.Unavailable:
		fmt.Fprintf(&b, "\n  is webhookd running and reachable at %s? (--server, WEBHOOKD_SERVER)", server)
	}
	return b.String()
}

// codeName is the canonical upper-case name of a gRPC code, as the API
// documentation spells them (NOT_FOUND, not NotFound).
func codeName(c codes.Code) string {
	switch c {
	case codes.OK:
		return "OK"
	case codes.Canceled:
		return "CANCELLED"
	case codes.Unknown:
		return "UNKNOWN"
	case codes.InvalidArgument:
		return "INVALID_ARGUMENT"
	case codes.DeadlineExceeded:
		return "DEADLINE_EXCEEDED"
	case codes.NotFound:
		return "NOT_FOUND"
	case codes.AlreadyExists:
		return "ALREADY_EXISTS"
	case codes.PermissionDenied:
		return "PERMISSION_DENIED"
	case codes.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	case codes.FailedPrecondition:
		return "FAILED_PRECONDITION"
	case codes.Aborted:
		return "ABORTED"
	case codes.OutOfRange:
		return "OUT_OF_RANGE"
	case codes.Unimplemented:
		return "UNIMPLEMENTED"
	case codes.Internal:
		return "INTERNAL"
	case codes.Unavailable:
		return "UNAVAILABLE"
	case codes.DataLoss:
		return "DATA_LOSS"
	case codes.Unauthenticated:
		return "UNAUTHENTICATED"
	}
	return c.String()
}
