package cli

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/payload"
	"github.com/webhookd/webhookd/signature"
)

func newVerifyCommand(f *Factory) *cobra.Command {
	var secret, headersFile, bodyFile string
	var tolerance time.Duration
	cmd := &cobra.Command{
		Use:   "verify --secret whsec_… --headers FILE --body FILE",
		Short: "Explain whether a received webhook request verifies, and if not why",
		Long: `verify checks a request your endpoint received against the endpoint's secret,
under both signature schemes webhookd signs with:

  - the guide's: X-Webhook-Signature, hex HMAC-SHA256 keyed with the whole
    whsec_… string over X-Webhook-Timestamp + body;
  - Standard Webhooks: webhook-signature, base64 HMAC-SHA256 over
    webhook-id.webhook-timestamp.body, one v1,… entry per active secret.

When a check fails it says why: a wrong secret, a timestamp outside the
tolerance (a replay, or a clock far off), or a body that was re-serialised
after webhookd sent it (it verifies only in its canonical form,
JSON.stringify(JSON.parse(body))).

--headers is a file of "Name: value" lines (as curl -D or a proxy log writes
them; a request line before them is skipped) or a JSON object of names to
values. --body is the body's bytes. Either may be - for standard input.
The secret may also come from WEBHOOK_SECRET, as in the guide.

The exit status is 0 when every scheme whose headers are present verifies,
and 1 otherwise.`,
		Example: `  webhookctl verify --secret "$WEBHOOK_SECRET" --headers headers.txt --body body.json
  pbpaste | webhookctl verify --headers headers.txt --body -`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if secret == "" {
				secret = f.Getenv("WEBHOOK_SECRET")
			}
			if secret == "" {
				return usagef("--secret is required (or set WEBHOOK_SECRET)")
			}
			if headersFile == "-" && bodyFile == "-" {
				return usagef("only one of --headers and --body can be standard input")
			}
			rawHeaders, err := readInput("headers", headersFile, f.In)
			if err != nil {
				return err
			}
			h, err := parseHeaderFile(rawHeaders)
			if err != nil {
				return usagef("--headers %s: %v", headersFile, err)
			}
			body, err := readInput("body", bodyFile, f.In)
			if err != nil {
				return err
			}
			report := verifyRequest(h, body, secret, f.Now(), tolerance)
			if err := report.print(f.printer()); err != nil {
				return err
			}
			if !report.Verified {
				return &silentError{code: ExitError}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&secret, "secret", "", "the endpoint's signing secret, whsec_… (default: $WEBHOOK_SECRET)")
	cmd.Flags().StringVar(&headersFile, "headers", "", `the request's headers: a file of "Name: value" lines or a JSON object, - for standard input`)
	cmd.Flags().StringVar(&bodyFile, "body", "", "the request's body, exactly as received, - for standard input")
	cmd.Flags().DurationVar(&tolerance, "tolerance", 5*time.Minute, "how far the timestamp may be from now (Standard Webhooks' default)")
	_ = cmd.MarkFlagRequired("headers")
	_ = cmd.MarkFlagRequired("body")
	return cmd
}

func readInput(flagName, path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--%s: %v", flagName, err)
	}
	return b, nil
}

// parseHeaderFile reads "Name: value" lines, skipping a request or status
// line and stopping at the first empty line after a header, or a JSON
// object of names to values.
func parseHeaderFile(raw []byte) (http.Header, error) {
	h := http.Header{}
	trimmed := bytes.TrimSpace(raw)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber() // a timestamp stays 1700000000, not 1.7e+09
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("not a JSON object of headers: %w", err)
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				h.Add(k, v)
			case []any:
				for _, e := range v {
					h.Add(k, fmt.Sprint(e))
				}
			default:
				h.Add(k, fmt.Sprint(v))
			}
		}
		return h, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for first := true; sc.Scan(); first = false {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			if len(h) > 0 {
				break
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			if first || strings.HasPrefix(line, "HTTP/") {
				continue // POST /webhooks HTTP/1.1, or HTTP/1.1 200 OK
			}
			return nil, fmt.Errorf("line %q is not Name: value", line)
		}
		h.Add(textproto.TrimString(name), textproto.TrimString(value))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("no headers in it")
	}
	return h, nil
}

// verifyReport is what verify found, scheme by scheme.
type verifyReport struct {
	// Verified is true when at least one scheme's headers are present and
	// every present scheme verified.
	Verified bool           `json:"verified"`
	Schemes  []schemeResult `json:"schemes"`
}

