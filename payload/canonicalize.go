package payload

import "strconv"

// MaxDepth is the deepest nesting of arrays and objects Canonicalize accepts;
// the top-level array or object is level 1. Node.js accepts far deeper input
// (about 4,000 levels before JSON.stringify overflows its stack), so deeper
// input is refused with ReasonTooDeep instead of being signed; see the
// package doc. Real event payloads are a handful of levels deep.
const MaxDepth = 128

// Canonicalize returns exactly the bytes Node.js produces for
// JSON.stringify(JSON.parse(raw)) with raw decoded as UTF-8 (invalid
// sequences replaced by U+FFFD), or an *Error when JSON.parse would throw or
// the input is nested deeper than MaxDepth. Its output is a fixed point: a
// receiver that parses and re-stringifies it gets the same bytes back, which
// is what makes the guide's signature check pass.
//
// Any JSON value is accepted at the top level. It is safe for concurrent use.
func Canonicalize(raw []byte) ([]byte, error) {
	return canonicalize(raw, false)
}

// CanonicalizeObject is Canonicalize for event data, which must be a JSON
// object: valid JSON of any other type is refused with ReasonNotObject.
func CanonicalizeObject(raw []byte) ([]byte, error) {
	return canonicalize(raw, true)
}

// CanonicalizeObjectSorted is CanonicalizeObject with the members of every
// object in the order a google.protobuf.Struct is written in: array-index
// keys first, ascending (as JavaScript orders them), then the other keys in
// ascending byte order. For input it returns with ok true, its output is
// exactly CanonicalizeObject's output for the input decoded into a Struct and
// written out by protojson, which is how webhookd stores event data that
// arrives as a Struct; a server can so store JSON it received as text the
// same way without the detour.
//
// ok is false, with no output and no error, for input that the detour would
// refuse or change and this function cannot be sure to treat alike: a
// duplicate key, a key whose canonical form has an escape (a quote,
// backslash or control character, whose escaped bytes sort differently from
// the string), a number beyond a double's range. The caller takes the
// detour then. Input with invalid UTF-8 or \u escapes of UTF-16 surrogates
// is the caller's to keep away: the detour refuses it, and this function
// treats it as CanonicalizeObject does.
func CanonicalizeObjectSorted(raw []byte) (out []byte, ok bool, err error) {
	c := canonicalizer{in: raw, sorted: true}
	out, err = c.canonicalize(true)
	if err != nil || c.unsorted {
		return nil, false, err
	}
	return out, true, nil
}

func canonicalize(raw []byte, requireObject bool) ([]byte, error) {
	c := canonicalizer{in: raw}
	return c.canonicalize(requireObject)
}

func (c *canonicalizer) canonicalize(requireObject bool) ([]byte, error) {
	raw := c.in
	// The output is rarely longer than the input (only when numbers expand,
	// e.g. 1e9, or invalid bytes become 3-byte U+FFFD), so one allocation
	// usually suffices.
	c.skipSpace()
	top := c.pos
	out, err := c.value(make([]byte, 0, len(raw)+8))
	if err != nil {
		return nil, err
	}
	c.skipSpace()
	if c.pos < len(raw) {
		return nil, syntaxError(c.pos, "unexpected %s after the JSON value", describeAt(raw, c.pos))
	}
	if requireObject && raw[top] != '{' {
		return nil, &Error{Offset: top, Reason: ReasonNotObject, Detail: "found " + valueKind(raw[top])}
	}
	return out, nil
}

// valueKind names the JSON type starting with b, which is known to start a
// valid value.
func valueKind(b byte) string {
	switch b {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// canonicalizer is the state of one Canonicalize call. It reads in from
// pos; members and the scratch slices are reused by every object of the call
// so that reordering keys does not allocate per object.
//
// The output is not a field: every method takes the output so far and
// returns it extended. Storing a slice into a struct behind a pointer costs
// a GC write barrier on every append, which profiling showed to be a tenth
// of the run time; locals and results need none.
type canonicalizer struct {
	in    []byte
	pos   int
	depth int

	// members is a stack of the members of the objects being parsed: each
	// object owns the tail that starts where the stack was when it opened.
	members []member
	order   []int32
	entries []entry
	scratch []byte

	// sorted orders named keys by their bytes (CanonicalizeObjectSorted);
	// unsorted records input that ordering cannot promise to treat as a
	// google.protobuf.Struct would be.
	sorted, unsorted bool
}

func (c *canonicalizer) skipSpace() {
	// JSON whitespace is exactly these four; JSON.parse rejects others (NBSP,
	// BOM, U+2028) outside strings too.
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *canonicalizer) value(out []byte) ([]byte, error) {
	c.skipSpace()
	if c.pos >= len(c.in) {
		return out, syntaxError(c.pos, "expected a JSON value, found end of input")
	}
	switch b := c.in[c.pos]; {
	case b == '{':
		return c.object(out)
	case b == '[':
		return c.array(out)
	case b == '"':
		return c.string(out)
	case b == 't':
		return c.literal(out, "true")
	case b == 'f':
		return c.literal(out, "false")
	case b == 'n':
		return c.literal(out, "null")
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number(out)
	default:
		return out, syntaxError(c.pos, "expected a JSON value, found %s", describeAt(c.in, c.pos))
	}
}

func (c *canonicalizer) literal(out []byte, word string) ([]byte, error) {
	for i := 0; i < len(word); i++ {
		if c.pos+i >= len(c.in) || c.in[c.pos+i] != word[i] {
			return out, syntaxError(c.pos+i, "invalid literal (expected %q), found %s", word, describeAt(c.in, c.pos+i))
		}
	}
	c.pos += len(word)
	return append(out, word...), nil
}

// enter counts one more level of nesting for the bracket at c.pos.
func (c *canonicalizer) enter() error {
	c.depth++
	if c.depth > MaxDepth {
		return &Error{Offset: c.pos, Reason: ReasonTooDeep, Detail: "arrays and objects may nest at most " + strconv.Itoa(MaxDepth) + " levels deep"}
	}
	return nil
}

func (c *canonicalizer) array(out []byte) ([]byte, error) {
	if err := c.enter(); err != nil {
		return out, err
	}
	c.pos++
	out = append(out, '[')
	c.skipSpace()
	if c.pos < len(c.in) && c.in[c.pos] == ']' {
		c.pos++
		c.depth--
		return append(out, ']'), nil
	}
	for {
		var err error
		if out, err = c.value(out); err != nil {
			return out, err
		}
		c.skipSpace()
		if c.pos >= len(c.in) {
			return out, syntaxError(c.pos, "expected ',' or ']' after array element, found end of input")
		}
		switch c.in[c.pos] {
		case ',':
			c.pos++
			out = append(out, ',')
		case ']':
			c.pos++
			c.depth--
			return append(out, ']'), nil
		default:
			return out, syntaxError(c.pos, "expected ',' or ']' after array element, found %s", describeAt(c.in, c.pos))
		}
	}
}
