// Package signature makes the signature headers of every request webhookd
// sends, in both schemes it speaks: the guide's X-Webhook-Signature and
// Standard Webhooks' webhook-signature. It is a package of its own, with no
// dependency beyond the standard library and the domain's secret format, so
// that what only needs to sign or check a request (webhookctl verify, the
// benchmark's baseline) does not link the delivery engine.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/webhookd/webhookd"
)

// Header names webhookd sets on every request. Endpoint custom headers can
// never replace them (see egress.IsReservedHeader).
const (
	HeaderWebhookID        = "X-Webhook-Id"
	HeaderWebhookTimestamp = "X-Webhook-Timestamp"
	HeaderWebhookSignature = "X-Webhook-Signature"

	HeaderStandardID        = "Webhook-Id"
	HeaderStandardTimestamp = "Webhook-Timestamp"
	HeaderStandardSignature = "Webhook-Signature"
)

// Sign sets the identity, timestamp and signature headers of one request in
// both schemes webhookd speaks. msgID is the event id (the same on every
// attempt, so receivers can deduplicate), ts the time of this attempt, body
// the exact bytes sent, and secrets the endpoint's signing secrets, current
// first, then the previous one while a rotation's grace period lasts. With no
// secrets only the id and timestamp headers are set.
//
// The two schemes key their HMAC differently from the same whsec_… string,
// and each must match what its verifiers do:
//
//  1. The guide's scheme, X-Webhook-Signature: lowercase hex of
//     HMAC-SHA256(key = UTF-8 bytes of the whole secret string, "whsec_"
//     prefix included, message = timestamp + body). The guide's Step 3 does
//     crypto.createHmac('sha256', secret) with the secret as a JavaScript
//     string, which Node keys with the string's UTF-8 bytes, and hashes
//     timestamp + JSON.stringify(req.body), which Envelope makes equal to
//     body. Only the current secret signs: the guide's verifier compares the
//     whole header with crypto.timingSafeEqual, so the header can carry
//     exactly one signature (a longer value even makes timingSafeEqual
//     throw). A receiver that follows the guide must therefore switch to the
//     new secret when it rotates; the Standard Webhooks headers are the ones
//     that carry both secrets through the grace period.
//
//  2. Standard Webhooks (https://www.standardwebhooks.com), webhook-*
//     headers: webhook-signature is space-separated "v1,<base64 of
//     HMAC-SHA256(key, id + "." + timestamp + "." + body)>", one per secret,
//     current first. The spec's key is the base64 decoding of the part after
//     "whsec_", which is how the standardwebhooks libraries (and Svix's)
//     construct Webhook(secret). A secret not of that form (webhookd never
//     makes one) is keyed with its raw UTF-8 bytes instead, which those
//     libraries verify with their "raw" secret format.
//
// Timestamps are Unix seconds in both schemes.
func Sign(h http.Header, msgID string, ts time.Time, body []byte, secrets []string) {
	timestamp := strconv.FormatInt(ts.Unix(), 10)
	h.Set(HeaderWebhookID, msgID)
	h.Set(HeaderWebhookTimestamp, timestamp)
	h.Set(HeaderStandardID, msgID)
	h.Set(HeaderStandardTimestamp, timestamp)
	if len(secrets) == 0 {
		return
	}

	mac := hmac.New(sha256.New, []byte(secrets[0]))
	mac.Write([]byte(timestamp))
	mac.Write(body)
	h.Set(HeaderWebhookSignature, hex.EncodeToString(mac.Sum(nil)))

	var sigs strings.Builder
	for i, secret := range secrets {
		mac := hmac.New(sha256.New, standardKey(secret))
		mac.Write([]byte(msgID))
		mac.Write([]byte{'.'})
		mac.Write([]byte(timestamp))
		mac.Write([]byte{'.'})
		mac.Write(body)
		if i > 0 {
			sigs.WriteByte(' ')
		}
		sigs.WriteString("v1,")
		sigs.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	h.Set(HeaderStandardSignature, sigs.String())
}

// standardKey is the Standard Webhooks HMAC key of secret: the base64
// decoding of what follows "whsec_", or the raw bytes when it is not base64.
func standardKey(secret string) []byte {
	encoded, ok := strings.CutPrefix(secret, webhookd.EndpointSecretPrefix)
	if ok {
		if key, err := base64.StdEncoding.DecodeString(encoded); err == nil && len(key) > 0 {
			return key
		}
	}
	return []byte(secret)
}
