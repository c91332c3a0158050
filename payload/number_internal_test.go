package payload

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestShortDecimalMatchesFloatPath backs the DBL_DIG argument of
// appendShortDecimal: for every token it takes, formatting the digits
// directly gives what parsing to a double and printing it gives. (The float
// path itself is compared with Node.js by TestMatchesNode.)
func TestShortDecimalMatchesFloatPath(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	digits := func(b *strings.Builder, n int, first byte) {
		if n > 0 {
			b.WriteByte(first)
		}
		for i := 1; i < n; i++ {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	taken := 0
	for range 300_000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		if r.IntN(3) == 0 {
			b.WriteByte('0')
		} else {
			digits(&b, 1+r.IntN(16), byte('1'+r.IntN(9)))
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			// Runs of zeros exercise leading and trailing zero handling.
			for range r.IntN(8) {
				b.WriteByte('0')
			}
			digits(&b, 1+r.IntN(14), byte('0'+r.IntN(10)))
			for range r.IntN(3) {
				b.WriteByte('0')
			}
		}
		if r.IntN(2) == 0 {
			b.WriteString([]string{"e", "E", "e+", "e-", "E-"}[r.IntN(5)])
			b.WriteString(strconv.Itoa(r.IntN(340)))
		}
		tok := b.String()
		fast, ok := appendShortDecimal(nil, []byte(tok))
		if !ok {
			continue
		}
		taken++
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			t.Fatalf("ParseFloat(%q): %v", tok, err)
		}
		if slow := appendJSNumber(nil, f); string(fast) != string(slow) {
			t.Fatalf("token %q: digit path %q, float path %q", tok, fast, slow)
		}
	}
	if taken < 100_000 {
		t.Fatalf("only %d tokens took the digit path; the generator drifted", taken)
	}
}
