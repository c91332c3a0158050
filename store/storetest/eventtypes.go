package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

func testEventTypes(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	if got, err := s.ListEventTypes(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListEventTypes on empty store = %v, %v", got, err)
	}
	if err := s.SaveEventTypes(ctx, nil); err != nil {
		t.Fatalf("SaveEventTypes(nil): %v", err)
	}
	first := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	catalog := []*webhookd.EventType{
		{Name: "property.created", Description: "A property was listed.", Example: []byte(`{"id":"evt_123456","type":"property.created"}`), CreateTime: first},
		{Name: "appointment.scheduled", Description: "A viewing was booked.", Example: []byte(`{"type":"appointment.scheduled"}`), CreateTime: first},
	}
	if err := s.SaveEventTypes(ctx, catalog); err != nil {
		t.Fatalf("SaveEventTypes: %v", err)
	}
	got, err := s.GetEventType(ctx, "property.created")
	if err != nil {
		t.Fatalf("GetEventType: %v", err)
	}
	if diff := cmp.Diff(catalog[0], got); diff != "" {
		t.Errorf("GetEventType (-saved +got):\n%s", diff)
	}
	_, err = s.GetEventType(ctx, "no.such.type")
	wantKind(t, "GetEventType(missing)", err, webhookd.KindNotFound)

	// Saving again (every start-up does) updates in place and adds new names.
	updated := []*webhookd.EventType{
		{Name: "property.created", Description: "A property was listed for sale.", Example: []byte(`{"v":2}`), CreateTime: time.Now()},
		{Name: "invoice.paid", Description: "An invoice was paid.", Example: []byte(`{}`), CreateTime: time.Now()},
	}
	if err := s.SaveEventTypes(ctx, updated); err != nil {
		t.Fatalf("SaveEventTypes again: %v", err)
	}
	list, err := s.ListEventTypes(ctx)
	if err != nil {
		t.Fatalf("ListEventTypes: %v", err)
	}
	if diff := cmp.Diff([]string{"appointment.scheduled", "invoice.paid", "property.created"}, ids(list, eventTypeName)); diff != "" {
		t.Errorf("ListEventTypes names, ordered by name (-want +got):\n%s", diff)
	}
	got, err = s.GetEventType(ctx, "property.created")
	if err != nil {
		t.Fatalf("GetEventType: %v", err)
	}
	if got.Description != updated[0].Description || string(got.Example) != `{"v":2}` {
		t.Errorf("after re-save: description %q example %s, want the new ones", got.Description, got.Example)
	}
	if !got.CreateTime.Equal(first) {
		t.Errorf("re-save changed CreateTime from %v to %v", first, got.CreateTime)
	}
}
