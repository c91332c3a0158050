package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

func testDeliveries(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	f.endpoint(t, s, acct.ID, nil)
	_, deliveries := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
	d := deliveries[0]

	_, err := s.GetDelivery(ctx, other.ID, d.ID)
	wantKind(t, "GetDelivery(other account)", err, webhookd.KindNotFound)
	_, err = s.GetDelivery(ctx, acct.ID, f.ids.New(webhookd.PrefixDelivery))
	wantKind(t, "GetDelivery(missing)", err, webhookd.KindNotFound)
	got, err := s.GetDelivery(ctx, "", d.ID)
	if err != nil {
		t.Fatalf("GetDelivery(any account): %v", err)
	}
	if got.Attempts == nil {
		t.Error("GetDelivery left Attempts nil; want an empty list when none were made")
	}
	list, err := s.ListDeliveries(ctx, store.DeliveryFilter{AccountID: other.ID}, store.Page{Size: 10})
	if err != nil || len(list) != 0 {
		t.Errorf("other account lists %d deliveries (%v), want 0", len(list), err)
	}
	list, err = s.ListDeliveries(ctx, store.DeliveryFilter{AccountID: acct.ID}, store.Page{Size: 10})
	if err != nil || len(list) != 1 || list[0].Attempts != nil {
		t.Errorf("ListDeliveries = %v, %v; want the one delivery, without attempts", list, err)
	}
}

func testDeliveryFilters(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	epA := f.endpoint(t, s, acct.ID, nil)
	epB := f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"property.created"} })
	f.endpoint(t, s, other.ID, nil)
	at := func(minutes int) time.Time { return f.base.Add(time.Duration(minutes) * time.Minute) }

	var (
		all, ofA, ofB, appointments, window []string
		firstEvent                          string
	)
	for i := range 6 {
		typ := "property.created"
		if i%2 == 1 {
			typ = "appointment.scheduled"
		}
		ev, deliveries := f.publish(t, s, f.event(acct.ID, typ, at(i)))
		if i == 0 {
			firstEvent = ev.ID
		}
		for _, d := range deliveries {
			all = append(all, d.ID)
			switch d.EndpointID {
			case epA.ID:
				ofA = append(ofA, d.ID)
			case epB.ID:
				ofB = append(ofB, d.ID)
			}
			if typ == "appointment.scheduled" {
				appointments = append(appointments, d.ID)
			}
			if i >= 2 && i <= 3 {
				window = append(window, d.ID)
			}
		}
		if i == 0 {
			if len(deliveries) != 2 {
				t.Fatalf("first event made %d deliveries, want 2", len(deliveries))
			}
		}
	}
	f.publish(t, s, f.event(other.ID, "property.created", at(3)))
	firstEventDeliveries := all[:2]

	cases := []struct {
		name   string
		filter store.DeliveryFilter
		want   []string
	}{
		{"Account", store.DeliveryFilter{AccountID: acct.ID}, all},
		{"Endpoint", store.DeliveryFilter{AccountID: acct.ID, EndpointID: epA.ID}, ofA},
		{"EndpointAnyAccount", store.DeliveryFilter{EndpointID: epB.ID}, ofB},
		{"EndpointOfOtherAccount", store.DeliveryFilter{AccountID: other.ID, EndpointID: epA.ID}, nil},
		{"Event", store.DeliveryFilter{AccountID: acct.ID, EventID: firstEvent}, firstEventDeliveries},
		{"EventType", store.DeliveryFilter{AccountID: acct.ID, EventTypes: []string{"appointment.scheduled"}}, appointments},
		{"Pending", store.DeliveryFilter{AccountID: acct.ID, Statuses: []webhookd.DeliveryStatus{webhookd.DeliveryPending}}, all},
		{"FinalOnly", store.DeliveryFilter{AccountID: acct.ID, Statuses: []webhookd.DeliveryStatus{webhookd.DeliveryFailed, webhookd.DeliverySucceeded}}, nil},
		{"TimeWindow", store.DeliveryFilter{AccountID: acct.ID, CreatedAfter: at(1), CreatedBefore: at(4)}, window},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := collectPages(t, 2, func(p store.Page) ([]string, error) {
				page, err := s.ListDeliveries(ctx, c.filter, p)
				return ids(page, deliveryID), err
			})
			if diff := cmp.Diff(newestFirst(c.want), got); diff != "" {
				t.Errorf("ListDeliveries(%+v) (-want +got):\n%s", c.filter, diff)
			}
		})
	}
	t.Run("UnknownStatus", func(t *testing.T) {
		_, err := s.ListDeliveries(ctx, store.DeliveryFilter{Statuses: []webhookd.DeliveryStatus{"lost"}}, store.Page{Size: 1})
		wantKind(t, "ListDeliveries(unknown status)", err, webhookd.KindInvalid)
	})
}
