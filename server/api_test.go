package server_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// TestAPI runs every API case over gRPC and over REST, on SQLite and on
// PostgreSQL: four combinations of one webhookd per backend.
func TestAPI(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			url := b.databaseURL(t)
			a := startApp(t, url)
			st := openStore(t, url)
			for name, c := range transports(t, a) {
				c.store = st
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					for _, tc := range apiCases {
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

var apiCases = []struct {
	name string
	run  func(t *testing.T, c *client)
}{
	{"event type catalog", testEventTypes},
	{"endpoint CRUD", testEndpointCRUD},
	{"update with field mask", testUpdateEndpoint},
	{"etag guards updates", testEndpointETag},
	{"list filters are bounded", testListFilterLimits},
	{"enable and disable", testEnableDisable},
	{"secret reveal and rotation", testSecrets},
	{"pagination", testPagination},
	{"idempotent publish", testIdempotentPublish},
	{"fan-out to subscribed enabled endpoints", testFanOut},
	{"event filters", testEventFilters},
	{"publish answers the data as stored", testPublishEchoesStored},
	{"validation errors name the field", testValidation},
	{"undecodable and unstorable input names the field", testMalformedInput},
	{"authentication", testAuthentication},
	{"admin API", testAdmin},
	{"portal sessions", testPortalSessions},
	{"endpoint health", testEndpointStats},
}

func testEventTypes(t *testing.T, c *client) {
	tn := c.newTenant(t)
	list, err := c.ws.ListEventTypes(tn.ctx, &webhooksv1.ListEventTypesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, et := range list.GetEventTypes() {
		names = append(names, et.GetType())
	}
	want := []string{"appointment.cancelled", "appointment.scheduled", "appointment.updated",
		"feedback.submitted", "property.created", "property.sold", "property.updated", "user.registered"}
	if !slices.Equal(names, want) {
		t.Fatalf("catalog = %v, want %v", names, want)
	}
	// The guide's property.created example, verbatim in content.
	et, err := c.ws.GetEventType(tn.ctx, &webhooksv1.GetEventTypeRequest{Name: "eventTypes/property.created"})
	if err != nil {
		t.Fatal(err)
	}
	guide := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(`{"id":"evt_123456","type":"property.created","created":"2023-06-15T10:30:00Z",
		"data":{"property":{"id":"prop_123456","address":"123 Main St, New York, NY 10001","price":750000,
		"bedrooms":2,"bathrooms":2,"squareFeet":1200,"createdAt":"2023-06-15T10:30:00Z"}}}`), guide); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(et.GetExample(), guide) {
		t.Fatalf("property.created example = %v, want the guide's", et.GetExample())
	}
	_, err = c.ws.GetEventType(tn.ctx, &webhooksv1.GetEventTypeRequest{Name: "eventTypes/property.demolished"})
	wantCode(t, err, codes.NotFound)
}

func testEndpointCRUD(t *testing.T, c *client) {
	tn := c.newTenant(t)
	created, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
		Url:         guideURL,
		Description: "production receiver",
		EventTypes:  []string{"property.created", "appointment.scheduled"},
		Headers:     map[string]string{"X-Api-Key": "abc"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.GetName(), "endpoints/ep_") || created.GetAccount() != tn.account {
		t.Fatalf("created %q in %q", created.GetName(), created.GetAccount())
	}
	if !strings.HasPrefix(created.GetSecret(), webhookd.EndpointSecretPrefix) {
		t.Fatalf("secret %q lacks the whsec_ prefix", created.GetSecret())
	}
	if created.GetState() != webhooksv1.Endpoint_ENABLED || created.GetCreateTime() == nil {
		t.Fatalf("state %v, create time %v", created.GetState(), created.GetCreateTime())
	}

	got, err := c.ws.GetEndpoint(tn.ctx, &webhooksv1.GetEndpointRequest{Name: created.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != nil {
		t.Fatal("GetEndpoint revealed the secret")
	}
	if got.GetUrl() != guideURL || got.GetDescription() != "production receiver" ||
		!slices.Equal(got.GetEventTypes(), []string{"property.created", "appointment.scheduled"}) ||
		got.GetHeaders()["X-Api-Key"] != "abc" {
		t.Fatalf("got %v", got)
	}

	list, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetEndpoints()) != 1 || list.GetEndpoints()[0].GetName() != created.GetName() {
		t.Fatalf("list = %v", list.GetEndpoints())
	}

	if _, err := c.ws.DeleteEndpoint(tn.ctx, &webhooksv1.DeleteEndpointRequest{Name: created.GetName()}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ws.GetEndpoint(tn.ctx, &webhooksv1.GetEndpointRequest{Name: created.GetName()})
	wantCode(t, err, codes.NotFound)
	_, err = c.ws.DeleteEndpoint(tn.ctx, &webhooksv1.DeleteEndpointRequest{Name: created.GetName()})
	wantCode(t, err, codes.NotFound)
}

func testUpdateEndpoint(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)

	// Only masked fields change, whatever else the request carries.
	updated, err := c.ws.UpdateEndpoint(tn.ctx, &webhooksv1.UpdateEndpointRequest{
		Endpoint: &webhooksv1.Endpoint{
			Name:        ep.GetName(),
			Url:         "https://elsewhere.example.com/hook",
			Description: "renamed",
		},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.GetDescription() != "renamed" || updated.GetUrl() != guideURL {
		t.Fatalf("after masked update: url %q description %q", updated.GetUrl(), updated.GetDescription())
	}

	// Without a mask, the fields set in the request change.
	updated, err = c.ws.UpdateEndpoint(tn.ctx, &webhooksv1.UpdateEndpointRequest{
		Endpoint: &webhooksv1.Endpoint{Name: ep.GetName(), EventTypes: []string{"property.sold", "property.updated"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(updated.GetEventTypes(), []string{"property.sold", "property.updated"}) || updated.GetDescription() != "renamed" {
		t.Fatalf("after unmasked update: %v", updated)
	}
	got, err := c.ws.GetEndpoint(tn.ctx, &webhooksv1.GetEndpointRequest{Name: ep.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, updated) {
		t.Fatalf("stored %v, returned %v", got, updated)
	}

	// A mask naming something not updatable, and an update that breaks validation.
	_, err = c.ws.UpdateEndpoint(tn.ctx, &webhooksv1.UpdateEndpointRequest{
		Endpoint:   &webhooksv1.Endpoint{Name: ep.GetName()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"colour"}},
	})
	wantInvalid(t, err, "update_mask")
	_, err = c.ws.UpdateEndpoint(tn.ctx, &webhooksv1.UpdateEndpointRequest{
		Endpoint:   &webhooksv1.Endpoint{Name: ep.GetName(), Description: "x"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"*"}},
	})
	wantInvalid(t, err, "endpoint.url")
	got2, err := c.ws.GetEndpoint(tn.ctx, &webhooksv1.GetEndpointRequest{Name: ep.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got2, got) {
		t.Fatal("a refused update changed the endpoint")
	}
}

func testEndpointETag(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	get := func() *webhooksv1.Endpoint {
		t.Helper()
		got, err := c.ws.GetEndpoint(tn.ctx, &webhooksv1.GetEndpointRequest{Name: ep.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	update := func(etag, description string) (*webhooksv1.Endpoint, error) {
		return c.ws.UpdateEndpoint(tn.ctx, &webhooksv1.UpdateEndpointRequest{
			Endpoint:   &webhooksv1.Endpoint{Name: ep.GetName(), Description: description, Etag: etag},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
		})
	}
	first := ep.GetEtag()
	if first == "" || get().GetEtag() != first {
		t.Fatalf("create answered etag %q, get %q; want the same, not empty", first, get().GetEtag())
	}
	list, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{})
	if err != nil || len(list.GetEndpoints()) != 1 || list.GetEndpoints()[0].GetEtag() != first {
		t.Fatalf("list = %v, %v; want the endpoint with etag %q", list, err, first)
	}

	// The current etag: the update goes through and the etag changes.
	updated, err := update(first, "first edit")
	if err != nil {
		t.Fatal(err)
	}
	second := updated.GetEtag()
	if second == first || second != get().GetEtag() || updated.GetDescription() != "first edit" {
		t.Fatalf("after an update: etag %q (before %q, stored %q), description %q", second, first, get().GetEtag(), updated.GetDescription())
	}
	// A stale etag: ABORTED, nothing changes.
	_, err = update(first, "lost edit")
	wantCode(t, err, codes.Aborted)
	if st, _ := status.FromError(err); !strings.Contains(st.Message(), "changed since") {
		t.Errorf("stale etag: message %q does not say the endpoint changed", st.Message())
	}
	if got := get(); got.GetDescription() != "first edit" || got.GetEtag() != second {
		t.Fatalf("a refused update changed the endpoint: %v", got)
	}

	// Rotating the secret and disabling change the etag too.
	if _, err := c.ws.RotateEndpointSecret(tn.ctx, &webhooksv1.RotateEndpointSecretRequest{Name: ep.GetName() + "/secret"}); err != nil {
		t.Fatal(err)
	}
	_, err = update(second, "after rotation")
	wantCode(t, err, codes.Aborted)
	third := get().GetEtag()
	off, err := c.ws.DisableEndpoint(tn.ctx, &webhooksv1.DisableEndpointRequest{Name: ep.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if off.GetEtag() == third || off.GetEtag() == second {
		t.Fatalf("disabling kept etag %q", off.GetEtag())
	}
	// An update (with its etag) does not re-enable the disabled endpoint.
	updated, err = update(off.GetEtag(), "while disabled")
	if err != nil {
		t.Fatal(err)
	}
	if updated.GetState() != webhooksv1.Endpoint_DISABLED {
		t.Fatalf("an update enabled the endpoint: %v", updated)
	}

	// A resource read, changed and sent back whole updates, etag included.
	whole := get()
	whole.Description = "sent back whole"
	whole.Secret = nil
	updated, err = c.ws.UpdateEndpoint(tn.ctx, &webhooksv1.UpdateEndpointRequest{Endpoint: whole})
	if err != nil {
		t.Fatal(err)
	}
	if updated.GetDescription() != "sent back whole" {
		t.Fatalf("after sending the endpoint back: %v", updated)
	}
	// Without an etag, the update applies to the endpoint as it is.
	if _, err := update("", "no etag"); err != nil {
		t.Fatal(err)
	}
	_, err = update("not-an-etag", "x")
	wantInvalid(t, err, "endpoint.etag")
}

func testListFilterLimits(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	types := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "property.created"
		}
		return out
	}
	statuses := func(n int) []webhooksv1.Delivery_Status {
		out := make([]webhooksv1.Delivery_Status, n)
		for i := range out {
			out[i] = webhooksv1.Delivery_FAILED
		}
		return out
	}
	// 100 values are allowed, 101 are not.
	if _, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{EventTypes: types(100)}); err != nil {
		t.Fatalf("ListEvents(100 event types): %v", err)
	}
	_, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{EventTypes: types(101)})
	wantInvalid(t, err, "event_types")
	if _, err := c.ws.ListDeliveries(tn.ctx, &webhooksv1.ListDeliveriesRequest{Parent: ep.GetName(), Statuses: statuses(100), EventTypes: types(100)}); err != nil {
		t.Fatalf("ListDeliveries(100 statuses, 100 event types): %v", err)
	}
	_, err = c.ws.ListDeliveries(tn.ctx, &webhooksv1.ListDeliveriesRequest{Parent: ep.GetName(), Statuses: statuses(101)})
	wantInvalid(t, err, "statuses")
	_, err = c.ws.ListDeliveries(tn.ctx, &webhooksv1.ListDeliveriesRequest{Parent: ep.GetName(), EventTypes: types(101)})
	wantInvalid(t, err, "event_types")
	if c.routesByName {
		// Thousands (within the request size limit) are refused the same way.
		many := make([]string, 4000)
		for i := range many {
			many[i] = "a"
		}
		_, err = c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{EventTypes: many})
		wantInvalid(t, err, "event_types")
	}
}

func testEnableDisable(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	off, err := c.ws.DisableEndpoint(tn.ctx, &webhooksv1.DisableEndpointRequest{Name: ep.GetName(), Reason: "maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	if off.GetState() != webhooksv1.Endpoint_DISABLED || off.GetDisabledReason() != "maintenance" {
		t.Fatalf("after disable: %v %q", off.GetState(), off.GetDisabledReason())
	}
	on, err := c.ws.EnableEndpoint(tn.ctx, &webhooksv1.EnableEndpointRequest{Name: ep.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if on.GetState() != webhooksv1.Endpoint_ENABLED || on.GetDisabledReason() != "" {
		t.Fatalf("after enable: %v %q", on.GetState(), on.GetDisabledReason())
	}
}

func testSecrets(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	secretName := ep.GetName() + "/secret"
	revealed, err := c.ws.GetEndpointSecret(tn.ctx, &webhooksv1.GetEndpointSecretRequest{Name: secretName})
	if err != nil {
		t.Fatal(err)
	}
	if revealed.GetSecret() != ep.GetSecret() || revealed.GetPreviousSecret() != "" {
		t.Fatalf("revealed %v, created with %q", revealed, ep.GetSecret())
	}
	rotated, err := c.ws.RotateEndpointSecret(tn.ctx, &webhooksv1.RotateEndpointSecretRequest{Name: secretName})
	if err != nil {
		t.Fatal(err)
	}
	if rotated.GetSecret() == ep.GetSecret() || rotated.GetPreviousSecret() != ep.GetSecret() ||
		rotated.GetPreviousSecretExpireTime() == nil || !strings.HasPrefix(rotated.GetSecret(), webhookd.EndpointSecretPrefix) {
		t.Fatalf("rotated %v from %q", rotated, ep.GetSecret())
	}
	again, err := c.ws.GetEndpointSecret(tn.ctx, &webhooksv1.GetEndpointSecretRequest{Name: secretName})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(again, rotated) {
		t.Fatalf("revealed after rotation %v, want %v", again, rotated)
	}
	if c.routesByName {
		_, err = c.ws.GetEndpointSecret(tn.ctx, &webhooksv1.GetEndpointSecretRequest{Name: ep.GetName()})
		wantInvalid(t, err, "name")
	}
}

func testPagination(t *testing.T, c *client) {
	tn := c.newTenant(t)
	var want []string
	for range 7 {
		want = append(want, c.createEndpoint(t, tn, propertyCreated).GetName())
	}
	slices.Reverse(want) // newest first

	var got []string
	var sizes []int
	token := ""
	for {
		page, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page.GetEndpoints()))
		for _, e := range page.GetEndpoints() {
			got = append(got, e.GetName())
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
		if len(sizes) > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) || !slices.Equal(got, want) {
		t.Fatalf("pages of %v gave %v, want %v", sizes, got, want)
	}

	first, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	// The token belongs to a listing of endpoints: reusing it for events is refused.
	_, err = c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{PageToken: first.GetNextPageToken()})
	wantInvalid(t, err, "page_token")
	_, err = c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{PageToken: "not-a-token"})
	wantInvalid(t, err, "page_token")
	_, err = c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{PageSize: -1})
	wantInvalid(t, err, "page_size")
}

func publish(t *testing.T, c *client, tn tenant, typ, key string, data map[string]any) *webhooksv1.Event {
	t.Helper()
	s, err := structpb.NewStruct(data)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := c.ws.PublishEvent(tn.ctx, &webhooksv1.PublishEventRequest{
		Event: &webhooksv1.Event{Type: typ, Data: s}, IdempotencyKey: key,
	})
	if err != nil {
		t.Fatalf("PublishEvent: %v", err)
	}
	return ev
}

func deliveriesOf(t *testing.T, c *client, tn tenant, parent string, statuses ...webhooksv1.Delivery_Status) []*webhooksv1.Delivery {
	t.Helper()
	resp, err := c.ws.ListDeliveries(tn.ctx, &webhooksv1.ListDeliveriesRequest{Parent: parent, Statuses: statuses})
	if err != nil {
		t.Fatalf("ListDeliveries(%s): %v", parent, err)
	}
	return resp.GetDeliveries()
}

func testIdempotentPublish(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	data := map[string]any{"property": map[string]any{"id": "prop_1", "price": 750000}}

	// Concurrent retries of one publish, as a client timing out and retrying does.
	const tries = 5
	names := make([]string, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() { names[i] = publish(t, c, tn, propertyCreated, "order-42", data).GetName() })
	}
	wg.Wait()
	for _, n := range names {
		if n != names[0] {
			t.Fatalf("same idempotency key gave events %v", names)
		}
	}
	other := publish(t, c, tn, propertyCreated, "order-43", data)
	if other.GetName() == names[0] {
		t.Fatal("a different key returned the same event")
	}
	events, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.GetEvents()) != 2 {
		t.Fatalf("%d events stored, want 2", len(events.GetEvents()))
	}
	if got := deliveriesOf(t, c, tn, ep.GetName()); len(got) != 2 {
		t.Fatalf("%d deliveries, want one per event (2)", len(got))
	}
	first, err := c.ws.GetEvent(tn.ctx, &webhooksv1.GetEventRequest{Name: names[0]})
	if err != nil {
		t.Fatal(err)
	}
	if first.GetIdempotencyKey() != "order-42" || first.GetData().GetFields()["property"].GetStructValue().GetFields()["price"].GetNumberValue() != 750000 {
		t.Fatalf("stored event %v", first)
	}
}

func testFanOut(t *testing.T, c *client) {
	tn := c.newTenant(t)
	subscribed := c.createEndpoint(t, tn, propertyCreated, "property.sold")
	otherType := c.createEndpoint(t, tn, "appointment.scheduled")
	disabled := c.createEndpoint(t, tn, propertyCreated)
	if _, err := c.ws.DisableEndpoint(tn.ctx, &webhooksv1.DisableEndpointRequest{Name: disabled.GetName()}); err != nil {
		t.Fatal(err)
	}
	stranger := c.newTenant(t)
	strangerEP := c.createEndpoint(t, stranger, propertyCreated)

	ev := publish(t, c, tn, propertyCreated, "", map[string]any{"property": map[string]any{"id": "prop_9"}})
	got := deliveriesOf(t, c, tn, ev.GetName())
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want exactly 1 (to the subscribed enabled endpoint)", len(got))
	}
	d := got[0]
	if d.GetEndpoint() != subscribed.GetName() || d.GetEvent() != ev.GetName() || d.GetStatus() != webhooksv1.Delivery_PENDING ||
		d.GetEventType() != propertyCreated || d.GetNextAttemptTime() == nil {
		t.Fatalf("delivery %v", d)
	}
	for _, ep := range []*webhooksv1.Endpoint{otherType, disabled} {
		if n := len(deliveriesOf(t, c, tn, ep.GetName())); n != 0 {
			t.Fatalf("%s got %d deliveries, want none", ep.GetName(), n)
		}
	}
	if n := len(deliveriesOf(t, c, stranger, strangerEP.GetName())); n != 0 {
		t.Fatalf("another account's endpoint got %d deliveries", n)
	}

	full, err := c.ws.GetDelivery(tn.ctx, &webhooksv1.GetDeliveryRequest{Name: d.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if full.GetName() != d.GetName() || full.GetAttemptCount() != 0 || len(full.GetAttempts()) != 0 {
		t.Fatalf("GetDelivery = %v", full)
	}
	// The body is the envelope the engine sends, byte for byte; lists
	// leave it out.
	// Its created is the event's create_time as the API writes it.
	created, err := protojson.Marshal(ev.GetCreateTime())
	if err != nil {
		t.Fatal(err)
	}
	wantBody := `{"id":"` + strings.TrimPrefix(ev.GetName(), "events/") + `","type":"property.created","created":` +
		string(created) + `,"data":{"property":{"id":"prop_9"}}}`
	if full.GetBody() != wantBody {
		t.Fatalf("GetDelivery body\n%s\nwant\n%s", full.GetBody(), wantBody)
	}
	if d.GetBody() != "" {
		t.Fatalf("ListDeliveries carries a body: %s", d.GetBody())
	}
	if n := len(deliveriesOf(t, c, tn, subscribed.GetName(), webhooksv1.Delivery_PENDING)); n != 1 {
		t.Fatalf("pending filter: %d deliveries, want 1", n)
	}
	if n := len(deliveriesOf(t, c, tn, subscribed.GetName(), webhooksv1.Delivery_FAILED)); n != 0 {
		t.Fatalf("failed filter: %d deliveries, want 0", n)
	}
}

func testEventFilters(t *testing.T, c *client) {
	tn := c.newTenant(t)
	sold := publish(t, c, tn, "property.sold", "", map[string]any{"n": 1})
	created := publish(t, c, tn, propertyCreated, "", map[string]any{"n": 2})
	byType, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{EventTypes: []string{"property.sold"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(byType.GetEvents()) != 1 || byType.GetEvents()[0].GetName() != sold.GetName() {
		t.Fatalf("type filter gave %v", byType.GetEvents())
	}
	after, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{CreateTimeAfter: sold.GetCreateTime()})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.GetEvents()) != 1 || after.GetEvents()[0].GetName() != created.GetName() {
		t.Fatalf("created-after filter gave %v", after.GetEvents())
	}
	before, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{CreateTimeBefore: created.GetCreateTime()})
	if err != nil {
		t.Fatal(err)
	}
	if len(before.GetEvents()) != 1 || before.GetEvents()[0].GetName() != sold.GetName() {
		t.Fatalf("created-before filter gave %v", before.GetEvents())
	}
	_, err = c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{
		CreateTimeAfter: created.GetCreateTime(), CreateTimeBefore: sold.GetCreateTime(),
	})
	wantInvalid(t, err, "create_time_before")
}

func testValidation(t *testing.T, c *client) {
	tn := c.newTenant(t)
	endpointCases := []struct {
		name  string
		ep    *webhooksv1.Endpoint
		field string
	}{
		{"missing url", &webhooksv1.Endpoint{EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"relative url", &webhooksv1.Endpoint{Url: "/webhooks", EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"plain http", &webhooksv1.Endpoint{Url: "http://your-app.com/hook", EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"other scheme", &webhooksv1.Endpoint{Url: "ftp://your-app.com/hook", EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"user info", &webhooksv1.Endpoint{Url: "https://user:pw@your-app.com/hook", EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"too long", &webhooksv1.Endpoint{Url: "https://your-app.com/" + strings.Repeat("a", 2100), EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"IPv4 as a decimal number", &webhooksv1.Endpoint{Url: "https://2130706433/hook", EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"IPv4 in octal", &webhooksv1.Endpoint{Url: "https://0177.0.0.1/hook", EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"no event types", &webhooksv1.Endpoint{Url: guideURL}, "endpoint.event_types"},
		{"unknown event type", &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated, "property.demolished"}}, "endpoint.event_types[1]"},
		{"reserved header", &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}, Headers: map[string]string{"X-Webhook-Signature": "forged"}}, "endpoint.headers"},
		{"header with newline", &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}, Headers: map[string]string{"X-Team": "a\r\nb"}}, "endpoint.headers"},
		{"header with a control character", &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}, Headers: map[string]string{"X-Team": "a\x01b"}}, "endpoint.headers"},
		{"header with DEL", &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}, Headers: map[string]string{"X-Team": "a\x7f"}}, "endpoint.headers"},
		{"headers differing in case", &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}, Headers: map[string]string{"X-Team": "a", "x-team": "b"}}, "endpoint.headers"},
		{"Proxy-Authorization header", &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}, Headers: map[string]string{"Proxy-Authorization": "Basic abc"}}, "endpoint.headers"},
		{"port 0", &webhooksv1.Endpoint{Url: "https://your-app.com:0/hook", EventTypes: []string{propertyCreated}}, "endpoint.url"},
		{"port 65536", &webhooksv1.Endpoint{Url: "https://your-app.com:65536/hook", EventTypes: []string{propertyCreated}}, "endpoint.url"},
	}
	for _, tc := range endpointCases {
		_, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{Endpoint: tc.ep})
		t.Run(tc.name, func(t *testing.T) { wantInvalid(t, err, tc.field) })
	}
	list, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetEndpoints()) != 0 {
		t.Fatalf("refused creations stored %d endpoints", len(list.GetEndpoints()))
	}

	small, _ := structpb.NewStruct(map[string]any{"a": 1})
	big, _ := structpb.NewStruct(map[string]any{"blob": strings.Repeat("x", testMaxPayload)})
	publishCases := []struct {
		name  string
		req   *webhooksv1.PublishEventRequest
		field string
	}{
		{"missing type", &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Data: small}}, "event.type"},
		{"unknown type", &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.demolished", Data: small}}, "event.type"},
		{"missing data", &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated}}, "event.data"},
		{"oversized data", &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated, Data: big}}, "event.data"},
		{"long idempotency key", &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated, Data: small}, IdempotencyKey: strings.Repeat("k", 256)}, "idempotency_key"},
	}
	for _, tc := range publishCases {
		_, err := c.ws.PublishEvent(tn.ctx, tc.req)
		t.Run(tc.name, func(t *testing.T) { wantInvalid(t, err, tc.field) })
	}
	events, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.GetEvents()) != 0 {
		t.Fatalf("refused publishes stored %d events", len(events.GetEvents()))
	}

	if c.routesByName {
		_, err = c.ws.GetEndpoint(tn.ctx, &webhooksv1.GetEndpointRequest{Name: "events/evt_01m8ckqemj8w5katvf72n3cp0y"})
		wantInvalid(t, err, "name")
		_, err = c.ws.ListDeliveries(tn.ctx, &webhooksv1.ListDeliveriesRequest{Parent: "accounts/x"})
		wantInvalid(t, err, "parent")
	}
}

