package webhookd_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	webhookd "github.com/webhookd/webhookd/sdk/go"
)

// The Standard Webhooks specification's own test vector: a verifier that
// derives the key differently from the spec (and so from webhookd's
// signature.Sign) fails it.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = "1614265330"
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var specTime = time.Unix(1614265330, 0)

func standardHeader(sig string) http.Header {
	h := http.Header{}
	h.Set(webhookd.HeaderStandardID, specID)
	h.Set(webhookd.HeaderStandardTimestamp, specTimestamp)
	h.Set(webhookd.HeaderStandardSignature, sig)
	return h
}

// guideHeader signs body the guide's way: Node's
// createHmac('sha256', secret).update(timestamp + body).digest('hex').
func guideHeader(secret, timestamp, body string) http.Header {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + body))
	h := http.Header{}
	h.Set(webhookd.HeaderWebhookTimestamp, timestamp)
	h.Set(webhookd.HeaderWebhookSignature, hex.EncodeToString(mac.Sum(nil)))
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	const otherSecret = "whsec_2nxS3T9GEpREy59ukKuSMZUZ3vYRiybi"
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		{"standard webhooks spec vector", specSecret, standardHeader(specSignature), specBody, specTime, nil},
		{"rotation: the previous secret's signature second", specSecret, standardHeader("v1,Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg= " + specSignature), specBody, specTime, nil},
		{"another scheme version is ignored", specSecret, standardHeader("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), specBody, specTime, webhookd.ErrNoMatchingSig},
		{"standard: body changed", specSecret, standardHeader(specSignature), `{"test": 2432232315}`, specTime, webhookd.ErrNoMatchingSig},
		{"standard: wrong secret", otherSecret, standardHeader(specSignature), specBody, specTime, webhookd.ErrNoMatchingSig},
		{"standard: key is not the secret's string bytes", specSecret, func() http.Header {
			mac := hmac.New(sha256.New, []byte(specSecret))
			mac.Write([]byte(specID + "." + specTimestamp + "." + specBody))
			return standardHeader("v1," + hex.EncodeToString(mac.Sum(nil)))
		}(), specBody, specTime, webhookd.ErrNoMatchingSig},
		{"standard: timestamp 6 minutes old", specSecret, standardHeader(specSignature), specBody, specTime.Add(6 * time.Minute), webhookd.ErrTimestampTolerance},
		{"standard: timestamp 6 minutes ahead", specSecret, standardHeader(specSignature), specBody, specTime.Add(-6 * time.Minute), webhookd.ErrTimestampTolerance},
		{"standard: timestamp 4 minutes old", specSecret, standardHeader(specSignature), specBody, specTime.Add(4 * time.Minute), nil},
		{"guide scheme", otherSecret, guideHeader(otherSecret, specTimestamp, specBody), specBody, specTime, nil},
		{"guide: wrong secret", specSecret, guideHeader(otherSecret, specTimestamp, specBody), specBody, specTime, webhookd.ErrNoMatchingSig},
		{"guide: body changed", otherSecret, guideHeader(otherSecret, specTimestamp, specBody), specBody + " ", specTime, webhookd.ErrNoMatchingSig},
		{"guide: timestamp not a number", otherSecret, guideHeader(otherSecret, "soon", specBody), specBody, specTime, webhookd.ErrInvalidTimestamp},
		{"guide: too old", otherSecret, guideHeader(otherSecret, specTimestamp, specBody), specBody, specTime.Add(time.Hour), webhookd.ErrTimestampTolerance},
		{"no signature headers", specSecret, http.Header{}, specBody, specTime, webhookd.ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhookd.VerifyAt(tt.secret, tt.header, []byte(tt.body), 0, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	t.Parallel()
	h := standardHeader(specSignature)
	if err := webhookd.VerifyAt(specSecret, h, []byte(specBody), time.Hour, specTime.Add(30*time.Minute)); err != nil {
		t.Errorf("30 minutes within a tolerance of an hour: %v", err)
	}
	if err := webhookd.VerifyAt(specSecret, h, []byte(specBody), time.Minute, specTime.Add(2*time.Minute)); !errors.Is(err, webhookd.ErrTimestampTolerance) {
		t.Errorf("2 minutes with a tolerance of 1: %v, want ErrTimestampTolerance", err)
	}
}
