package payload_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/payload"
)

// The expected outputs below were produced by Node.js v20 with
// JSON.stringify(JSON.parse(in)); TestMatchesNode re-checks them (and many
// more inputs) against a live node when one is available.
func TestCanonicalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"whitespace dropped", " [ true , false , null ] \n", `[true,false,null]`},
		{"empty containers", `{"a":{},"b":[],"c":[{}]}`, `{"a":{},"b":[],"c":[{}]}`},
		{"top-level scalar", `"x"`, `"x"`},

		{"duplicate keeps first position, last value", `{"b":1,"a":2,"b":3}`, `{"b":3,"a":2}`},
		{"integer keys first ascending", `{"b":1,"1":2,"a":3,"1":4,"0":5}`, `{"0":5,"1":4,"b":1,"a":3}`},
		{"array index bound", `{"4294967295":1,"4294967294":2,"01":3,"-1":4,"1":5,"a":6,"1.0":7," 1":8}`,
			`{"1":5,"4294967294":2,"4294967295":1,"01":3,"-1":4,"a":6,"1.0":7," 1":8}`},
		{"escaped integer key", `{"\u0031":1,"0":2}`, `{"0":2,"1":1}`},
		{"__proto__ is an own property", `{"a":1,"__proto__":{"x":1},"__proto__":2}`, `{"a":1,"__proto__":2}`},
		{"nested reorder shrinks inner object", `{"x":{"k":1,"k":2,"2":3},"1":[{"b":0,"b":{"c":1,"c":2}}]}`,
			`{"1":[{"b":{"c":2}}],"x":{"2":3,"k":2}}`},
		{"many keys with a late duplicate", `{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k3":"x"}`,
			`{"k0":0,"k1":1,"k2":2,"k3":"x","k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16}`},

		{"numbers", `[0.1,1e21,1e-7,123e-20,5e-324,1.7976931348623157e308,9007199254740993,-0,0.000001,100,1e2,1E+2,1.5e-7,1e400,-1e400,1e-400,-0.0,0.0000001,1234567890123456789012,123456789012345678901,-5e-7,1e20,12345678.9]`,
			`[0.1,1e+21,1e-7,1.23e-18,5e-324,1.7976931348623157e+308,9007199254740992,0,0.000001,100,100,100,1.5e-7,null,null,0,0,1e-7,1.2345678901234568e+21,123456789012345680000,-5e-7,100000000000000000000,12345678.9]`},
		{"15-digit integer fast path", `[123456789012345,-123456789012345,0,-1]`, `[123456789012345,-123456789012345,0,-1]`},
		{"long mantissa rounds correctly", `9007199254740993` + strings.Repeat("0", 900) + `1e-901`, `9007199254740994`},
		{"huge exponent", `[1e99999999999999999999,0e99999999999999999999,-1e-99999999999999999999]`, `[null,0,0]`},

		{"escapes", `"\u0000\u0001\b\t\n\u000b\f\r\u001f\"\\\/\u007f\u2028\u00e9\uD83D\uDE00\ud800\uDC00x\udc00\ud800"`,
			`"\u0000\u0001\b\t\n\u000b\f\r\u001f\"\\/` + "\x7f\u2028é😀\U00010000x" + `\udc00\ud800"`},
		{"high surrogate then malformed pair", `"\uD800\uD800\uDC00"`, `"\ud800` + "\U00010000" + `"`},
		{"no HTML escaping", `"<>&'/"`, `"<>&'/"`},
		{"literal non-ASCII kept", "\"é😀\u2028\u2029\ufeff\"", "\"é😀\u2028\u2029\ufeff\""},
		// Maximal subparts, as Node's Buffer#toString('utf8'): E2 82 is one
		// truncated sequence; ED A0 80 (an encoded surrogate) is three.
		{"invalid UTF-8 becomes U+FFFD", "\"\xe2\x82A\xed\xa0\x80\xf0\x9f\x98\"", "\"\ufffdA\ufffd\ufffd\ufffd\ufffd\""},
		{"invalid UTF-8 overlong and out of range", "\"\xc0\xaf\xff\xf4\x90\x80\x80\xe0\x80\x80\"", "\"" + strings.Repeat("\ufffd", 10) + "\""},
		{"invalid UTF-8 truncated at end of string", "[\"\xf0\x9f\"]", "[\"\ufffd\"]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := payload.Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonicalize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalizeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		offset     int
		reason     payload.Reason
		detailHint string
	}{
		{"empty", ``, 0, payload.ReasonSyntax, "end of input"},
		{"only whitespace", " \n", 2, payload.ReasonSyntax, "end of input"},
		{"byte order mark", "\ufeff{}", 0, payload.ReasonSyntax, "U+FEFF"},
		{"trailing comma in object", `{"a":1,}`, 7, payload.ReasonSyntax, "property name"},
		{"trailing comma in array", `[1,]`, 3, payload.ReasonSyntax, "expected a JSON value, found ']'"},
		{"leading zero", `01`, 1, payload.ReasonSyntax, "after the JSON value"},
		{"lone minus", `-`, 1, payload.ReasonSyntax, "no number after minus sign"},
		{"bare fraction", `1.`, 2, payload.ReasonSyntax, "after '.'"},
		{"bare exponent", `1e+`, 3, payload.ReasonSyntax, "exponent"},
		{"plus sign", `+1`, 0, payload.ReasonSyntax, "'+'"},
		{"unterminated array", `[1,2`, 4, payload.ReasonSyntax, "',' or ']'"},
		{"unterminated string", `{"a":"b`, 7, payload.ReasonSyntax, "unterminated string starting at byte offset 5"},
		{"bad escape", `{"a":"\x"}`, 7, payload.ReasonSyntax, "bad escaped character 'x'"},
		{"short unicode escape", `"\u12G4"`, 5, payload.ReasonSyntax, "hex digits"},
		{"raw control character", "\"a\tb\"", 2, payload.ReasonSyntax, "U+0009"},
		{"missing colon", `{"a" 1}`, 5, payload.ReasonSyntax, "':'"},
		{"unquoted key", `{a:1}`, 1, payload.ReasonSyntax, "double-quoted property name"},
		{"single quotes", `['a']`, 1, payload.ReasonSyntax, `found '\''`},
		{"bad literal", `[tru]`, 4, payload.ReasonSyntax, `"true"`},
		{"NaN", `NaN`, 0, payload.ReasonSyntax, "'N'"},
		{"two values", `{} {}`, 3, payload.ReasonSyntax, "after the JSON value"},
		{"invalid UTF-8 outside string", "[\xff]", 1, payload.ReasonSyntax, "invalid UTF-8 byte 0xFF"},
		{"non-breaking space", "[1,\u00a02]", 3, payload.ReasonSyntax, "U+00A0"},
		{"too deep", strings.Repeat("[", payload.MaxDepth+1) + strings.Repeat("]", payload.MaxDepth+1), payload.MaxDepth, payload.ReasonTooDeep, "128 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := payload.Canonicalize([]byte(tt.in))
			var perr *payload.Error
			if !errors.As(err, &perr) {
				t.Fatalf("Canonicalize(%q) = %q, %v; want *payload.Error", tt.in, out, err)
			}
			if perr.Offset != tt.offset || perr.Reason != tt.reason {
				t.Errorf("Canonicalize(%q): offset %d reason %d (%v), want offset %d reason %d", tt.in, perr.Offset, perr.Reason, err, tt.offset, tt.reason)
			}
			if !strings.Contains(err.Error(), tt.detailHint) {
				t.Errorf("Canonicalize(%q): error %q does not mention %q", tt.in, err, tt.detailHint)
			}
		})
	}
}

