package webhookd_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"time"

	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"

	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	webhookd "github.com/webhookd/webhookd/sdk/go"
)

// Publish an event for the key's account. The client gives the publish an
// idempotency key, so retries after a lost answer store it once.
func ExampleClient_PublishEvent() {
	ctx := context.Background()
	client, err := webhookd.New(os.Getenv("WEBHOOKD_ADDR"), os.Getenv("WEBHOOKD_API_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	data, _ := structpb.NewStruct(map[string]any{
		"property": map[string]any{"id": "prop_123456", "address": "123 Main St, New York, NY 10001", "price": 750000},
	})
	ev, err := client.PublishEvent(ctx, &webhooksv1.PublishEventRequest{
		Event: &webhooksv1.Event{Type: "property.created", Data: data},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.GetType(), strings.HasPrefix(ev.GetName(), "events/evt_"))
	// Output: property.created true
}

// List an event's deliveries, one per subscribed endpoint, page after page.
func ExampleClient_Deliveries() {
	ctx := context.Background()
	client, err := webhookd.New(os.Getenv("WEBHOOKD_ADDR"), os.Getenv("WEBHOOKD_API_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	data, _ := structpb.NewStruct(map[string]any{"property": map[string]any{"id": "prop_123456"}})
	ev, err := client.PublishEvent(ctx, &webhooksv1.PublishEventRequest{
		Event: &webhooksv1.Event{Type: "property.created", Data: data},
	})
	if err != nil {
		log.Fatal(err)
	}
	for d, err := range client.Deliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: ev.GetName()}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d.GetEventType(), strings.HasPrefix(d.GetEndpoint(), "endpoints/ep_"))
	}
	// Output: property.created true
}

// Verify webhookd's signature in a net/http handler before trusting the
// body. The body must be the exact bytes received: read it whole, verify,
// then decode.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the endpoint's signing secret, e.g. os.Getenv("WEBHOOK_SECRET")

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhookd.Verify(secret, r.Header, body, 5*time.Minute); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		// Authentic: decode body and handle the event (deduplicate on
		// Webhook-Id, the same on every attempt).
		w.WriteHeader(http.StatusOK)
	})

	// A request as webhookd sends it, and a forged one.
	srv := httptest.NewServer(handler)
	defer srv.Close()
	body := `{"id":"evt_1","type":"property.created","created":"2026-12-01T10:00:00Z","data":{}}`
	for _, sign := range []string{secret, "whsec_c29tZW9uZSBlbHNlJ3Mgc2VjcmV0IGtleQ=="} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		signStandard(req.Header, sign, "evt_1", time.Now(), body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 200
	// 401
}

// signStandard signs a request as webhookd does (Standard Webhooks).
func signStandard(h http.Header, secret, id string, at time.Time, body string) {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + body))
	h.Set("Webhook-Id", id)
	h.Set("Webhook-Timestamp", ts)
	h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}