func testAuthentication(t *testing.T, c *client) {
	tn := c.newTenant(t)
	_, err := c.ws.ListEndpoints(t.Context(), &webhooksv1.ListEndpointsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	_, err = c.ws.ListEndpoints(withToken(t.Context(), "whk_not-a-real-key"), &webhooksv1.ListEndpointsRequest{})
	wantCode(t, err, codes.Unauthenticated)

	// A customer key cannot use the admin API.
	_, err = c.admin.ListAccounts(tn.ctx, &webhooksv1.ListAccountsRequest{})
	wantCode(t, err, codes.PermissionDenied)

	// A revoked key stops working at once.
	if _, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{}); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	revoked, err := c.admin.RevokeApiKey(adminCtx(t), &webhooksv1.RevokeApiKeyRequest{Name: tn.key})
	if err != nil {
		t.Fatal(err)
	}
	if revoked.GetRevokeTime() == nil {
		t.Fatal("revoked key has no revoke time")
	}
	_, err = c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{})
	wantCode(t, err, codes.Unauthenticated)
}

func testAdmin(t *testing.T, c *client) {
	ctx := adminCtx(t)
	tn := c.newTenant(t)
	// Internal callers act for a named account.
	d, _ := structpb.NewStruct(map[string]any{"x": 1})
	_, err := c.ws.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated, Data: d}})
	wantInvalid(t, err, "account")
	ev, err := c.ws.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Account: tn.account, Event: &webhooksv1.Event{Type: propertyCreated, Data: d}})
	if err != nil {
		t.Fatal(err)
	}
	if ev.GetAccount() != tn.account {
		t.Fatalf("published into %q, want %q", ev.GetAccount(), tn.account)
	}
	if _, err := c.ws.GetEvent(tn.ctx, &webhooksv1.GetEventRequest{Name: ev.GetName()}); err != nil {
		t.Fatalf("the account's own key cannot read the event: %v", err)
	}
	_, err = c.ws.CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{Account: "accounts/acct_01m8ckq9h55es949z76tmkjvq9",
		Endpoint: &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}}})
	wantCode(t, err, codes.NotFound)

	_, err = c.admin.CreateApiKey(ctx, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{}})
	wantInvalid(t, err, "api_key.account")
	internal, err := c.admin.CreateApiKey(ctx, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{Internal: true, DisplayName: "billing service"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.admin.GetApiKey(withToken(t.Context(), internal.GetToken()), &webhooksv1.GetApiKeyRequest{Name: internal.GetName()})
	if err != nil {
		t.Fatalf("a new internal key cannot use the admin API: %v", err)
	}
	if got.Token != nil || !got.GetInternal() {
		t.Fatalf("GetApiKey = %v", got)
	}
	keys, err := c.admin.ListApiKeys(ctx, &webhooksv1.ListApiKeysRequest{Account: tn.account})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.GetApiKeys()) != 1 || keys.GetApiKeys()[0].GetName() != tn.key {
		t.Fatalf("account keys = %v", keys.GetApiKeys())
	}
	acct, err := c.admin.GetAccount(ctx, &webhooksv1.GetAccountRequest{Name: tn.account})
	if err != nil {
		t.Fatal(err)
	}
	if acct.GetDisplayName() != "Tenant of "+t.Name() {
		t.Fatalf("account = %v", acct)
	}
	_, err = c.admin.CreateAccount(ctx, &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: " "}})
	wantInvalid(t, err, "account.display_name")
}

