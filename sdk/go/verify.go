package webhookd

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of webhookd's two signature schemes.
const (
	// The webhooks guide's scheme.
	HeaderWebhookID        = "X-Webhook-Id"
	HeaderWebhookTimestamp = "X-Webhook-Timestamp"
	HeaderWebhookSignature = "X-Webhook-Signature"

	// Standard Webhooks (https://www.standardwebhooks.com).
	HeaderStandardID        = "Webhook-Id"
	HeaderStandardTimestamp = "Webhook-Timestamp"
	HeaderStandardSignature = "Webhook-Signature"
)

// DefaultTolerance is how far a request's timestamp may be from now when
// [Verify] is given no tolerance: the Standard Webhooks libraries' 5 minutes.
const DefaultTolerance = 5 * time.Minute

// Why [Verify] refused a request; test with errors.Is.
var (
	ErrMissingSignature   = errors.New("webhookd: the request has no Webhook-Signature or X-Webhook-Signature header")
	ErrInvalidTimestamp   = errors.New("webhookd: the request's webhook timestamp is missing or not Unix seconds")
	ErrTimestampTolerance = errors.New("webhookd: the request's webhook timestamp is too far from now (replayed, or a clock is off)")
	ErrNoMatchingSig      = errors.New("webhookd: no signature of the request matches the secret")
)

// Verify checks that a request webhookd delivered was signed with secret
// (the endpoint's whsec_… signing secret) and is recent: header and body are
// the request's headers and its body exactly as received, before any JSON
// decoding. A nil error means the request is authentic; only then decode
// body. tolerance bounds the distance between the request's timestamp and
// now, both ways; 0 means [DefaultTolerance].
//
// webhookd signs every request in two schemes, and Verify accepts either:
//
//   - Standard Webhooks (Webhook-Id, Webhook-Timestamp, Webhook-Signature),
//     checked when present: HMAC-SHA256 over id + "." + timestamp + "." +
//     body keyed with the base64 decoding of the secret's part after
//     "whsec_", in a space-separated list of "v1,<base64>". While a secret
//     rotation's grace period lasts the list holds a signature by the new
//     secret and one by the previous secret, so a receiver still configured
//     with the previous secret keeps verifying until it switches.
//   - the webhooks guide's X-Webhook-Timestamp and X-Webhook-Signature,
//     checked when the Standard Webhooks headers are absent: lowercase hex of
//     HMAC-SHA256 over timestamp + body keyed with the whole secret string's
//     bytes. It carries only the current secret's signature.
func Verify(secret string, header http.Header, body []byte, tolerance time.Duration) error {
	return verifyAt(secret, header, body, tolerance, time.Now())
}

func verifyAt(secret string, header http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if sigs := header.Get(HeaderStandardSignature); sigs != "" {
		ts := header.Get(HeaderStandardTimestamp)
		if err := checkTimestamp(ts, tolerance, now); err != nil {
			return err
		}
		mac := hmac.New(sha256.New, standardKey(secret))
		mac.Write([]byte(header.Get(HeaderStandardID)))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		want := mac.Sum(nil)
		for sig := range strings.FieldsSeq(sigs) {
			version, encoded, ok := strings.Cut(sig, ",")
			if !ok || version != "v1" {
				continue // another scheme version: not ours to check
			}
			got, err := base64.StdEncoding.DecodeString(encoded)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
		return ErrNoMatchingSig
	}
	if sig := header.Get(HeaderWebhookSignature); sig != "" {
		ts := header.Get(HeaderWebhookTimestamp)
		if err := checkTimestamp(ts, tolerance, now); err != nil {
			return err
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts))
		mac.Write(body)
		got, err := hex.DecodeString(strings.TrimSpace(sig))
		if err == nil && hmac.Equal(got, mac.Sum(nil)) {
			return nil
		}
		return ErrNoMatchingSig
	}
	return ErrMissingSignature
}

func checkTimestamp(ts string, tolerance time.Duration, now time.Time) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > tolerance || d < -tolerance {
		return ErrTimestampTolerance
	}
	return nil
}

// standardKey is the Standard Webhooks HMAC key of secret, as webhookd and
// the standardwebhooks libraries derive it: the base64 decoding of what
// follows "whsec_", or the secret's raw bytes when that is not base64 (the
// libraries' "raw" secret format; webhookd never makes such secrets).
func standardKey(secret string) []byte {
	if encoded, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if key, err := base64.StdEncoding.DecodeString(encoded); err == nil && len(key) > 0 {
			return key
		}
	}
	return []byte(secret)
}