type schemeResult struct {
	Scheme   string   `json:"scheme"`
	Header   string   `json:"header"`
	Present  bool     `json:"present"`
	Verified bool     `json:"verified"`
	Problems []string `json:"problems"`
	Notes    []string `json:"notes"`
}

// verifyRequest checks h and body against secret under both schemes. The
// expected signatures come from signature.Sign, the code that signs real
// deliveries, so verify and webhookd cannot disagree about the scheme.
func verifyRequest(h http.Header, body []byte, secret string, now time.Time, tolerance time.Duration) verifyReport {
	// canonical is the body as the guide's receiver hashes it:
	// JSON.stringify(JSON.parse(body)). nil when body is not JSON.
	canonical, _ := payload.Canonicalize(body)
	reserialised := canonical != nil && !bytes.Equal(canonical, body)
	guide := verifyGuide(h, body, canonical, reserialised, secret, now, tolerance)
	standard := verifyStandard(h, body, canonical, reserialised, secret, now, tolerance)
	if guide.Present && standard.Present && !guide.Verified && !standard.Verified && len(guide.Problems) > 0 &&
		!strings.HasPrefix(secret, webhookd.EndpointSecretPrefix) {
		guide.Notes = append(guide.Notes, "the secret does not start with "+webhookd.EndpointSecretPrefix+": copy the whole secret, prefix included")
	}
	r := verifyReport{Schemes: []schemeResult{guide, standard}}
	r.Verified = guide.Present || standard.Present
	for _, s := range r.Schemes {
		if s.Present && !s.Verified {
			r.Verified = false
		}
	}
	return r
}

// sign is what webhookd would send for this id, timestamp and body.
func sign(id string, ts int64, body []byte, secret string) http.Header {
	h := http.Header{}
	signature.Sign(h, id, time.Unix(ts, 0), body, []string{secret})
	return h
}

