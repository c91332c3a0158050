package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/signature"
)

// The receiver must accept exactly what webhookd's signer produces and
// refuse the rest; otherwise its "bad signatures 0" would prove nothing.
func TestReceiverVerifiesWhatWebhookdSigns(t *testing.T) {
	t.Parallel()
	secret := webhookd.NewEndpointSecret()
	body := []byte(`{"id":"evt_1","type":"property.created","created":"2026-11-26T00:00:00Z","data":{}}`)
	signed := func(id string, secrets ...string) http.Header {
		h := http.Header{}
		signature.Sign(h, id, time.Now(), body, secrets)
		return h
	}
	tests := []struct {
		name    string
		header  http.Header
		wantBad bool
	}{
		{"signed with the endpoint's secret", signed("evt_1", secret), false},
		{"signed with another secret", signed("evt_1", webhookd.NewEndpointSecret()), true},
		{"headers name another event", signed("evt_2", secret), true},
		{"not signed", signed("evt_1"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &receiver{secrets: []string{secret}}
			problem := r.verify(0, tt.header.Get(signature.HeaderWebhookID), tt.header.Get(signature.HeaderWebhookTimestamp),
				tt.header.Get(signature.HeaderWebhookSignature), body)
			if (problem != "") != tt.wantBad {
				t.Errorf("verify = %q, want a problem: %v", problem, tt.wantBad)
			}
		})
	}
}

// A hanging endpoint records nothing for a request its sender gave up on,
// and answers again once the hang is over.
func TestReceiverHang(t *testing.T) {
	t.Parallel()
	r, err := startReceiver(1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	secret := webhookd.NewEndpointSecret()
	r.setSecret(0, secret)
	post := func(id string, timeout time.Duration) error {
		body := []byte(`{"id":"` + id + `"}`)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.urls[0], bytes.NewReader(body))
		signature.Sign(req.Header, id, time.Now(), body, []string{secret})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}

	r.hang(0, time.Second)
	if err := post("evt_hung", 200*time.Millisecond); err == nil {
		t.Fatal("a request to the hanging endpoint was answered")
	}
	time.Sleep(1100 * time.Millisecond)
	if err := post("evt_after", 5*time.Second); err != nil {
		t.Fatalf("after the hang: %v", err)
	}
	if r.has(arrivalKey{Endpoint: 0, ID: "evt_hung"}) {
		t.Error("the abandoned request was recorded as delivered")
	}
	if !r.has(arrivalKey{Endpoint: 0, ID: "evt_after"}) {
		t.Error("the request after the hang was not recorded")
	}
	if got := r.hungUp.Load(); got != 1 {
		t.Errorf("hungUp = %d, want 1", got)
	}
}
