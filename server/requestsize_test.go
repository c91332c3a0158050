package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// TestRequestSizeLimits: requests larger than the request limit (twice the
// payload limit plus 64 KiB) are refused before decoding — REST with 413 and
// a JSON status, gRPC with RESOURCE_EXHAUSTED — while a payload at the
// payload limit still fits, and one just over it gets the payload limit's
// own INVALID_ARGUMENT, not a size error.
func TestRequestSizeLimits(t *testing.T) {
	t.Parallel()
	a := startApp(t, "sqlite://"+filepath.Join(t.TempDir(), "webhookd.db"))
	cs := transports(t, a)
	tn := cs["grpc"].newTenant(t)
	requestLimit := 2*testMaxPayload + 64<<10

	// data {"s":"xxx…"} of n bytes of JSON.
	payloadOf := func(n int) map[string]any { return map[string]any{"s": strings.Repeat("x", n-len(`{"s":""}`))} }

	t.Run("payload at the limit is accepted, over it is invalid", func(t *testing.T) {
		t.Parallel()
		for name, c := range cs {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				publish(t, c, tn, propertyCreated, "", payloadOf(testMaxPayload))
				d, _ := structpb.NewStruct(payloadOf(testMaxPayload + 1))
				_, err := c.ws.PublishEvent(tn.ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated, Data: d}})
				wantCode(t, err, codes.InvalidArgument)
			})
		}
	})

	t.Run("grpc message over the request limit", func(t *testing.T) {
		t.Parallel()
		d, _ := structpb.NewStruct(payloadOf(requestLimit + 1))
		_, err := cs["grpc"].ws.PublishEvent(tn.ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated, Data: d}})
		wantCode(t, err, codes.ResourceExhausted)
	})

	body, _ := json.Marshal(map[string]any{"type": propertyCreated, "data": payloadOf(requestLimit + 1)})
	for _, tc := range []struct {
		name    string
		chunked bool
	}{{"rest body over the request limit, with a length", false}, {"rest body over the request limit, chunked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var reader io.Reader = bytes.NewReader(body)
			if tc.chunked {
				reader = io.MultiReader(reader) // hides the length: sent chunked
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+a.HTTPAddr()+"/v1/events", reader)
			req.Header.Set("Authorization", bearerFrom(tn.ctx))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if tc.chunked != (req.ContentLength <= 0) {
				t.Fatalf("request length %d; chunked %v", req.ContentLength, tc.chunked)
			}
			var st struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			raw, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatalf("HTTP %d, body %q is not a JSON status", resp.StatusCode, raw)
			}
			if resp.StatusCode != http.StatusRequestEntityTooLarge || st.Code != int(codes.ResourceExhausted) ||
				!strings.Contains(st.Message, "request body larger than") {
				t.Fatalf("HTTP %d %s; want 413 with RESOURCE_EXHAUSTED and a message", resp.StatusCode, raw)
			}
		})
	}
}
