package payload_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/webhookd/webhookd/payload"
)

// nodeScript answers one line per input line: "OK <base64 of
// JSON.stringify(JSON.parse(input))>" or "ERR <message>". It decodes each
// input with Buffer#toString('utf8'), the decoder Express applies to request
// bodies, so invalid UTF-8 is replaced exactly as a receiver sees it.
const nodeScript = `
const rl = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
rl.on('line', (line) => {
  try {
    const s = JSON.stringify(JSON.parse(Buffer.from(line, 'base64').toString('utf8')));
    out.push('OK ' + Buffer.from(s, 'utf8').toString('base64'));
  } catch (e) {
    out.push('ERR ' + String(e.message).replace(/[\r\n]/g, ' '));
  }
});
rl.on('close', () => process.stdout.write(out.join('\n') + '\n'));
`

type nodeResult struct {
	ok  bool
	out string // JSON.stringify's result when ok, the exception message otherwise
}

// runNode evaluates every input in one node process. Without node the test
// is skipped, unless CI is set: CI must prove the contract, not skip it.
func runNode(t *testing.T, inputs []string) []nodeResult {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node not found on PATH (%v); CI must run the Node.js differential tests", err)
		}
		t.Skip("node not found on PATH; skipping the differential test against Node.js (it is required when CI is set)")
	}
	var stdin bytes.Buffer
	for _, in := range inputs {
		stdin.WriteString(base64.StdEncoding.EncodeToString([]byte(in)))
		stdin.WriteByte('\n')
	}
	cmd := exec.Command("node", "-e", nodeScript)
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	results := make([]nodeResult, 0, len(inputs))
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		status, rest, _ := strings.Cut(sc.Text(), " ")
		switch status {
		case "OK":
			b, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				t.Fatalf("node printed bad base64: %v", err)
			}
			results = append(results, nodeResult{ok: true, out: string(b)})
		case "ERR":
			results = append(results, nodeResult{out: rest})
		default:
			t.Fatalf("node printed unexpected line %q", sc.Text())
		}
	}
	if len(results) != len(inputs) {
		t.Fatalf("node answered %d of %d inputs", len(results), len(inputs))
	}
	return results
}

// assertMatchesNode checks that Canonicalize agrees with Node.js on every
// input (same bytes, or both reject), and that every output is a fixed point
// of JSON.stringify(JSON.parse(x)) in Node: the property a receiver's
// signature check actually relies on.
func assertMatchesNode(t *testing.T, inputs []string) {
	t.Helper()
	results := runNode(t, inputs)
	var outputs []string
	for i, in := range inputs {
		got, err := payload.Canonicalize([]byte(in))
		node := results[i]
		var perr *payload.Error
		switch {
		case errors.As(err, &perr) && perr.Reason == payload.ReasonTooDeep:
			// A documented divergence: we refuse what Node may accept.
		case err != nil && node.ok:
			t.Errorf("input %s: we reject (%v), Node.js accepts and gives %s", show(in), err, show(node.out))
		case err == nil && !node.ok:
			t.Errorf("input %s: we accept and give %s, Node.js throws %q", show(in), show(string(got)), node.out)
		case err == nil && string(got) != node.out:
			t.Errorf("input %s:\n  Go   %s\n  Node %s", show(in), show(string(got)), show(node.out))
		case err == nil:
			outputs = append(outputs, string(got))
		}
	}
	if t.Failed() {
		return
	}
	for i, res := range runNode(t, outputs) {
		if !res.ok || res.out != outputs[i] {
			t.Errorf("output %s is not a fixed point in Node.js: %s (ok=%v)", show(outputs[i]), show(res.out), res.ok)
		}
	}
}

// show quotes s for a failure message, eliding the middle of long inputs.
func show(s string) string {
	if len(s) > 200 {
		s = s[:100] + "…(" + strconv.Itoa(len(s)) + " bytes)…" + s[len(s)-60:]
	}
	return strconv.Quote(s)
}

func TestMatchesNode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		inputs []string
	}{
		{"tricky", trickyInputs()},
		{"generated", generatedInputs()},
		{"guide", []string{appointmentScheduled, largePayload()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assertMatchesNode(t, tc.inputs)
		})
	}
}

// TestFuzzCorpusMatchesNode replays every seed and every failure the fuzzer
// ever recorded through Node.js, so properties FuzzCanonicalize checks
// without Node are also pinned to Node's actual output.
func TestFuzzCorpusMatchesNode(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzCanonicalize")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatalf("no fuzz corpus in %s", dir)
	}
	var inputs []string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		in, err := parseFuzzFile(data)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		inputs = append(inputs, in)
	}
	assertMatchesNode(t, inputs)
}

// parseFuzzFile reads a one-value []byte corpus file written by go test
// -fuzz ("go test fuzz v1" then []byte("...") with Go quoting).
func parseFuzzFile(data []byte) (string, error) {
	header, body, ok := strings.Cut(string(data), "\n")
	if !ok || header != "go test fuzz v1" {
		return "", errors.New("not a go test fuzz v1 file")
	}
	body = strings.TrimSpace(body)
	if !strings.HasPrefix(body, "[]byte(") || !strings.HasSuffix(body, ")") {
		return "", errors.New("want a single []byte value")
	}
	return strconv.Unquote(body[len("[]byte(") : len(body)-1])
}
