package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// envelope is a request body as a receiver decodes it, data kept as sent.
type envelope struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Created string          `json:"created"`
	Data    json.RawMessage `json:"data"`
}

// bodyReceiver is a real HTTP receiver on loopback that answers 200 and
// hands over every body it gets.
func bodyReceiver(t *testing.T) (string, <-chan envelope) {
	t.Helper()
	got := make(chan envelope, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var env envelope
		if err == nil {
			err = json.Unmarshal(body, &env)
		}
		if err != nil {
			t.Errorf("receiver got %q: %v", body, err)
		}
		got <- env
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks", got
}

func nextBody(t *testing.T, got <-chan envelope) envelope {
	t.Helper()
	select {
	case env := <-got:
		return env
	case <-time.After(15 * time.Second):
		t.Fatal("the receiver got no request within 15s")
	}
	return envelope{}
}

// TestFetchMissedEvents is the guide's "fetch missed events" as a receiver
// does it, over gRPC and REST, on SQLite and PostgreSQL: the created of the
// last event it got is that event's create_time, as text and as an instant,
// so createTimeAfter=<created> leaves that event out; both time bounds are
// exclusive; after_event is a cursor by id; and a test event's body has the
// key order of a published one.
func TestFetchMissedEvents(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			a := startApp(t, b.databaseURL(t), "--roles=api,worker", "--allow-http-endpoints", "--allow-cidr=127.0.0.0/8")
			for name, c := range transports(t, a) {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					testFetchMissedEvents(t, c, "http://"+a.HTTPAddr())
				})
			}
		})
	}
}

