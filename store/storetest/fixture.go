package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// fixture makes valid resources with fresh ids.
type fixture struct {
	ids  *webhookd.IDGenerator
	base time.Time // a past instant that time filters are expressed around
}

func (f *fixture) account(t *testing.T, s store.Store) *webhookd.Account {
	t.Helper()
	now := time.Now()
	a := &webhookd.Account{ID: f.ids.New(webhookd.PrefixAccount), DisplayName: "Acme " + t.Name(), CreateTime: now, UpdateTime: now}
	if err := s.CreateAccount(context.Background(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

func (f *fixture) endpoint(t *testing.T, s store.Store, accountID string, mutate func(*webhookd.Endpoint)) *webhookd.Endpoint {
	t.Helper()
	now := time.Now()
	e := &webhookd.Endpoint{
		ID:          f.ids.New(webhookd.PrefixEndpoint),
		AccountID:   accountID,
		URL:         "https://example.com/webhooks",
		Description: "orders",
		EventTypes:  []string{"property.created", "appointment.scheduled"},
		Headers:     map[string]string{"X-Team": "orders"},
		Secret:      "whsec_current",
		CreateTime:  now,
		UpdateTime:  now,
	}
	if mutate != nil {
		mutate(e)
	}
	if err := s.CreateEndpoint(context.Background(), e, 0); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	return e
}

func (f *fixture) event(accountID, eventType string, at time.Time) *webhookd.Event {
	return &webhookd.Event{
		ID:         f.ids.New(webhookd.PrefixEvent),
		AccountID:  accountID,
		Type:       eventType,
		Data:       []byte(`{"id":"prop_1","price":1e21,"name":"Flat \u00e9"}`),
		CreateTime: at,
	}
}

func (f *fixture) publish(t *testing.T, s store.Store, ev *webhookd.Event) (*webhookd.Event, []*webhookd.Delivery) {
	t.Helper()
	stored, deliveries, created, err := s.PublishEvent(context.Background(), ev, f.ids.New)
	if err != nil {
		t.Fatalf("PublishEvent: %v", err)
	}
	if !created {
		t.Fatalf("PublishEvent(%s): created = false, want true", ev.ID)
	}
	checkEndpointVersions(t, s, deliveries)
	for _, d := range deliveries {
		// Checked; reads of the delivery do not have it to compare.
		d.EndpointUpdateTime = time.Time{}
	}
	return stored, deliveries
}

// checkEndpointVersions checks that each published delivery names the
// UpdateTime its endpoint has: the delivery engine trusts an endpoint it
// holds only when the two agree.
func checkEndpointVersions(t *testing.T, s store.Store, deliveries []*webhookd.Delivery) {
	t.Helper()
	for _, d := range deliveries {
		ep, err := s.GetEndpoint(context.Background(), "", d.EndpointID)
		if err != nil {
			t.Fatalf("GetEndpoint(%s): %v", d.EndpointID, err)
		}
		if !d.EndpointUpdateTime.Equal(ep.UpdateTime) {
			t.Errorf("delivery %s: EndpointUpdateTime %v, want the endpoint's UpdateTime %v", d.ID, d.EndpointUpdateTime, ep.UpdateTime)
		}
	}
}

func wantKind(t *testing.T, what string, err error, want webhookd.Kind) {
	t.Helper()
	if got := webhookd.KindOf(err); err == nil || got != want {
		t.Errorf("%s: error %v (kind %v), want kind %v", what, err, got, want)
	}
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func accountID(a *webhookd.Account) string       { return a.ID }
func apiKeyID(k *webhookd.APIKey) string         { return k.ID }
func endpointID(e *webhookd.Endpoint) string     { return e.ID }
func eventID(e *webhookd.Event) string           { return e.ID }
func deliveryID(d *webhookd.Delivery) string     { return d.ID }
func eventTypeName(e *webhookd.EventType) string { return e.Name }
