package payload

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Reason says why Canonicalize refused an input. Every reason is the
// publisher's fault, so callers map all of them to an "invalid argument"
// response and show Error() to the publisher.
type Reason int

const (
	// ReasonSyntax means the input is not JSON: JSON.parse would throw.
	ReasonSyntax Reason = iota + 1
	// ReasonTooDeep means the input nests arrays and objects deeper than
	// MaxDepth. Node.js would accept it if it is otherwise valid; we refuse
	// it (see the package doc). Scanning stops at the limit, so the rest of
	// the input may also be malformed.
	ReasonTooDeep
	// ReasonNotObject means CanonicalizeObject got valid JSON whose top-level
	// value is not an object.
	ReasonNotObject
)

// Error reports where and why an input was refused.
type Error struct {
	// Offset is the byte offset into the input at which the problem was
	// detected: the offending byte, or len(input) when the input ended early.
	Offset int
	Reason Reason
	// Detail says what was wrong, e.g. "expected ',' or '}' after property
	// value, found 'x'".
	Detail string
}

func (e *Error) Error() string {
	switch e.Reason {
	case ReasonTooDeep:
		return "payload: JSON nested too deeply at byte offset " + strconv.Itoa(e.Offset) + ": " + e.Detail
	case ReasonNotObject:
		return "payload: JSON value must be an object: " + e.Detail
	default:
		return "payload: invalid JSON at byte offset " + strconv.Itoa(e.Offset) + ": " + e.Detail
	}
}

// syntaxError builds a ReasonSyntax error. Formatting happens only on the
// error path, so it may use fmt.
func syntaxError(offset int, format string, args ...any) *Error {
	return &Error{Offset: offset, Reason: ReasonSyntax, Detail: fmt.Sprintf(format, args...)}
}

// describeAt names what sits at in[pos] for an error message, so a publisher
// can find it: a quoted printable ASCII character, a code point, an invalid
// UTF-8 byte, or the end of the input.
func describeAt(in []byte, pos int) string {
	if pos >= len(in) {
		return "end of input"
	}
	b := in[pos]
	switch {
	case b >= 0x20 && b < 0x7f:
		return strconv.QuoteRune(rune(b))
	case b < 0x80:
		return fmt.Sprintf("control character U+%04X", b)
	}
	r, size := utf8.DecodeRune(in[pos:])
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("invalid UTF-8 byte 0x%02X", b)
	}
	return fmt.Sprintf("character U+%04X %q", r, r)
}
