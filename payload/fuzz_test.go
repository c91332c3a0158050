package payload_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/webhookd/webhookd/payload"
)

// FuzzCanonicalize checks, without Node.js, the properties the differential
// tests cannot cover exhaustively:
//   - accepted input is valid JSON and refused input is not, except inputs
//     refused for depth (documented divergence), per encoding/json.Valid,
//     whose grammar is the same RFC 8259 grammar JSON.parse implements;
//   - the output is valid UTF-8 JSON and a fixed point of Canonicalize;
//   - the output means the same as the input to encoding/json, where
//     encoding/json's own decoding agrees with JavaScript's (valid UTF-8, no
//     escaped surrogates, numbers within float64 range and short enough
//     for strconv, whose long-number bug encoding/json inherits; long
//     numbers are pinned by TestMatchesNode instead).
func FuzzCanonicalize(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := payload.Canonicalize(in)
		valid := json.Valid(in)
		if err != nil {
			var perr *payload.Error
			if !errors.As(err, &perr) {
				t.Fatalf("error is %T, want *payload.Error: %v", err, err)
			}
			if perr.Offset < 0 || perr.Offset > len(in) {
				t.Fatalf("error offset %d outside input of %d bytes", perr.Offset, len(in))
			}
			if valid && perr.Reason != payload.ReasonTooDeep {
				t.Fatalf("refused valid JSON %q: %v", in, err)
			}
			// Scanning stops at MaxDepth, so malformed input nested that deep
			// is reported as too deep rather than as a syntax error.
			if !valid && perr.Reason != payload.ReasonSyntax && perr.Reason != payload.ReasonTooDeep {
				t.Fatalf("invalid JSON %q refused with reason %d: %v", in, perr.Reason, err)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted invalid JSON %q as %q", in, out)
		}
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("output %q of %q is not valid UTF-8 JSON", out, in)
		}
		again, err := payload.Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
		if utf8.Valid(in) && !bytes.Contains(bytes.ToLower(in), []byte(`\ud`)) && !hasLongNumber(in) {
			var want, got any
			if json.Unmarshal(in, &want) == nil {
				if err := json.Unmarshal(out, &got); err != nil || !reflect.DeepEqual(want, got) {
					t.Fatalf("meaning changed: %q -> %q (%v)", in, out, err)
				}
			}
		}
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzCanonicalize from
// trickyInputs when PAYLOAD_WRITE_FUZZ_SEEDS is set; the files are never
// edited by hand. Crashers the fuzzer adds there are kept.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("PAYLOAD_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set PAYLOAD_WRITE_FUZZ_SEEDS=1 to regenerate the fuzz seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzCanonicalize")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, in := range trickyInputs() {
		if len(in) > 4096 {
			continue // the fuzzer mutates small inputs better; long ones stay in TestMatchesNode
		}
		name := filepath.Join(dir, fmt.Sprintf("seed-%03d", i))
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// hasLongNumber reports a run of number characters long enough that
// strconv.ParseFloat, and so encoding/json, may misparse it.
func hasLongNumber(in []byte) bool {
	run := 0
	for _, b := range in {
		if b >= '0' && b <= '9' || b == '.' || b == 'e' || b == 'E' || b == '+' || b == '-' {
			run++
			if run > 500 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
