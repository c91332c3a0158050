package webhookd_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	webhookd "github.com/webhookd/webhookd/sdk/go"
)

// receivedRequest is one request a test receiver got.
type receivedRequest struct {
	header http.Header
	body   []byte
}

// receiver is a real loopback HTTP server that records what webhookd
// delivers and answers with status (200 until changed).
type receiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []receivedRequest
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, receivedRequest{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// TestContract is the scenario every webhookd SDK runs against a real
// webhookd (the TypeScript and Python SDKs run the same steps): create an
// endpoint pointing at a receiver, publish an event, wait for the delivery,
// list its attempts, make the receiver fail, retry the delivery, and verify
// the received requests with the SDK's own verifier.
func TestContract(t *testing.T) {
	t.Parallel()
	p := startTestWebhookd(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	tn, err := newTenant(ctx, p, "Contract Realty")
	if err != nil {
		t.Fatal(err)
	}
	client, err := webhookd.New(p.GRPCAddr, tn.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	recv := newReceiver(t)

	ep, err := client.WebhookService().CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{
		Endpoint: &webhooksv1.Endpoint{Url: recv.URL + "/webhooks/real-estate", EventTypes: []string{"property.created"}},
	})
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	secret := ep.GetSecret()

	data, err := structpb.NewStruct(map[string]any{"property": map[string]any{"id": "prop_123456", "price": 750000}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := client.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: data}})
	if err != nil {
		t.Fatalf("PublishEvent: %v", err)
	}
	if ev.GetIdempotencyKey() == "" {
		t.Errorf("the published event has no idempotency key: the client should have given it one")
	}

	// Wait for the delivery to succeed, through the iterator.
	var delivery *webhooksv1.Delivery
	err = waitFor(ctx, "the delivery to succeed", func() (bool, error) {
		var ds []*webhooksv1.Delivery
		for d, err := range client.Deliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: ev.GetName()}) {
			if err != nil {
				return false, err
			}
			ds = append(ds, d)
		}
		if len(ds) != 1 {
			return false, errors.New("want exactly one delivery for the one endpoint")
		}
		delivery = ds[0]
		return delivery.GetStatus() == webhooksv1.Delivery_SUCCEEDED, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if delivery.GetEndpoint() != ep.GetName() {
		t.Errorf("delivery endpoint = %q, want %q", delivery.GetEndpoint(), ep.GetName())
	}

	// Its attempts: one, answered 200.
	got, err := client.WebhookService().GetDelivery(ctx, &webhooksv1.GetDeliveryRequest{Name: delivery.GetName()})
	if err != nil {
		t.Fatalf("GetDelivery: %v", err)
	}
	if n := len(got.GetAttempts()); n != 1 || got.GetAttempts()[0].GetResponseStatusCode() != http.StatusOK {
		t.Fatalf("attempts after the first delivery = %v, want one answered 200", got.GetAttempts())
	}

	// Make the receiver fail and retry the delivery: a second, manual
	// attempt answered 500.
	recv.status.Store(http.StatusInternalServerError)
	if _, err := client.WebhookService().RetryDelivery(ctx, &webhooksv1.RetryDeliveryRequest{Name: delivery.GetName()}); err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	var failed *webhooksv1.Attempt
	err = waitFor(ctx, "the retried attempt", func() (bool, error) {
		d, err := client.WebhookService().GetDelivery(ctx, &webhooksv1.GetDeliveryRequest{Name: delivery.GetName()})
		if err != nil {
			return false, err
		}
		for _, a := range d.GetAttempts() {
			if a.GetTrigger() == webhooksv1.Attempt_MANUAL {
				failed = a
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if failed.GetResponseStatusCode() != http.StatusInternalServerError {
		t.Errorf("retried attempt answered %d, want 500", failed.GetResponseStatusCode())
	}

	// Both requests the receiver got verify with the endpoint's secret, in
	// both of webhookd's schemes, and carry the event.
	reqs := recv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (the delivery and its retry)", len(reqs))
	}
	for i, r := range reqs {
		if err := webhookd.Verify(secret, r.header, r.body, 0); err != nil {
			t.Errorf("request %d: Verify (Standard Webhooks headers): %v", i, err)
		}
		guideOnly := r.header.Clone()
		guideOnly.Del(webhookd.HeaderStandardSignature)
		if err := webhookd.Verify(secret, guideOnly, r.body, 0); err != nil {
			t.Errorf("request %d: Verify (X-Webhook-* headers): %v", i, err)
		}
		if err := webhookd.Verify("whsec_"+"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", r.header, r.body, 0); !errors.Is(err, webhookd.ErrNoMatchingSig) {
			t.Errorf("request %d: Verify with another secret = %v, want ErrNoMatchingSig", i, err)
		}
		var body struct{ ID, Type string }
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("request %d: body: %v", i, err)
		}
		if "events/"+body.ID != ev.GetName() || body.Type != "property.created" {
			t.Errorf("request %d: body id %q type %q, want the event %s", i, body.ID, body.Type, ev.GetName())
		}
	}
}

// TestRetryHonoursRetryInfo runs against a webhookd limiting each account to
// one call a second: a call over the limit gets RESOURCE_EXHAUSTED with a
// RetryInfo; the client waits that long and succeeds, and without retries
// the failure reaches the caller with the delay.
func TestRetryHonoursRetryInfo(t *testing.T) {
	t.Parallel()
	p := startTestWebhookd(t, "--rate-limit", "1", "--rate-burst", "1")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	tn, err := newTenant(ctx, p, "Busy Realty")
	if err != nil {
		t.Fatal(err)
	}

	once, err := webhookd.New(p.GRPCAddr, tn.Key, webhookd.WithRetryPolicy(webhookd.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer once.Close()
	var limited *webhookd.Error
	for range 3 { // the burst is one call: the second or third is limited
		_, err = once.WebhookService().ListEndpoints(ctx, &webhooksv1.ListEndpointsRequest{})
		if errors.As(err, &limited) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if limited == nil || limited.Code() != codes.ResourceExhausted {
		t.Fatalf("without retries, calls over the limit: %v, want RESOURCE_EXHAUSTED", err)
	}
	if d, ok := limited.RetryDelay(); !ok || d <= 0 {
		t.Fatalf("RetryDelay of the limited call = %v, %v: want webhookd's RetryInfo", d, ok)
	}

	var mu sync.Mutex
	var retries []webhookd.RetryEvent
	client, err := webhookd.New(p.GRPCAddr, tn.Key, webhookd.WithRetryHook(func(e webhookd.RetryEvent) {
		mu.Lock()
		retries = append(retries, e)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// The account's budget is spent: this call is limited at first, waits
	// and succeeds.
	if _, err := client.WebhookService().ListEndpoints(ctx, &webhooksv1.ListEndpointsRequest{}); err != nil {
		t.Fatalf("with retries: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(retries) == 0 {
		t.Fatal("the call succeeded without a retry: the limit did not apply, so the test proves nothing")
	}
	for _, r := range retries {
		want, ok := r.Err.RetryDelay()
		if r.Err.Code() != codes.ResourceExhausted || !ok || r.Delay != want {
			t.Errorf("retry after %v waited %v, want the RetryInfo delay %v", r.Err, r.Delay, want)
		}
	}
}

// TestRetryUntilWebhookdIsUp retries a read that fails with UNAVAILABLE
// because webhookd is not listening yet, and succeeds once it is: the
// failure of a real restart or rollout, with backoff.
func TestRetryUntilWebhookdIsUp(t *testing.T) {
	t.Parallel()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	// A free port, closed again so that nothing listens on it until
	// webhookd does.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()

	token := "whk_sdktest_" + randomHex(16)
	var mu sync.Mutex
	var retries []webhookd.RetryEvent
	client, err := webhookd.New(addr, token,
		webhookd.WithRetryPolicy(webhookd.RetryPolicy{MaxAttempts: 100, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Multiplier: 2}),
		webhookd.WithRetryHook(func(e webhookd.RetryEvent) {
			mu.Lock()
			retries = append(retries, e)
			mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	done := make(chan error, 1)
	go func() {
		_, err := client.AdminService().ListAccounts(ctx, &webhooksv1.ListAccountsRequest{})
		done <- err
	}()
	// Start webhookd only once the call has failed at least once.
	if err := waitFor(ctx, "a first failed attempt", func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return len(retries) > 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	p, err := startWebhookdWithToken(t.TempDir(), token, "--grpc-addr", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if err := <-done; err != nil {
		t.Fatalf("ListAccounts while webhookd started: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range retries {
		if r.Err.Code() != codes.Unavailable {
			t.Errorf("retried after %v, want UNAVAILABLE only", r.Err)
		}
	}
}

// TestClient covers the client's behaviour against one real webhookd.
func TestClient(t *testing.T) {
	t.Parallel()
	p := startTestWebhookd(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel) // the parallel subtests run after this function returns

	t.Run("field violations", func(t *testing.T) {
		t.Parallel()
		tn, err := newTenant(ctx, p, "Strict Realty")
		if err != nil {
			t.Fatal(err)
		}
		client, err := webhookd.New(p.GRPCAddr, tn.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		_, err = client.WebhookService().CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{
			Endpoint: &webhooksv1.Endpoint{Url: "ftp://files.example/hooks", EventTypes: []string{"property.created"}},
		})
		var e *webhookd.Error
		if !errors.As(err, &e) || e.Code() != codes.InvalidArgument {
			t.Fatalf("CreateEndpoint with an ftp URL = %v, want an *Error with INVALID_ARGUMENT", err)
		}
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("status.Code(err) = %v: *Error must keep its gRPC status", status.Code(err))
		}
		vs := e.FieldViolations()
		if len(vs) != 1 || vs[0].Field != "endpoint.url" || vs[0].Description == "" {
			t.Errorf("FieldViolations = %+v, want one naming endpoint.url", vs)
		}
	})

	t.Run("iterators fetch every page", func(t *testing.T) {
		t.Parallel()
		tn, err := newTenant(ctx, p, "Paged Realty")
		if err != nil {
			t.Fatal(err)
		}
		client, err := webhookd.New(p.GRPCAddr, tn.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		var want []string
		for range 5 {
			ev, err := client.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "user.registered", Data: &structpb.Struct{}}})
			if err != nil {
				t.Fatal(err)
			}
			want = append([]string{ev.GetName()}, want...) // newest first
		}
		req := &webhooksv1.ListEventsRequest{PageSize: 2}
		var got []string
		for ev, err := range client.Events(ctx, req) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.GetName())
		}
		if !slices.Equal(got, want) {
			t.Errorf("Events in pages of 2 = %v, want %v", got, want)
		}
		if req.GetPageToken() != "" {
			t.Errorf("the iterator set the caller's request's page token")
		}
		n := 0
		for range client.Events(ctx, req) {
			if n++; n == 3 {
				break
			}
		}
		if n != 3 {
			t.Errorf("breaking after 3 events stopped at %d", n)
		}
		var e *webhookd.Error
		for _, err := range client.Events(ctx, &webhooksv1.ListEventsRequest{PageSize: -1}) {
			if !errors.As(err, &e) || len(e.FieldViolations()) == 0 || e.FieldViolations()[0].Field != "page_size" {
				t.Errorf("a refused page: %v, want a field violation of page_size", err)
			}
		}
	})

	t.Run("publish retried after UNAVAILABLE is stored once", func(t *testing.T) {
		t.Parallel()
		tn, err := newTenant(ctx, p, "Flaky Network Realty")
		if err != nil {
			t.Fatal(err)
		}
		proxy := newDroppingProxy(t, p.GRPCAddr)

		// Without retries the fault reaches the caller, after webhookd
		// stored the event: a publish whose answer was lost.
		once, err := webhookd.New(proxy.addr, tn.Key, webhookd.WithRetryPolicy(webhookd.RetryPolicy{MaxAttempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		defer once.Close()
		proxy.dropNextPublish.Store(true)
		req := &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.sold", Data: &structpb.Struct{}}}
		if _, err := once.PublishEvent(ctx, req); status.Code(err) != codes.Unavailable {
			t.Fatalf("publish through the proxy without retries = %v, want UNAVAILABLE", err)
		}

		client, err := webhookd.New(proxy.addr, tn.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		proxy.dropNextPublish.Store(true)
		proxy.resetKeys()
		ev, err := client.PublishEvent(ctx, req)
		if err != nil {
			t.Fatalf("publish with retries: %v", err)
		}
		keys := proxy.publishKeys()
		if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] || ev.GetIdempotencyKey() != keys[0] {
			t.Fatalf("publish attempts carried keys %q (event's: %q), want two attempts with one key", keys, ev.GetIdempotencyKey())
		}
		if req.GetIdempotencyKey() != "" {
			t.Errorf("the client set the key on the caller's request")
		}
		// The same request published again is a new event with a new key.
		again, err := client.PublishEvent(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if again.GetName() == ev.GetName() {
			t.Errorf("a second publish of the same request was taken for a retry of the first")
		}

		// Stored: the one of the no-retry client, the retried one once, the
		// second publish.
		var stored []string
		for e, err := range client.Events(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			stored = append(stored, e.GetName())
		}
		if len(stored) != 3 || slices.Index(stored, ev.GetName()) < 0 {
			t.Errorf("events stored = %v, want 3 with %s once", stored, ev.GetName())
		}
	})
}

// droppingProxy is a gRPC proxy in front of webhookd that passes calls on
// unchanged, except that it can lose the answer of a publish webhookd has
// processed and tell the client UNAVAILABLE instead: the connection failure
// between "stored" and "answered" that idempotency keys exist for, which a
// real network does not produce on cue.
type droppingProxy struct {
	addr            string
	dropNextPublish atomic.Bool
	mu              sync.Mutex
	keys            []string
}

func newDroppingProxy(t *testing.T, upstreamAddr string) *droppingProxy {
	t.Helper()
	upstream, err := grpc.NewClient(upstreamAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { upstream.Close() })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &droppingProxy{addr: lis.Addr().String()}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		var in []byte
		if err := stream.RecvMsg(&in); err != nil {
			return err
		}
		ctx := stream.Context()
		md, _ := metadata.FromIncomingContext(ctx)
		ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", first(md.Get("authorization"))))
		isPublish := method == "/webhooks.v1.WebhookService/PublishEvent"
		if isPublish {
			var req webhooksv1.PublishEventRequest
			if err := proto.Unmarshal(in, &req); err == nil {
				px.mu.Lock()
				px.keys = append(px.keys, req.GetIdempotencyKey())
				px.mu.Unlock()
			}
		}
		var out []byte
		if err := upstream.Invoke(ctx, method, &in, &out, grpc.ForceCodec(rawCodec{})); err != nil {
			return err
		}
		if isPublish && px.dropNextPublish.CompareAndSwap(true, false) {
			return status.Error(codes.Unavailable, "proxy: connection lost before the answer")
		}
		return stream.SendMsg(&out)
	}))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return px
}

func (px *droppingProxy) publishKeys() []string {
	px.mu.Lock()
	defer px.mu.Unlock()
	return slices.Clone(px.keys)
}

func (px *droppingProxy) resetKeys() {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.keys = nil
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// rawCodec passes messages through as bytes, so the proxy needs no types.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }
