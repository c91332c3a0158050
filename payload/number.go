package payload

import (
	"math"
	"strconv"
)

// number copies the JSON number at c.pos to the output as JavaScript would
// print the double JSON.parse makes of it.
func (c *canonicalizer) number(out []byte) ([]byte, error) {
	in := c.in
	start := c.pos
	p := c.pos
	if in[p] == '-' {
		p++
	}
	digitsStart := p
	switch {
	case p < len(in) && in[p] == '0':
		p++
	case p < len(in) && in[p] >= '1' && in[p] <= '9':
		for p < len(in) && in[p] >= '0' && in[p] <= '9' {
			p++
		}
	default:
		return out, syntaxError(p, "no number after minus sign, found %s", describeAt(in, p))
	}
	intDigits := p - digitsStart
	plainInteger := true
	if p < len(in) && in[p] == '.' {
		plainInteger = false
		p++
		if p >= len(in) || in[p] < '0' || in[p] > '9' {
			return out, syntaxError(p, "unterminated fractional number: expected a digit after '.', found %s", describeAt(in, p))
		}
		for p < len(in) && in[p] >= '0' && in[p] <= '9' {
			p++
		}
	}
	if p < len(in) && (in[p] == 'e' || in[p] == 'E') {
		plainInteger = false
		p++
		if p < len(in) && (in[p] == '+' || in[p] == '-') {
			p++
		}
		if p >= len(in) || in[p] < '0' || in[p] > '9' {
			return out, syntaxError(p, "exponent part is missing a number, found %s", describeAt(in, p))
		}
		for p < len(in) && in[p] >= '0' && in[p] <= '9' {
			p++
		}
	}
	c.pos = p
	tok := in[start:p]
	// Fast path: an integer of at most 15 digits is exactly representable
	// and JavaScript prints it digit for digit, except -0, which prints as 0.
	if plainInteger && intDigits <= 15 {
		if len(tok) == 2 && tok[0] == '-' && tok[1] == '0' {
			return append(out, '0'), nil
		}
		return append(out, tok...), nil
	}
	if short, ok := appendShortDecimal(out, tok); ok {
		return short, nil
	}
	// ParseFloat rounds to nearest, ties to even, as ECMAScript requires, for
	// tokens of moderate length (longer ones are first rewritten, see
	// longNumber). On overflow it returns ±Inf with ErrRange, exactly
	// JavaScript's Infinity, and it underflows to 0 or a subnormal. The
	// grammar was checked above, so no other error occurs.
	if len(tok) > longNumber {
		tok = shortenNumber(tok)
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && c.sorted {
		c.unsorted = true // protojson refuses what overflows a double
	}
	return appendJSNumber(out, f), nil
}

// appendShortDecimal formats a valid number token with at most 15
// significant digits and a normal, finite magnitude straight from its
// digits, skipping the float round trip. That is exact: a decimal of at most
// 15 significant digits survives decimal -> double -> shortest decimal
// unchanged (15 is DBL_DIG: two such decimals lie more than an ulp apart, so
// no shorter one maps to the same double), so Number::toString prints these
// very digits. ok is false when the token does not qualify.
func appendShortDecimal(dst, tok []byte) (out []byte, ok bool) {
	neg, intPart, frac, exp := splitNumber(tok)
	n := len(intPart) + len(frac)
	digit := func(k int) byte {
		if k < len(intPart) {
			return intPart[k]
		}
		return frac[k-len(intPart)]
	}
	lead := 0
	for lead < n && digit(lead) == '0' {
		lead++
	}
	if lead == n {
		return append(dst, '0'), true // ±0
	}
	last := n - 1
	for digit(last) == '0' {
		last--
	}
	var digitBuf [15]byte
	if last-lead+1 > len(digitBuf) || exp < -400 || exp > 400 {
		return dst, false
	}
	e10 := len(intPart) - lead + int(exp)
	if e10 <= -300 || e10 > 308 {
		return dst, false // subnormal or overflow territory: let ParseFloat decide
	}
	digits := digitBuf[:0]
	for k := lead; k <= last; k++ {
		digits = append(digits, digit(k))
	}
	if neg {
		dst = append(dst, '-')
	}
	return appendJSDecimal(dst, digits, e10), true
}

// splitNumber splits a valid JSON number token into its parts. The exponent
// saturates at ±1e9, far beyond any finite double.
func splitNumber(tok []byte) (neg bool, intPart, frac []byte, exp int64) {
	if tok[0] == '-' {
		neg = true
		tok = tok[1:]
	}
	i := 0
	for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
		i++
	}
	intPart = tok[:i]
	if i < len(tok) && tok[i] == '.' {
		j := i + 1
		for j < len(tok) && tok[j] >= '0' && tok[j] <= '9' {
			j++
		}
		frac = tok[i+1 : j]
		i = j
	}
	if i < len(tok) { // 'e' or 'E'
		i++
		negExp := false
		if tok[i] == '+' || tok[i] == '-' {
			negExp = tok[i] == '-'
			i++
		}
		for ; i < len(tok); i++ {
			if exp < 1e9 {
				exp = exp*10 + int64(tok[i]-'0')
			}
		}
		if negExp {
			exp = -exp
		}
	}
	return neg, intPart, frac, exp
}