func testFetchMissedEvents(t *testing.T, c *client, restBase string) {
	tn := c.newTenant(t)
	url, bodies := bodyReceiver(t)
	ep, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{
		Endpoint: &webhooksv1.Endpoint{Url: url, EventTypes: []string{propertyCreated}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var events []*webhooksv1.Event
	got := map[string]envelope{}
	for i := range 3 {
		events = append(events, publish(t, c, tn, propertyCreated, "", map[string]any{"n": i}))
		env := nextBody(t, bodies) // one at a time, so the bodies arrive in order
		got["events/"+env.ID] = env
	}
	var created []*timestamppb.Timestamp
	for _, ev := range events {
		env, ok := got[ev.GetName()]
		if !ok {
			t.Fatalf("the receiver never got %s", ev.GetName())
		}
		// The same text as the REST API's createTime, and the same instant.
		if rest := restCreateTime(t, restBase, tn, ev.GetName()); env.Created != rest {
			t.Errorf("%s: created %q, the REST API's createTime %q", ev.GetName(), env.Created, rest)
		}
		at, err := time.Parse(time.RFC3339Nano, env.Created)
		if err != nil {
			t.Fatalf("created %q: %v", env.Created, err)
		}
		if !at.Equal(ev.GetCreateTime().AsTime()) {
			t.Errorf("%s: created %v, create_time %v", ev.GetName(), at, ev.GetCreateTime().AsTime())
		}
		created = append(created, timestamppb.New(at))
	}

	list := func(req *webhooksv1.ListEventsRequest) ([]string, string) {
		t.Helper()
		resp, err := c.ws.ListEvents(tn.ctx, req)
		if err != nil {
			t.Fatalf("ListEvents(%v): %v", req, err)
		}
		var names []string
		for _, ev := range resp.GetEvents() {
			names = append(names, ev.GetName())
		}
		return names, resp.GetNextPageToken()
	}
	want := func(what string, got []string, want ...*webhooksv1.Event) {
		t.Helper()
		var names []string
		for _, ev := range want {
			names = append(names, ev.GetName())
		}
		if strings.Join(got, " ") != strings.Join(names, " ") {
			t.Errorf("%s: got %v, want %v", what, got, names)
		}
	}
	e1, e2, e3 := events[0], events[1], events[2]
	names, _ := list(&webhooksv1.ListEventsRequest{CreateTimeAfter: created[1]})
	want("createTimeAfter=<created of the 2nd>", names, e3)
	names, _ = list(&webhooksv1.ListEventsRequest{CreateTimeBefore: created[1]})
	want("createTimeBefore=<created of the 2nd>", names, e1)

	// The cursor, paged: newest first, down to the event after the cursor.
	names, token := list(&webhooksv1.ListEventsRequest{AfterEvent: e1.GetName(), PageSize: 1})
	want("after_event=<1st>, page 1", names, e3)
	names, last := list(&webhooksv1.ListEventsRequest{AfterEvent: e1.GetName(), PageSize: 1, PageToken: token})
	want("after_event=<1st>, page 2", names, e2)
	if last != "" {
		t.Errorf("after_event=<1st>: a third page (%q), want the 2nd to be the last", last)
	}
	names, _ = list(&webhooksv1.ListEventsRequest{AfterEvent: e3.GetName()})
	want("after_event=<newest>", names)
	names, _ = list(&webhooksv1.ListEventsRequest{AfterEvent: e1.GetName(), CreateTimeBefore: created[2]})
	want("after_event=<1st> and createTimeBefore=<created of the 3rd>", names, e2)
	_, err = c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{AfterEvent: e2.GetName(), PageSize: 1, PageToken: token})
	wantInvalid(t, err, "page_token")
	for _, bad := range []string{strings.TrimPrefix(e1.GetName(), "events/"), "events/evt_x", ep.GetName()} {
		_, err = c.ws.ListEvents(tn.ctx, &webhooksv1.ListEventsRequest{AfterEvent: bad})
		wantInvalid(t, err, "after_event")
	}

	// A test event with the type's example data has the body that
	// publishing the same data gives: the same key order.
	et, err := c.ws.GetEventType(tn.ctx, &webhooksv1.GetEventTypeRequest{Name: "eventTypes/" + propertyCreated})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ws.SendTestEvent(tn.ctx, &webhooksv1.SendTestEventRequest{Endpoint: ep.GetName(), EventType: propertyCreated}); err != nil {
		t.Fatal(err)
	}
	test := nextBody(t, bodies)
	exampleData := et.GetExample().GetFields()["data"].GetStructValue()
	if _, err := c.ws.PublishEvent(tn.ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated, Data: exampleData}}); err != nil {
		t.Fatal(err)
	}
	published := nextBody(t, bodies)
	if !bytes.Equal(test.Data, published.Data) {
		t.Errorf("a test event's data is\n  %s\nthe same data published is\n  %s", test.Data, published.Data)
	}
}

// restCreateTime is the createTime of an event as the REST API writes it.
func restCreateTime(t *testing.T, base string, tn tenant, name string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(tn.ctx, http.MethodGet, base+"/v1/"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", bearerFrom(tn.ctx))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var ev struct{ CreateTime string }
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/%s: %d, %v", name, resp.StatusCode, err)
	}
	return ev.CreateTime
}

// testPublishEchoesStored: the publish response shows the data as stored
// and delivered, where JSON has no negative zero.
func testPublishEchoesStored(t *testing.T, c *client) {
	tn := c.newTenant(t)
	negZero := math.Copysign(0, -1)
	data, err := structpb.NewStruct(map[string]any{"n": negZero, "list": []any{negZero, 1.5}, "o": map[string]any{"z": negZero}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := c.ws.PublishEvent(tn.ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated, Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := c.ws.GetEvent(tn.ctx, &webhooksv1.GetEventRequest{Name: ev.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	echoed, _ := protojson.Marshal(ev.GetData())
	kept, _ := protojson.Marshal(stored.GetData())
	if !bytes.Equal(echoed, kept) || bytes.Contains(echoed, []byte("-0")) {
		t.Errorf("PublishEvent answered data %s, GetEvent %s", echoed, kept)
	}
}
