package webhookd

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Token and secret prefixes make a leaked string recognisable (and easy for
// secret scanners to match): whk_ for API tokens, whsec_ for endpoint secrets.
const (
	APITokenPrefix       = "whk_"
	EndpointSecretPrefix = "whsec_"
	// PortalTokenPrefix marks portal session tokens, which the
	// authenticator looks up among sessions rather than API keys.
	PortalTokenPrefix = "whps_"
)

// NewPortalToken returns a fresh portal session token with 256 bits of
// randomness; it is hashed and stored like an API token.
func NewPortalToken() string {
	return PortalTokenPrefix + randomBase64URL(32)
}

// NewAPIToken returns a fresh bearer token with 256 bits of randomness.
func NewAPIToken() string {
	return APITokenPrefix + randomBase64URL(32)
}

// HashAPIToken is the form in which tokens are stored and looked up. A plain
// SHA-256 is enough: tokens are random, not guessable passwords, so there is
// nothing for a slow hash to protect against, and lookups stay cheap.
func HashAPIToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// NewEndpointSecret returns a fresh signing secret: whsec_ and the standard
// base64 of 24 random bytes, the form Standard Webhooks libraries expect.
// The guide's verifier keys its HMAC with the whole string instead; both work
// from the one secret a customer copies.
func NewEndpointSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return EndpointSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

func randomBase64URL(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
