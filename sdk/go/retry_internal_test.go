package webhookd

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy()
	tests := []struct {
		retry int
		want  time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{7, 5 * time.Second}, // 6.4 s, capped
		{50, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := p.backoff(tt.retry); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.retry, got, tt.want)
		}
	}
}

func TestSafeToRepeat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method string
		want   bool
	}{
		{"/webhooks.v1.WebhookService/PublishEvent", true}, // carries an idempotency key
		{"/webhooks.v1.WebhookService/GetDelivery", true},
		{"/webhooks.v1.WebhookService/ListDeliveries", true},
		{"/webhooks.v1.WebhookService/CreateEndpoint", false},
		{"/webhooks.v1.WebhookService/RetryDelivery", false},
		{"/webhooks.v1.AdminService/CreateApiKey", false},
	}
	for _, tt := range tests {
		if got := safeToRepeat(tt.method); got != tt.want {
			t.Errorf("safeToRepeat(%s) = %v, want %v", tt.method, got, tt.want)
		}
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    RetryPolicy
		ok   bool
	}{
		{"default", DefaultRetryPolicy(), true},
		{"no retries", RetryPolicy{MaxAttempts: 1}, true},
		{"zero attempts", RetryPolicy{}, false},
		{"no backoff", RetryPolicy{MaxAttempts: 3, MaxBackoff: time.Second, Multiplier: 2}, false},
		{"max below initial", RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Millisecond, Multiplier: 2}, false},
		{"shrinking", RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Second, Multiplier: 0.5}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.3.2.1": true, "::1": true, "localhost": true, "LocalHost": true,
		"10.0.0.1": false, "webhookd.internal": false, "localhost.example": false, "0.0.0.0": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
