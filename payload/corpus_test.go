package payload_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// trickyInputs are hand-picked inputs where a naive encoder would differ from
// Node.js. They seed FuzzCanonicalize (see TestWriteFuzzSeeds) and are
// checked against a live node by TestMatchesNode.
func trickyInputs() []string {
	in := []string{
		// Numbers.
		`0.1`, `1e21`, `1e-7`, `123e-20`, `5e-324`, `2e-324`, `3e-324`, `1.7976931348623157e308`,
		`1.7976931348623158e308`, `1.7976931348623159e308`, `2.2250738585072011e-308`, `2.2250738585072014e-308`,
		`9007199254740993`, `9007199254740992`, `9007199254740995`, `-9007199254740993`, `-0`, `-0.0`, `-0e10`,
		`0.000001`, `0.0000001`, `0.00000123`, `100`, `1e2`, `1E2`, `1e+2`, `1.5e-7`, `1e20`, `1e21`,
		`123456789012345678901`, `1234567890123456789012`, `999999999999999999999`, `0.1e1`, `10.0`, `1.0e0`,
		`1e400`, `-1e400`, `1e-400`, `1e308`, `1e309`, `4.9406564584124654e-324`, `2.4703282292062327e-324`,
		`2.4703282292062328e-324`, `123456789.123456789`, `0.30000000000000004`, `1.005`, `5e-7`, `-5e-7`,
		`1.2345e+30`, `18446744073709551616`, `295147905179352825856`, `0.5e-6`, `1e-6`, `1e-5`,
		`[1e99999999999999999999,-1e-99999999999999999999,0e99999999999999999999]`,
		`9007199254740993` + strings.Repeat("0", 790) + `1e-791`,
		`9007199254740993` + strings.Repeat("0", 800) + `e-800`,
		`0.` + strings.Repeat("0", 100000) + `9e100000`,
		`1` + strings.Repeat("0", 400) + `.5e-400`,
		strings.Repeat("9", 1000),
		`0.` + strings.Repeat("1", 1000),
		`[` + strings.Repeat("0", 1) + `.` + strings.Repeat("0", 600) + `1e600]`,
		// Strings.
		`"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"`,
		`"\u001F\u001A\u007f\u0080\u009f\u00a0\u00ad\u2028\u2029\ufeff\uFFFE\uffff"`,
		"\"\u007f\u0080\u2028\u2029\ufeff\ufffd\"",
		`"\"\\\/<>&'"`, `"😀"`, `"\ud83d\ude00"`, `"\uD83D\uDE00"`, `"\ud800"`, `"\udc00"`, `"\udfff\ud800"`,
		`"\ud800\ud800\udc00"`, `"\ud800\u0041"`, `"\ud800x"`, "\"\\ud800😀\"", `"\ud800\\udc00"`, `"\u00e9é"`,
		"\"\xe2\x82A\xed\xa0\x80\xf0\x9f\x98\"", "\"\xc0\xaf\xff\xf4\x90\x80\x80\xe0\x80\x80\"",
		"\"\xf0\x9f\x98\"", "\"\xe2\x82\"", "\"\x80\x80\x80\"", "\"\xf8\x88\x80\x80\x80\"", "\"\xef\xbf\xbf\xef\xbf\xbe\"",
		"\"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"", "{\"\xff\":1,\"\xfe\":2,\"\xff\":3}",
		// Keys and order.
		`{"b":1,"a":2,"b":3}`, `{"b":1,"1":2,"a":3,"1":4,"0":5}`,
		`{"a":0,"1":1,"01":2,"-1":3,"4294967294":4,"4294967295":5,"4294967296":6,"0":7,"1.5":8,"1e3":9," 2":10,"2 ":11,"+3":12,"9007199254740993":13}`,
		`{"\u0031":1,"1":2}`, `{"\u0030":0,"00":1}`, `{"__proto__":{"a":1}}`, `{"a":1,"__proto__":2,"__proto__":3}`,
		`{"constructor":1,"toString":2,"hasOwnProperty":3,"length":4}`, `{"":1,"":2}`,
		`{"x":{"k":1,"k":2,"2":3},"1":[{"b":0,"b":{"c":1,"c":2}}]}`,
		`{"2":1,"1":2,"0":3,"10":4,"9":5,"a":6,"b":7,"a":8,"2":9}`,
		// Structure and whitespace.
		` {} `, "\t[\r\n]\n", `[[[[[]]]]]`, `[{},[],"",0,true,false,null]`, `{"a":[1,{"b":[2,{"c":null}]}]}`,
		// Malformed: JSON.parse must throw for all of these.
		``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `01`, `-`, `-01`, `1.`, `.5`,
		`+1`, `1e`, `1e+`, `0x10`, `Infinity`, `NaN`, `undefined`, `'a'`, `"a`, `"\x"`, `"\u12"`, `"\u12G4"`,
		"\"a\tb\"", "\"a\nb\"", "\"\x00\"", `tru`, `nul`, `truee`, `{} {}`, `[] x`, "\ufeff{}", "\u00a0{}",
		"[1,\u20282]", "{\"a\":1 \"b\":2}", `{a:1}`, "[\xff]", `/* c */ {}`, `{"a":1}//`, `[1 2]`, `"\`,
	}
	// Every key-order subtlety in one larger object, with more members than
	// the small-object duplicate scan handles.
	var big strings.Builder
	big.WriteString("{")
	for i := 40; i >= 0; i-- {
		fmt.Fprintf(&big, `"k%d":%d,"%d":%d,`, i%23, i, (i*7919)%37, i)
	}
	big.WriteString(`"end":true}`)
	in = append(in, big.String())
	return in
}

// generatedInputs adds reproducible random inputs: doubles across the whole
// range printed several ways, random digit strings, objects with colliding
// integer and named keys, and strings of random bytes.
func generatedInputs() []string {
	r := rand.New(rand.NewPCG(1, 2))
	var in []string
	for range 3000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		in = append(in, strconv.FormatFloat(f, 'g', -1, 64), strconv.FormatFloat(f, 'e', 20, 64))
	}
	for range 1000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(byte('1' + r.IntN(9)))
		for range r.IntN(25) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for range 1 + r.IntN(25) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "e%d", r.IntN(700)-350)
		}
		in = append(in, b.String())
	}
	keys := []string{"0", "1", "2", "10", "01", "a", "b", "__proto__", "4294967294", "4294967295", "-0", "\\u0032"}
	for range 300 {
		var b strings.Builder
		b.WriteByte('{')
		for j := range 1 + r.IntN(30) {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%s":%d`, keys[r.IntN(len(keys))], j)
		}
		b.WriteByte('}')
		in = append(in, b.String())
	}
	for range 500 {
		b := []byte{'"'}
		for range r.IntN(12) {
			c := byte(r.IntN(256))
			if c == '"' || c == '\\' || c < 0x20 {
				c = 0x80 | c
			}
			b = append(b, c)
		}
		in = append(in, string(append(b, '"')))
	}
	return in
}