// wireWith is m's protobuf encoding with placeholder, a string set in one
// of its fields, replaced by bad, which the encoder would refuse (invalid
// UTF-8). Both have the same length, so the field's length prefix holds.
func wireWith(t *testing.T, m proto.Message, placeholder, bad string) []byte {
	t.Helper()
	if len(placeholder) != len(bad) {
		t.Fatalf("placeholder %q and replacement %q differ in length", placeholder, bad)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte(placeholder)) != 1 {
		t.Fatalf("placeholder %q is not in the encoding exactly once", placeholder)
	}
	return bytes.Replace(b, []byte(placeholder), []byte(bad), 1)
}

func mustWire(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nestedData is event data nested depth objects deep, {"a":{"a":…}}, as a
// Struct and as JSON: deep enough for the gateway's JSON decoder to accept
// and protobuf's decoder (three messages per level) to refuse.
func nestedData(depth int) (*structpb.Struct, string) {
	s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for range depth - 1 {
		s = &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStructValue(s)}}
	}
	return s, strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
}

// testMalformedInput sends what cannot be decoded or stored — NUL bytes,
// invalid UTF-8 in the path, the query and the body, JSON the gateway
// refuses, nesting past protobuf's limit — and expects INVALID_ARGUMENT
// (400) with a BadRequest field violation naming the field, never a 500,
// and nothing stored.
func testMalformedInput(t *testing.T, c *client) {
	tn := c.newTenant(t)
	ep := c.createEndpoint(t, tn, propertyCreated)
	epID := strings.TrimPrefix(ep.GetName(), "endpoints/")
	small, _ := structpb.NewStruct(map[string]any{"a": 1})
	nul := "a\x00b"

	typed := []struct {
		name  string
		call  func() error
		field string
	}{
		{"NUL in a description", func() error {
			_, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
				Url: guideURL, EventTypes: []string{propertyCreated}, Description: nul}})
			return err
		}, "endpoint.description"},
		{"NUL in an event type", func() error {
			_, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
				Url: guideURL, EventTypes: []string{propertyCreated, "property.sold\x00"}}})
			return err
		}, "endpoint.event_types[1]"},
		{"NUL in a header value", func() error {
			_, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
				Url: guideURL, EventTypes: []string{propertyCreated}, Headers: map[string]string{"X-Team": nul}}})
			return err
		}, "endpoint.headers"},
		{"NUL in an updated description", func() error {
			_, err := c.ws.UpdateEndpoint(tn.ctx, &webhooksv1.UpdateEndpointRequest{
				Endpoint: &webhooksv1.Endpoint{Name: ep.GetName(), Description: nul}})
			return err
		}, "endpoint.description"},
		{"NUL in a disable reason", func() error {
			_, err := c.ws.DisableEndpoint(tn.ctx, &webhooksv1.DisableEndpointRequest{Name: ep.GetName(), Reason: nul})
			return err
		}, "reason"},
		{"NUL in an idempotency key", func() error {
			_, err := c.ws.PublishEvent(tn.ctx, &webhooksv1.PublishEventRequest{
				Event: &webhooksv1.Event{Type: propertyCreated, Data: small}, IdempotencyKey: nul})
			return err
		}, "idempotency_key"},
		{"NUL in an event filter", func() error {
			_, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{EventTypes: []string{nul}})
			return err
		}, "event_types[0]"},
		{"NUL in a delivery filter", func() error {
			_, err := c.ws.ListDeliveries(tn.ctx, &webhooksv1.ListDeliveriesRequest{Parent: ep.GetName(), EventTypes: []string{nul}})
			return err
		}, "event_types[0]"},
		{"NUL in a page token", func() error {
			_, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{PageToken: nul})
			return err
		}, "page_token"},
		{"NUL in an account display name", func() error {
			_, err := c.admin.CreateAccount(adminCtx(t), &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: nul}})
			return err
		}, "account.display_name"},
		{"NUL in an API key display name", func() error {
			_, err := c.admin.CreateApiKey(adminCtx(t), &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{
				Account: tn.account, DisplayName: nul}})
			return err
		}, "api_key.display_name"},
	}
	for _, tc := range typed {
		err := tc.call()
		t.Run(tc.name, func(t *testing.T) { wantInvalid(t, err, tc.field) })
	}

	const (
		webhooks   = "/webhooks.v1.WebhookService/"
		endpointJS = `{"url":"` + guideURL + `","eventTypes":["property.created"],`
	)
	deep, deepJSON := nestedData(4000)
	raw := []struct {
		name      string
		req       rawRequest
		grpcField string // "" when the input has no gRPC form
		restField string // "" when it has no REST form
	}{
		{"invalid UTF-8 in a path", rawRequest{
			grpcMethod: webhooks + "GetEndpoint",
			grpcBody:   wireWith(t, &webhooksv1.GetEndpointRequest{Name: "endpoints/ep_@@"}, "@@", "\xff\xfe"),
			httpMethod: http.MethodGet, httpPath: "/v1/endpoints/ep_%ff%fe",
		}, "name", "name"},
		{"NUL in a path", rawRequest{
			grpcMethod: webhooks + "GetEndpoint",
			grpcBody:   mustWire(t, &webhooksv1.GetEndpointRequest{Name: "endpoints/" + epID + "\x00"}),
			httpMethod: http.MethodGet, httpPath: "/v1/endpoints/" + epID + "%00",
		}, "name", "name"},
		{"invalid UTF-8 in a query filter", rawRequest{
			grpcMethod: webhooks + "ListEvents",
			grpcBody:   wireWith(t, &webhooksv1.ListEventsRequest{EventTypes: []string{"@"}}, "@", "\xff"),
			httpMethod: http.MethodGet, httpPath: "/v1/events?event_types=%ff",
		}, "event_types[0]", "event_types[0]"},
		{"invalid UTF-8 in an idempotency key", rawRequest{
			grpcMethod: webhooks + "PublishEvent",
			grpcBody: wireWith(t, &webhooksv1.PublishEventRequest{
				Event: &webhooksv1.Event{Type: propertyCreated, Data: small}, IdempotencyKey: "key-@"}, "key-@", "key-\xff"),
			httpMethod: http.MethodPost, httpPath: "/v1/events?idempotency_key=key-%ff",
			httpBody: `{"type":"property.created","data":{"a":1}}`,
		}, "idempotency_key", "idempotency_key"},
		{"invalid UTF-8 in a description", rawRequest{
			grpcMethod: webhooks + "CreateEndpoint",
			grpcBody: wireWith(t, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
				Url: guideURL, EventTypes: []string{propertyCreated}, Description: "bad @"}}, "bad @", "bad \xff"),
			httpMethod: http.MethodPost, httpPath: "/v1/endpoints", httpBody: endpointJS + "\"description\":\"bad \xff\"}",
		}, "endpoint.description", "body"},
		{"invalid UTF-8 in a header value", rawRequest{
			grpcMethod: webhooks + "CreateEndpoint",
			grpcBody: wireWith(t, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
				Url: guideURL, EventTypes: []string{propertyCreated}, Headers: map[string]string{"X-Team": "bad @"}}}, "bad @", "bad \xff"),
			httpMethod: http.MethodPost, httpPath: "/v1/endpoints", httpBody: endpointJS + "\"headers\":{\"X-Team\":\"bad \xff\"}}",
		}, "endpoint.headers", "body"},
		{"a lone surrogate", rawRequest{
			httpMethod: http.MethodPost, httpPath: "/v1/endpoints", httpBody: endpointJS + `"description":"\ud800"}`,
		}, "", "body"},
		{"a duplicate key", rawRequest{
			httpMethod: http.MethodPost, httpPath: "/v1/endpoints", httpBody: endpointJS + `"description":"a","description":"b"}`,
		}, "", "body"},
		{"malformed JSON", rawRequest{
			httpMethod: http.MethodPost, httpPath: "/v1/endpoints", httpBody: endpointJS,
		}, "", "body"},
		{"an unparsable query value", rawRequest{
			httpMethod: http.MethodGet, httpPath: "/v1/endpoints?page_size=many",
		}, "", "page_size"},
		{"a malformed protobuf encoding", rawRequest{
			grpcMethod: webhooks + "CreateEndpoint", grpcBody: []byte{0x0a, 0x7f, 0x01},
		}, "account", ""}, // field 1, whose length runs past the end
		{"nesting past protobuf's limit", rawRequest{
			grpcMethod: webhooks + "PublishEvent",
			grpcBody:   mustWire(t, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated, Data: deep}}),
			httpMethod: http.MethodPost, httpPath: "/v1/events", httpBody: `{"type":"property.created","data":` + deepJSON + "}",
		}, "event.data", "event.data"},
	}
	for _, tc := range raw {
		field := tc.grpcField
		if c.transport == "rest" {
			field = tc.restField
		}
		if field == "" {
			continue // no such input on this transport
		}
		err := c.raw(tn.ctx, tc.req)
		t.Run(tc.name, func(t *testing.T) { wantInvalid(t, err, field) })
	}

	list, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetEndpoints()) != 1 {
		t.Fatalf("%d endpoints stored, want only the one created first", len(list.GetEndpoints()))
	}
	if got := list.GetEndpoints()[0]; !proto.Equal(got, func() *webhooksv1.Endpoint { e := proto.Clone(ep).(*webhooksv1.Endpoint); e.Secret = nil; return e }()) {
		t.Fatalf("the endpoint changed: %v, created as %v", got, ep)
	}
	events, err := c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.GetEvents()) != 0 {
		t.Fatalf("refused publishes stored %d events", len(events.GetEvents()))
	}
}