func TestMaxDepthAccepted(t *testing.T) {
	t.Parallel()
	in := strings.Repeat(`{"a":[`, payload.MaxDepth/2) + strings.Repeat("]}", payload.MaxDepth/2)
	got, err := payload.Canonicalize([]byte(in))
	if err != nil || string(got) != in {
		t.Fatalf("nesting of exactly MaxDepth: got %q, %v", got, err)
	}
}

func TestCanonicalizeObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		errHint string
	}{
		{in: ` {"b":1,"2":2} `, want: `{"2":2,"b":1}`},
		{in: `[{}]`, errHint: "found an array"},
		{in: `"{}"`, errHint: "found a string"},
		{in: `12`, errHint: "found a number"},
		{in: `-1`, errHint: "found a number"},
		{in: `true`, errHint: "found a boolean"},
		{in: `null`, errHint: "found null"},
		// Malformed input is reported as such, not as "not an object".
		{in: `[`, errHint: "invalid JSON at byte offset 1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := payload.CanonicalizeObject([]byte(tt.in))
			if tt.errHint == "" {
				if err != nil || string(got) != tt.want {
					t.Fatalf("CanonicalizeObject(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHint) {
				t.Fatalf("CanonicalizeObject(%q) error = %v; want one mentioning %q", tt.in, err, tt.errHint)
			}
		})
	}
}

func TestCanonicalizeObjectSorted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" means ok is false
	}{
		{`{"b":1,"a":2,"10":3,"2":4}`, `{"2":4,"10":3,"a":2,"b":1}`},
		// Bytes of the key, not of its quoted form: "ab" < "ab!".
		{`{"ab!":1,"ab":2}`, `{"ab":2,"ab!":1}`},
		{`{"z":1,"é":2}`, `{"z":1,"é":2}`},
		{`{"x":[{"d":1,"c":[{"f":1,"e":2}]}]}`, `{"x":[{"c":[{"e":2,"f":1}],"d":1}]}`},
		{`{"a":1e-400,"b":-0,"c":1e21}`, `{"a":0,"b":0,"c":1e+21}`},
		{`{"a":1,"a":2}`, ""},
		{`{"1":1,"1":2}`, ""},
		{`{"b":{"a":1,"a":2}}`, ""},
		{`{"a\"b":1}`, ""},
		{`{"\n":1}`, ""},
		{`{"a":1e400}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok, err := payload.CanonicalizeObjectSorted([]byte(tt.in))
			switch {
			case err != nil:
				t.Fatalf("CanonicalizeObjectSorted(%q): %v", tt.in, err)
			case tt.want == "" && (ok || got != nil):
				t.Fatalf("CanonicalizeObjectSorted(%q) = %q, %v; want not ok", tt.in, got, ok)
			case tt.want != "" && (!ok || string(got) != tt.want):
				t.Fatalf("CanonicalizeObjectSorted(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
	if _, _, err := payload.CanonicalizeObjectSorted([]byte(`[1]`)); err == nil {
		t.Fatal("CanonicalizeObjectSorted accepted an array")
	}
}
