package payload

import "unicode/utf8"

// string copies the JSON string at c.pos to the output the way
// JSON.stringify writes the JavaScript string JSON.parse made of it:
// escapes are decoded and re-encoded (only '"', '\\' and control characters
// are escaped, with \b \f \n \r \t short forms and lowercase \u00xx for the
// rest), escaped surrogate pairs become the literal character, lone
// surrogates are written as lowercase \udxxx (well-formed JSON.stringify,
// ES2019), and everything else is literal, including U+2028, U+2029, DEL and
// '/' (no HTML escaping).
func (c *canonicalizer) string(out []byte) ([]byte, error) {
	open := c.pos
	in := c.in
	c.pos++
	out = append(out, '"')
	for {
		// Copy the run of bytes that need no attention in one append.
		start := c.pos
		for c.pos < len(in) {
			b := in[c.pos]
			if b < 0x20 || b == '"' || b == '\\' || b >= 0x80 {
				break
			}
			c.pos++
		}
		out = append(out, in[start:c.pos]...)
		if c.pos >= len(in) {
			return out, syntaxError(c.pos, "unterminated string starting at byte offset %d", open)
		}
		switch b := in[c.pos]; {
		case b == '"':
			c.pos++
			return append(out, '"'), nil
		case b == '\\':
			var err error
			if out, err = c.escape(out, open); err != nil {
				return out, err
			}
		case b < 0x20:
			return out, syntaxError(c.pos, "bad control character U+%04X in string (it must be escaped)", b)
		default:
			// Valid UTF-8 is copied as is. Go's notion of valid UTF-8 matches
			// the WHATWG decoder's (no surrogates, overlongs or values above
			// U+10FFFF); only how invalid bytes are replaced needs care.
			r, size := utf8.DecodeRune(in[c.pos:])
			if r == utf8.RuneError && size <= 1 {
				size = invalidSequenceLen(in[c.pos:])
				out = append(out, "\uFFFD"...)
			} else {
				out = append(out, in[c.pos:c.pos+size]...)
			}
			c.pos += size
		}
	}
}

// invalidSequenceLen returns how many bytes at the start of p, which does
// not begin with a valid UTF-8 sequence, form one maximal ill-formed subpart:
// the bytes that Node's UTF-8 decoder (following WHATWG and Unicode's
// "substitution of maximal subparts") replaces with a single U+FFFD. Express
// decodes request bodies this way before JSON.parse sees them. Go's
// utf8.DecodeRune would instead report every byte separately, so "\xE2\x82A"
// would become two U+FFFD where Node makes one.
func invalidSequenceLen(p []byte) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch b := p[0]; {
	case b >= 0xC2 && b <= 0xDF:
		need = 1
	case b == 0xE0:
		need, lo = 2, 0xA0
	case b == 0xED:
		need, hi = 2, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		need = 2
	case b == 0xF0:
		need, lo = 3, 0x90
	case b == 0xF4:
		need, hi = 3, 0x8F
	case b >= 0xF1 && b <= 0xF3:
		need = 3
	default: // continuation bytes, C0, C1, F5..FF never start a sequence
		return 1
	}
	n := 1
	for ; n <= need; n++ {
		if n >= len(p) || p[n] < lo || p[n] > hi {
			return n
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}

// escape handles the backslash escape at c.pos inside the string that opened
// at open.
func (c *canonicalizer) escape(out []byte, open int) ([]byte, error) {
	in := c.in
	if c.pos+1 >= len(in) {
		return out, syntaxError(len(in), "unterminated string starting at byte offset %d", open)
	}
	var short byte
	switch in[c.pos+1] {
	case '"':
		short = '"'
	case '\\':
		short = '\\'
	case 'b':
		short = 'b'
	case 'f':
		short = 'f'
	case 'n':
		short = 'n'
	case 'r':
		short = 'r'
	case 't':
		short = 't'
	case '/':
		// "\/" is a plain '/' to JavaScript, and stringify never escapes it.
		c.pos += 2
		out = append(out, '/')
		return out, nil
	case 'u':
		return c.unicodeEscape(out)
	default:
		return out, syntaxError(c.pos+1, "bad escaped character %s in string", describeAt(in, c.pos+1))
	}
	c.pos += 2
	out = append(out, '\\', short)
	return out, nil
}

// unicodeEscape handles \uXXXX at c.pos. JavaScript strings are UTF-16, so
// an escape is one code unit: a high surrogate immediately followed by an
// escaped low surrogate is one character (written literally as UTF-8), any
// other surrogate stays a lone code unit that stringify escapes.
func (c *canonicalizer) unicodeEscape(out []byte) ([]byte, error) {
	u, bad := hex4(c.in, c.pos+2)
	if bad >= 0 {
		return out, syntaxError(bad, "bad Unicode escape: expected 4 hex digits after \\u, found %s", describeAt(c.in, bad))
	}
	c.pos += 6
	switch {
	case u >= 0xD800 && u <= 0xDBFF:
		if c.pos+1 < len(c.in) && c.in[c.pos] == '\\' && c.in[c.pos+1] == 'u' {
			if lo, bad := hex4(c.in, c.pos+2); bad < 0 && lo >= 0xDC00 && lo <= 0xDFFF {
				c.pos += 6
				out = utf8.AppendRune(out, 0x10000+(rune(u)-0xD800)<<10+(rune(lo)-0xDC00))
				return out, nil
			}
			// A malformed second escape is reported when the loop reaches it.
		}
		out = appendUnicodeEscape(out, u)
	case u >= 0xDC00 && u <= 0xDFFF:
		out = appendUnicodeEscape(out, u)
	default:
		out = appendCodeUnit(out, rune(u))
	}
	return out, nil
}

// hex4 decodes the four hex digits at in[at:]. bad is the offset of the
// first byte that is not a hex digit, or -1.
func hex4(in []byte, at int) (u uint16, bad int) {
	for i := at; i < at+4; i++ {
		if i >= len(in) {
			return 0, i
		}
		b := in[i]
		var d byte
		switch {
		case b >= '0' && b <= '9':
			d = b - '0'
		case b >= 'a' && b <= 'f':
			d = b - 'a' + 10
		case b >= 'A' && b <= 'F':
			d = b - 'A' + 10
		default:
			return 0, i
		}
		u = u<<4 | uint16(d)
	}
	return u, -1
}

const lowerHex = "0123456789abcdef"

// appendUnicodeEscape writes \uxxxx with lowercase hex, as JSON.stringify's
// UnicodeEscape does.
func appendUnicodeEscape(dst []byte, u uint16) []byte {
	return append(dst, '\\', 'u', lowerHex[u>>12], lowerHex[u>>8&0xF], lowerHex[u>>4&0xF], lowerHex[u&0xF])
}

// appendCodeUnit writes a non-surrogate code unit that came from an escape
// the way JSON.stringify's QuoteJSONString does.
func appendCodeUnit(dst []byte, r rune) []byte {
	switch r {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if r < 0x20 {
		return appendUnicodeEscape(dst, uint16(r))
	}
	return utf8.AppendRune(dst, r)
}
