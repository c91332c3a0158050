package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

func testEvents(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	ev, _ := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))

	_, err := s.GetEvent(ctx, other.ID, ev.ID)
	wantKind(t, "GetEvent(other account)", err, webhookd.KindNotFound)
	_, err = s.GetEvent(ctx, acct.ID, f.ids.New(webhookd.PrefixEvent))
	wantKind(t, "GetEvent(missing)", err, webhookd.KindNotFound)
	if got, err := s.GetEvent(ctx, "", ev.ID); err != nil || got.ID != ev.ID {
		t.Errorf("GetEvent(any account) = %v, %v", got, err)
	}

	test := f.event(acct.ID, "property.created", time.Now())
	test.Test = true
	storedTest, _ := f.publish(t, s, test)
	if got, err := s.GetEvent(ctx, acct.ID, test.ID); err != nil || !got.Test {
		t.Errorf("GetEvent(test event) = %+v, %v; want it found, marked Test", got, err)
	}
	list, err := s.ListEvents(ctx, store.EventFilter{AccountID: acct.ID}, store.Page{Size: 10})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if diff := cmp.Diff([]*webhookd.Event{ev}, list); diff != "" {
		t.Errorf("ListEvents, without the test event %s (-want +got):\n%s", storedTest.ID, diff)
	}
}

func testEventFilters(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	// Types unique to this test let the all-accounts listing be checked on
	// the shared store.
	created, updated := "x"+acct.ID+".created", "x"+acct.ID+".updated"
	at := func(minutes int) time.Time { return f.base.Add(time.Duration(minutes) * time.Minute) }

	var all, createdOnly, window []string
	for i := range 9 {
		typ := created
		if i%3 == 0 {
			typ = updated
		}
		ev, _ := f.publish(t, s, f.event(acct.ID, typ, at(i)))
		all = append(all, ev.ID)
		if typ == created {
			createdOnly = append(createdOnly, ev.ID)
		}
		if i > 2 && i < 6 {
			window = append(window, ev.ID)
		}
	}
	otherEv, _ := f.publish(t, s, f.event(other.ID, created, at(4)))

	cases := []struct {
		name   string
		filter store.EventFilter
		want   []string
	}{
		{"Account", store.EventFilter{AccountID: acct.ID}, all},
		{"OneType", store.EventFilter{AccountID: acct.ID, Types: []string{created}}, createdOnly},
		{"TwoTypes", store.EventFilter{AccountID: acct.ID, Types: []string{created, updated}}, all},
		{"UnknownType", store.EventFilter{AccountID: acct.ID, Types: []string{"nope"}}, nil},
		// Both bounds are exclusive: minutes 3, 4 and 5 lie strictly between 2 and 6.
		{"TimeWindow", store.EventFilter{AccountID: acct.ID, CreatedAfter: at(2), CreatedBefore: at(6)}, window},
		{"After", store.EventFilter{AccountID: acct.ID, CreatedAfter: at(7)}, all[8:]},
		{"Before", store.EventFilter{AccountID: acct.ID, CreatedBefore: at(1)}, all[:1]},
		{"AfterInOtherZone", store.EventFilter{AccountID: acct.ID, CreatedAfter: at(7).In(time.FixedZone("X", -5*3600))}, all[8:]},
		{"AnyAccount", store.EventFilter{Types: []string{created}}, append(slices.Clone(createdOnly), otherEv.ID)},
		// The cursor is exclusive too: the events published after the 6th.
		{"AfterEvent", store.EventFilter{AccountID: acct.ID, AfterID: all[5]}, all[6:]},
		{"AfterEventOfOneType", store.EventFilter{AccountID: acct.ID, Types: []string{updated}, AfterID: all[2]}, []string{all[3], all[6]}},
		{"AfterEventBefore", store.EventFilter{AccountID: acct.ID, AfterID: all[3], CreatedBefore: at(6)}, all[4:6]},
		{"AfterNewestEvent", store.EventFilter{AccountID: acct.ID, AfterID: all[8]}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := collectPages(t, 2, func(p store.Page) ([]string, error) {
				page, err := s.ListEvents(ctx, c.filter, p)
				return ids(page, eventID), err
			})
			if diff := cmp.Diff(newestFirst(c.want), got); diff != "" {
				t.Errorf("ListEvents(%+v) (-want +got):\n%s", c.filter, diff)
			}
		})
	}
}
