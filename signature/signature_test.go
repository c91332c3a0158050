package signature_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/webhookd/webhookd/signature"
)

// TestSign checks Sign against known answers computed by Node.js: the guide's
// crypto.createHmac('sha256', secret).update(timestamp + body).digest('hex')
// and the standardwebhooks package's Webhook(secret).sign(...). The first
// secret and message are the Standard Webhooks specification's own test
// vector, so the webhook-signature half is also checked against the spec.
func TestSign(t *testing.T) {
	t.Parallel()
	const (
		specSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		otherSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
		msgID       = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		body        = `{"test": 2432232314}`
		specSig     = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
		otherSig    = "v1,78nXHjpFP0tVJQW5D0SBwmVyyW87BV/rL6MgfM/Bw44="
		guideSig    = "97c1ca77285a0e4bc3f1de9c2a92c7dfc2d9235df94fa6f861821062d88b958f"
	)
	ts := time.Unix(1614265330, 999_000_000) // sub-second part is not signed
	cases := []struct {
		name          string
		secrets       []string
		wantGuide     string
		wantStandard  string
		wantSignature bool
	}{
		{"one secret", []string{specSecret}, guideSig, specSig, true},
		{"rotation: current first, both in webhook-signature, only current in X-Webhook-Signature",
			[]string{specSecret, otherSecret}, guideSig, specSig + " " + otherSig, true},
		{"secret not in whsec_<base64> form keys Standard Webhooks with its raw bytes",
			[]string{"not-base64!"}, "", "v1,jpaChNOFcv9X8deUh0Wj8syeFwtuGQd26jYFy5TFrjE=", true},
		{"no secret: identity headers only", nil, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			signature.Sign(h, msgID, ts, []byte(body), tc.secrets)
			want := map[string]string{
				"X-Webhook-Id":        msgID,
				"X-Webhook-Timestamp": "1614265330",
				"Webhook-Id":          msgID,
				"Webhook-Timestamp":   "1614265330",
				"Webhook-Signature":   tc.wantStandard,
			}
			if tc.wantGuide != "" {
				want["X-Webhook-Signature"] = tc.wantGuide
			}
			for name, value := range want {
				if got := h.Get(name); got != value {
					t.Errorf("%s = %q, want %q", name, got, value)
				}
			}
			if _, ok := h["X-Webhook-Signature"]; ok != tc.wantSignature {
				t.Errorf("X-Webhook-Signature present = %v, want %v", ok, tc.wantSignature)
			}
		})
	}
}
