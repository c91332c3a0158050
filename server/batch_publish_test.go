package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// TestBatchPublish runs the BatchPublishEvents cases over gRPC and REST, on
// SQLite and PostgreSQL. This webhookd runs the worker role too, so that
// published deliveries reach a real receiver.
func TestBatchPublish(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			a := startApp(t, b.databaseURL(t), "--roles=api,worker", "--allow-http-endpoints", "--allow-cidr=127.0.0.0/8")
			for name, c := range transports(t, a) {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					for _, tc := range batchCases {
						t.Run(tc.name, func(t *testing.T) {
							t.Parallel()
							tc.run(t, c)
						})
					}
				})
			}
		})
	}
}

var batchCases = []struct {
	name string
	run  func(t *testing.T, c *client)
}{
	{"publishes every event", testBatchPublishes},
	{"idempotency keys within the batch and before it", testBatchIdempotency},
	{"a bad event fails alone, named by its index", testBatchBadEvent},
	{"the batch itself is bounded", testBatchBounds},
	{"deliveries reach the receiver", testBatchDeliveries},
}

// publishRequest is one request of a batch.
func publishRequest(t *testing.T, typ, key string, data map[string]any) *webhooksv1.PublishEventRequest {
	t.Helper()
	s, err := structpb.NewStruct(data)
	if err != nil {
		t.Fatal(err)
	}
	return &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: typ, Data: s}, IdempotencyKey: key}
}

func batchPublish(t *testing.T, c *client, tn tenant, requests ...*webhooksv1.PublishEventRequest) []*webhooksv1.BatchPublishEventsResponse_Result {
	t.Helper()
	resp, err := c.ws.BatchPublishEvents(tn.ctx, &webhooksv1.BatchPublishEventsRequest{Requests: requests})
	if err != nil {
		t.Fatalf("BatchPublishEvents: %v", err)
	}
	if len(resp.GetResults()) != len(requests) {
		t.Fatalf("%d results for %d requests", len(resp.GetResults()), len(requests))
	}
	return resp.GetResults()
}

func listEvents(t *testing.T, c *client, tn tenant) []*webhooksv1.Event {
	t.Helper()
	resp, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetEvents()
}

func testBatchPublishes(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	results := batchPublish(t, c, tn,
		publishRequest(t, propertyCreated, "", map[string]any{"property": map[string]any{"id": "prop_1", "price": 750000}}),
		publishRequest(t, "appointment.scheduled", "", map[string]any{"appointment": map[string]any{"id": "apt_1"}}),
		publishRequest(t, propertyCreated, "", map[string]any{"property": map[string]any{"id": "prop_2"}}),
	)
	names := map[string]bool{}
	for i, r := range results {
		ev := r.GetEvent()
		if r.GetError() != nil || !strings.HasPrefix(ev.GetName(), "events/evt_") || ev.GetAccount() != tn.account || ev.GetCreateTime() == nil {
			t.Fatalf("results[%d] = %v, want a published event of %s", i, r, tn.account)
		}
		names[ev.GetName()] = true
	}
	if results[0].GetEvent().GetData().GetFields()["property"].GetStructValue().GetFields()["price"].GetNumberValue() != 750000 ||
		results[1].GetEvent().GetType() != "appointment.scheduled" || len(names) != 3 {
		t.Fatalf("results %v: want three events, each with its own type and data", results)
	}
	stored := listEvents(t, c, tn)
	if len(stored) != 3 {
		t.Fatalf("%d events stored, want 3", len(stored))
	}
	for _, ev := range stored {
		if !names[ev.GetName()] {
			t.Fatalf("stored %s, which no result names", ev.GetName())
		}
	}
	// The endpoint subscribes to property.created: two of the three.
	dels := deliveriesOf(t, c, tn, ep.GetName())
	got := []string{}
	for _, d := range dels {
		got = append(got, d.GetEvent())
	}
	slices.Sort(got)
	want := []string{results[0].GetEvent().GetName(), results[2].GetEvent().GetName()}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("deliveries for events %v, want %v", got, want)
	}
}

func testBatchIdempotency(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	data := map[string]any{"property": map[string]any{"id": "prop_1"}}
	earlier := publish(t, c, tn, propertyCreated, "order-1", data)
	results := batchPublish(t, c, tn,
		publishRequest(t, propertyCreated, "order-1", data), // published before
		publishRequest(t, propertyCreated, "order-2", data),
		publishRequest(t, propertyCreated, "order-2", map[string]any{"other": true}), // the batch's own key again
		publishRequest(t, propertyCreated, "", data),
	)
	for i, r := range results {
		if r.GetError() != nil {
			t.Fatalf("results[%d] failed: %v", i, r.GetError())
		}
	}
	if got := results[0].GetEvent().GetName(); got != earlier.GetName() {
		t.Fatalf("a key used before gave %s, want the earlier event %s", got, earlier.GetName())
	}
	if results[1].GetEvent().GetName() != results[2].GetEvent().GetName() ||
		results[2].GetEvent().GetData().GetFields()["property"] == nil {
		t.Fatalf("one key twice in a batch gave %v and %v, want the first event twice", results[1].GetEvent(), results[2].GetEvent())
	}
	if results[3].GetEvent().GetName() == results[1].GetEvent().GetName() || results[3].GetEvent().GetName() == earlier.GetName() {
		t.Fatal("an event without a key was answered with another event")
	}
	if n := len(listEvents(t, c, tn)); n != 3 {
		t.Fatalf("%d events stored, want 3 (the earlier one, order-2 and the keyless one)", n)
	}
	if n := len(deliveriesOf(t, c, tn, ep.GetName())); n != 3 {
		t.Fatalf("%d deliveries, want one per event (3)", n)
	}
}