// TestEndpointLimit checks --max-endpoints-per-account over both transports:
// past the limit a create fails with FAILED_PRECONDITION (HTTP 400) saying
// so, and deleting an endpoint makes room. The store's conformance suite
// covers racing creates on both databases.
func TestEndpointLimit(t *testing.T) {
	t.Parallel()
	a := startApp(t, backends[0].databaseURL(t), "--max-endpoints-per-account=2")
	for name, c := range transports(t, a) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tn := c.newTenant(t)
			first := c.createEndpoint(t, tn, propertyCreated)
			c.createEndpoint(t, tn, propertyCreated)
			_, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{
				Endpoint: &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}},
			})
			wantCode(t, err, codes.FailedPrecondition)
			if st, _ := status.FromError(err); !strings.Contains(st.Message(), "has 2 endpoints, the most it may have") {
				t.Errorf("message %q does not explain the limit", st.Message())
			}
			// Another account has its own allowance.
			c.createEndpoint(t, c.newTenant(t), propertyCreated)
			if _, err := c.ws.DeleteEndpoint(tn.ctx, &webhooksv1.DeleteEndpointRequest{Name: first.GetName()}); err != nil {
				t.Fatal(err)
			}
			c.createEndpoint(t, tn, propertyCreated)
		})
	}
}