// parseTimestamp reads a Unix-seconds timestamp header.
func parseTimestamp(r *schemeResult, name, value string) (int64, bool) {
	ts, err := strconv.ParseInt(value, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != value {
		r.Problems = append(r.Problems, fmt.Sprintf("%s %q is not Unix seconds", name, value))
		return 0, false
	}
	return ts, true
}

// timestampAge describes how far ts is from now when outside tolerance.
func timestampAge(ts int64, now time.Time, tolerance time.Duration) string {
	d := now.Sub(time.Unix(ts, 0))
	if d <= tolerance && d >= -tolerance {
		return ""
	}
	if d > 0 {
		return fmt.Sprintf("the timestamp is %s old, outside the %s tolerance: a replayed request, or this check runs long after the request", d.Truncate(time.Second), tolerance)
	}
	return fmt.Sprintf("the timestamp is %s in the future, outside the %s tolerance: a clock is off", (-d).Truncate(time.Second), tolerance)
}

// notCanonical explains a body that differs from its canonical form but
// does not verify in it either: reordered keys cannot be put back.
const notCanonical = "the body is not in the form webhookd sent (webhookd sends JSON.stringify's form: no whitespace, keys in their original order), so it was re-serialised on the way, which alone breaks the signature"

const wrongSecret = "the signature does not match: wrong secret (use this endpoint's current one: 'webhookctl endpoints secret ep_…'), or the body or timestamp changed after signing"

func verifyGuide(h http.Header, body, canonical []byte, reserialised bool, secret string, now time.Time, tolerance time.Duration) schemeResult {
	r := schemeResult{Scheme: "guide", Header: signature.HeaderWebhookSignature, Problems: []string{}, Notes: []string{}}
	sig, tsHeader := h.Get(signature.HeaderWebhookSignature), h.Get(signature.HeaderWebhookTimestamp)
	if sig == "" && tsHeader == "" {
		return r
	}
	r.Present = true
	if sig == "" || tsHeader == "" {
		r.Problems = append(r.Problems, fmt.Sprintf("%s and %s must both be present", signature.HeaderWebhookSignature, signature.HeaderWebhookTimestamp))
		return r
	}
	ts, ok := parseTimestamp(&r, signature.HeaderWebhookTimestamp, tsHeader)
	if !ok {
		return r
	}
	matches := func(b []byte, secret string) bool {
		return hmac.Equal([]byte(sig), []byte(sign("", ts, b, secret).Get(signature.HeaderWebhookSignature)))
	}
	switch {
	case matches(body, secret):
		r.Verified = true
	case reserialised && matches(canonical, secret):
		// The guide's code hashes JSON.stringify(req.body), which is the
		// canonical form, so it accepts this request; code that hashes the
		// raw bytes does not.
		r.Verified = true
		r.Notes = append(r.Notes, "the body was re-serialised after webhookd sent it (whitespace, key order or number format differ): it verifies as the guide's code checks it, over JSON.stringify(JSON.parse(body)), but a check over these raw bytes fails")
	case strings.TrimSpace(secret) != secret && matches(body, strings.TrimSpace(secret)):
		r.Problems = append(r.Problems, "the secret has leading or trailing whitespace (a newline from a file?): it verifies once trimmed")
	default:
		r.Problems = append(r.Problems, wrongSecret)
		if reserialised {
			r.Notes = append(r.Notes, notCanonical)
		}
		if strings.Contains(sig, ",") || strings.Contains(sig, " ") {
			r.Notes = append(r.Notes, signature.HeaderWebhookSignature+" holds one hex signature; a v1,… value belongs in webhook-signature")
		}
	}
	if age := timestampAge(ts, now, tolerance); age != "" {
		r.Notes = append(r.Notes, age+" (the guide's code does not check it; checking it refuses replays)")
	}
	return r
}

func verifyStandard(h http.Header, body, canonical []byte, reserialised bool, secret string, now time.Time, tolerance time.Duration) schemeResult {
	r := schemeResult{Scheme: "standard-webhooks", Header: "webhook-signature", Problems: []string{}, Notes: []string{}}
	sigs, msgID, tsHeader := h.Get(signature.HeaderStandardSignature), h.Get(signature.HeaderStandardID), h.Get(signature.HeaderStandardTimestamp)
	if sigs == "" && msgID == "" && tsHeader == "" {
		return r
	}
	r.Present = true
	if sigs == "" || msgID == "" || tsHeader == "" {
		r.Problems = append(r.Problems, "webhook-id, webhook-timestamp and webhook-signature must all be present")
		return r
	}
	ts, ok := parseTimestamp(&r, "webhook-timestamp", tsHeader)
	if !ok {
		return r
	}
	entries := strings.Fields(sigs)
	matches := func(b []byte, secret string) bool {
		want := sign(msgID, ts, b, secret).Get(signature.HeaderStandardSignature)
		for _, e := range entries {
			if hmac.Equal([]byte(e), []byte(want)) {
				return true
			}
		}
		return false
	}
	signed := false
	switch {
	case matches(body, secret):
		signed = true
	case reserialised && matches(canonical, secret):
		r.Problems = append(r.Problems, "the body was re-serialised after webhookd sent it: it verifies only after re-canonicalising it (JSON.stringify(JSON.parse(body))); Standard Webhooks signs the raw bytes, so verify the body exactly as received, before any JSON parsing")
	case strings.TrimSpace(secret) != secret && matches(body, strings.TrimSpace(secret)):
		r.Problems = append(r.Problems, "the secret has leading or trailing whitespace (a newline from a file?): it verifies once trimmed")
	default:
		r.Problems = append(r.Problems, wrongSecret)
		if reserialised {
			r.Notes = append(r.Notes, notCanonical)
		}
		if len(entries) > 1 {
			r.Notes = append(r.Notes, fmt.Sprintf("the header carries %d signatures (a rotation's grace period): none matches this secret", len(entries)))
		}
	}
	if age := timestampAge(ts, now, tolerance); age != "" {
		r.Problems = append(r.Problems, age)
	}
	r.Verified = signed && len(r.Problems) == 0
	return r
}

func (r verifyReport) print(p *printer) error {
	if p.json {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		out, err := indentJSON(b)
		if err != nil {
			return err
		}
		_, err = p.out.Write(out)
		return err
	}
	names := map[string]string{"guide": "the guide's scheme", "standard-webhooks": "Standard Webhooks"}
	for _, s := range r.Schemes {
		verdict := p.paint("verified", green)
		switch {
		case !s.Present:
			verdict = "not present"
		case !s.Verified:
			verdict = p.paint("does not verify", red)
		}
		p.line("%s (%s): %s", s.Header, names[s.Scheme], verdict)
		for _, problem := range s.Problems {
			p.line("  - %s", problem)
		}
		for _, note := range s.Notes {
			p.line("  note: %s", note)
		}
	}
	if !r.Schemes[0].Present && !r.Schemes[1].Present {
		p.line("No signature headers found: expected %s and %s, or webhook-id, webhook-timestamp and webhook-signature", signature.HeaderWebhookSignature, signature.HeaderWebhookTimestamp)
	}
	return nil
}
