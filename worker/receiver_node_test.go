package worker_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/internal/guidereceiver"
	"github.com/webhookd/webhookd/payload"
	"github.com/webhookd/webhookd/signature"
	"github.com/webhookd/webhookd/worker"
)

// TestGuideVerifierAcceptsOurSignatures is the end-to-end proof of the
// delivery contract: requests made by Sender, with bodies made by Envelope,
// pass both the guide's own Express verifier (which re-serialises the body
// with JSON.stringify before hashing) and the standardwebhooks package,
// including during a secret rotation; a tampered body or a wrong secret is
// refused by both.
func TestGuideVerifierAcceptsOurSignatures(t *testing.T) {
	t.Parallel()
	guidereceiver.RequireNode(t, "npm")
	const (
		current  = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
		previous = testSecret
	)
	sender := newTestSender(t, worker.SenderConfig{Timeout: 10 * time.Second})

	var events []*webhookd.Event
	for _, et := range webhookd.BuiltinEventTypes() { // the guide's two examples among them
		events = append(events, eventFromExample(t, et.Example))
	}
	for i, data := range []string{
		`{"name":"Zoë Ångström","note":"日本語 😀 \u2028 \u0007 \"quoted\" \\ </script>","lone":"\ud800"}`,
		`{"big":1e21,"tenth":0.1,"neg0":-0,"tiny":1e-7,"exp":1E+2,"max":1.7976931348623157e308,"long":123456789012345678901234567890,"sum":0.30000000000000004}`,
		`{"b":1,"10":"ten","2":"two","a":{"1":true,"0":false,"z":[null]}}`,
	} {
		canon, err := payload.CanonicalizeObject([]byte(data))
		if err != nil {
			t.Fatalf("data %d: %v", i, err)
		}
		events = append(events, &webhookd.Event{ID: fmt.Sprintf("evt_custom%d", i), Type: "property.updated", CreateTime: time.Now(), Data: canon})
	}

	t.Run("one secret", func(t *testing.T) {
		r := guidereceiver.Start(t, current)
		for _, ev := range events {
			res := sender.Send(t.Context(), worker.Request{
				URL: r.URL, Body: worker.Envelope(ev), MessageID: ev.ID, Timestamp: time.Now(), Secrets: []string{current},
			})
			l := r.Next(t)
			if !res.OK() || res.BodyExcerpt != `{"received":true}` || l.Status != 200 {
				t.Errorf("%s: result %+v, receiver %+v; want both verifications to pass", ev.ID, res, l)
			}
			if l.ID != ev.ID || l.Type != ev.Type || l.ContentType != "application/json" {
				t.Errorf("%s: receiver saw id %q type %q content type %q", ev.ID, l.ID, l.Type, l.ContentType)
			}
		}
	})

	t.Run("rotation: both secrets verify webhook-signature, the current one X-Webhook-Signature", func(t *testing.T) {
		r := guidereceiver.Start(t, current, current, previous)
		for _, ev := range events[:3] {
			res := sender.Send(t.Context(), worker.Request{
				URL: r.URL, Body: worker.Envelope(ev), MessageID: ev.ID, Timestamp: time.Now(), Secrets: []string{current, previous},
			})
			l := r.Next(t)
			if !res.OK() || len(l.Standard) != 2 || !l.Standard[0].Passed || !l.Standard[1].Passed || !l.Guide.Passed {
				t.Errorf("%s: result %+v, receiver %+v", ev.ID, res, l)
			}
		}
	})

	t.Run("a wrong secret is refused", func(t *testing.T) {
		r := guidereceiver.Start(t, current)
		ev := events[0]
		res := sender.Send(t.Context(), worker.Request{
			URL: r.URL, Body: worker.Envelope(ev), MessageID: ev.ID, Timestamp: time.Now(), Secrets: []string{previous},
		})
		l := r.Next(t)
		if res.StatusCode != 401 || res.Err != "unexpected status 401" || l.Guide.Passed || l.Standard[0].Passed {
			t.Errorf("result %+v, receiver %+v; want 401 from both checks", res, l)
		}
	})

	t.Run("a tampered body is refused", func(t *testing.T) {
		r := guidereceiver.Start(t, current)
		ev := events[0]
		body := worker.Envelope(ev)
		tampered := bytes.Replace(body, []byte("750000"), []byte("750001"), 1)
		if bytes.Equal(body, tampered) {
			t.Fatal("the first event is not the guide's property.created example")
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL, bytes.NewReader(tampered))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		signature.Sign(req.Header, ev.ID, time.Now(), body, []string{current})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		l := r.Next(t)
		if resp.StatusCode != 401 || l.Guide.Passed || l.Standard[0].Passed {
			t.Errorf("status %d, receiver %+v; want 401 from both checks", resp.StatusCode, l)
		}
	})
}