// longNumber is the token length above which a number is rewritten by
// shortenNumber before ParseFloat sees it. strconv.ParseFloat misparses some
// very long decimals: with more than 800 digits before the decimal point it
// loses the digits' place value (go1.26: "9007199254740993" followed by 790
// zeros, "1e-791" parses as 9.007199254740993e+08), and it caps the exponent
// it accumulates near 100000, so "0." + 100000 zeros + "9e100000" becomes 0
// (golang/go#42436). Tokens up to this length cannot reach either case.
const longNumber = 512

// maxSignificantDigits bounds the digits shortenNumber keeps. Deciding how a
// decimal rounds to a double needs at most 768 significant digits (the exact
// midpoint between two doubles has at most 767); beyond that only whether
// anything non-zero follows matters, which a final '1' records.
const maxSignificantDigits = 780

// shortenNumber rewrites a valid JSON number token as "[-]0.DDDe±X" with at
// most maxSignificantDigits+1 digits and |X| <= 1000 that rounds to the same
// double: every exponent beyond that range overflows to Infinity or
// underflows to zero whatever the digits are.
func shortenNumber(tok []byte) []byte {
	out := make([]byte, 0, maxSignificantDigits+16)
	neg, intPart, frac, exp := splitNumber(tok)
	if neg {
		out = append(out, '-')
	}
	n := len(intPart) + len(frac)
	digit := func(k int) byte {
		if k < len(intPart) {
			return intPart[k]
		}
		return frac[k-len(intPart)]
	}
	lead := 0
	for lead < n && digit(lead) == '0' {
		lead++
	}
	if lead == n {
		return append(out, '0')
	}
	last := n - 1
	for digit(last) == '0' {
		last--
	}
	out = append(out, '0', '.')
	for k := lead; k <= last && k-lead < maxSignificantDigits; k++ {
		out = append(out, digit(k))
	}
	if last-lead+1 > maxSignificantDigits {
		// digit(last) is non-zero and was dropped.
		out = append(out, '1')
	}
	// The value is 0.DDD × 10^e10 with e10 counted from the first
	// significant digit.
	e10 := int64(len(intPart)-lead) + exp
	e10 = max(-1000, min(1000, e10))
	out = append(out, 'e')
	return strconv.AppendInt(out, e10, 10)
}

// appendJSNumber writes f as JSON.stringify does: non-finite values as null,
// otherwise ECMAScript Number::toString, i.e. the shortest digits that round
// trip, in fixed notation for 1e-7 <= |f| < 1e21 and exponent notation
// ("1e+21", "1.5e-7") outside it, and -0 as "0".
func appendJSNumber(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0')
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	// strconv's shortest form is the same digit string ECMAScript specifies:
	// the fewest digits that round trip, and of those the closest to f.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d[.ddd]e±XX
	var digitBuf [20]byte
	digits := digitBuf[:0]
	i := 0
	for ; e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits = append(digits, e[i])
		}
	}
	exp := 0
	for _, b := range e[i+2:] {
		exp = exp*10 + int(b-'0')
	}
	if e[i+1] == '-' {
		exp = -exp
	}
	return appendJSDecimal(dst, digits, exp+1)
}

// appendJSDecimal lays out the value 0.digits × 10^n (digits without
// leading or trailing zeros) as ECMAScript Number::toString does, step 6
// onwards: integers up to 21 digits in full, fixed notation down to 1e-7,
// exponent notation with an explicit sign otherwise.
func appendJSDecimal(dst, digits []byte, n int) []byte {
	k := len(digits)
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits...)
		for ; k < n; k++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for ; n < 0; n++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 < 0 {
			dst = append(dst, '-')
		} else {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(abs(n-1)), 10)
	}
	return dst
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