func testBatchBadEvent(t *testing.T, c *client) {
	tn := c.newTenant(t)
	good := map[string]any{"property": map[string]any{"id": "prop_1"}}
	results := batchPublish(t, c, tn,
		publishRequest(t, propertyCreated, "", good),
		publishRequest(t, "", "", good),
		publishRequest(t, "property.demolished", "", good),
		publishRequest(t, propertyCreated, strings.Repeat("k", 256), good),
		publishRequest(t, propertyCreated, "", map[string]any{"big": strings.Repeat("x", testMaxPayload)}),
		&webhooksv1.PublishEventRequest{},
		publishRequest(t, propertyCreated, "", good),
	)
	wantField := map[int]string{
		1: "requests[1].event.type", 2: "requests[2].event.type", 3: "requests[3].idempotency_key",
		4: "requests[4].event.data", 5: "requests[5].event",
	}
	for i, r := range results {
		field, bad := wantField[i]
		switch {
		case !bad && (r.GetError() != nil || r.GetEvent().GetName() == ""):
			t.Errorf("results[%d] = %v, want an event", i, r)
		case bad && (r.GetEvent() != nil || codes.Code(r.GetError().GetCode()) != codes.InvalidArgument ||
			r.GetError().GetField() != field || !strings.HasPrefix(r.GetError().GetMessage(), field+": ")):
			t.Errorf("results[%d] = %v, want INVALID_ARGUMENT naming %s", i, r, field)
		}
	}
	if n := len(listEvents(t, c, tn)); n != 2 {
		t.Fatalf("%d events stored, want the 2 good ones", n)
	}

	// A request naming another account than the batch's fails alone.
	other := c.newTenant(t)
	resp, err := c.ws.BatchPublishEvents(tn.ctx, &webhooksv1.BatchPublishEventsRequest{Account: tn.account, Requests: []*webhooksv1.PublishEventRequest{
		{Account: other.account, Event: publishRequest(t, propertyCreated, "", good).GetEvent()},
		{Account: tn.account, Event: publishRequest(t, propertyCreated, "", good).GetEvent()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.GetResults(); r[0].GetError().GetField() != "requests[0].account" || r[1].GetEvent() == nil {
		t.Fatalf("results %v, want requests[0].account refused and requests[1] published", r)
	}
}

func testBatchBounds(t *testing.T, c *client) {
	tn := c.newTenant(t)
	_, err := c.ws.BatchPublishEvents(tn.ctx, &webhooksv1.BatchPublishEventsRequest{})
	wantInvalid(t, err, "requests")
	many := make([]*webhooksv1.PublishEventRequest, 101)
	for i := range many {
		many[i] = publishRequest(t, propertyCreated, "", map[string]any{"n": i})
	}
	_, err = c.ws.BatchPublishEvents(tn.ctx, &webhooksv1.BatchPublishEventsRequest{Requests: many})
	wantInvalid(t, err, "requests")
	if n := len(listEvents(t, c, tn)); n != 0 {
		t.Fatalf("a refused batch stored %d events", n)
	}
	// A hundred is allowed.
	for i, r := range batchPublish(t, c, tn, many[:100]...) {
		if r.GetError() != nil {
			t.Fatalf("results[%d] of 100: %v", i, r.GetError())
		}
	}
	if n := len(listEvents(t, c, tn)); n != 100 {
		t.Fatalf("%d events stored, want 100", n)
	}
	// Another account than the caller's is not the caller's to publish to.
	other := c.newTenant(t)
	_, err = c.ws.BatchPublishEvents(tn.ctx, &webhooksv1.BatchPublishEventsRequest{Account: other.account, Requests: many[:1]})
	wantCode(t, err, codes.NotFound)
}

func testBatchDeliveries(t *testing.T, c *client) {
	var (
		mu  sync.Mutex
		ids = map[string]bool{}
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env struct{ ID string }
		if err := json.Unmarshal(body, &env); err == nil && env.ID == r.Header.Get("X-Webhook-Id") {
			mu.Lock()
			ids[env.ID] = true
			mu.Unlock()
		}
	}))
	t.Cleanup(receiver.Close)
	tn := c.newTenant(t)
	if _, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{
		Endpoint: &webhooksv1.Endpoint{Url: receiver.URL + "/hook", EventTypes: []string{propertyCreated}},
	}); err != nil {
		t.Fatal(err)
	}
	var requests []*webhooksv1.PublishEventRequest
	for i := range 5 {
		requests = append(requests, publishRequest(t, propertyCreated, "delivery-"+strconv.Itoa(i), map[string]any{"n": i}))
	}
	want := map[string]bool{}
	for _, r := range batchPublish(t, c, tn, requests...) {
		want[strings.TrimPrefix(r.GetEvent().GetName(), "events/")] = true
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		got := len(ids)
		done := got == len(want)
		for id := range ids {
			done = done && want[id]
		}
		mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got events %v, want %v", ids, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
