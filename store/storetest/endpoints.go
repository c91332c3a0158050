package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

func testEndpoints(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)

	cases := []struct {
		name   string
		mutate func(*webhookd.Endpoint)
	}{
		{"Full", func(e *webhookd.Endpoint) {
			e.PreviousSecret = "whsec_old"
			e.PreviousSecretExpireTime = time.Now().Add(24 * time.Hour)
		}},
		{"NoHeadersNoTypes", func(e *webhookd.Endpoint) { e.Headers = nil; e.EventTypes = nil }},
		{"Disabled", func(e *webhookd.Endpoint) { e.Disabled = true; e.DisabledReason = "receiver answered 410 Gone" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := f.endpoint(t, s, acct.ID, c.mutate)
			got, err := s.GetEndpoint(ctx, acct.ID, e.ID)
			if err != nil {
				t.Fatalf("GetEndpoint: %v", err)
			}
			if diff := cmp.Diff(e, got); diff != "" {
				t.Errorf("GetEndpoint (-created +got):\n%s", diff)
			}
			if got, err := s.GetEndpoint(ctx, "", e.ID); err != nil || got.ID != e.ID {
				t.Errorf("GetEndpoint(any account) = %v, %v", got, err)
			}
			_, err = s.GetEndpoint(ctx, other.ID, e.ID)
			wantKind(t, "GetEndpoint(other account)", err, webhookd.KindNotFound)
			wantKind(t, "UpdateEndpoint(other account)", s.UpdateEndpoint(ctx, other.ID, e), webhookd.KindNotFound)
			wantKind(t, "DeleteEndpoint(other account)", s.DeleteEndpoint(ctx, other.ID, e.ID), webhookd.KindNotFound)
			if _, err := s.GetEndpoint(ctx, acct.ID, e.ID); err != nil {
				t.Errorf("endpoint gone after another account's delete: %v", err)
			}
		})
	}
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		_, err := s.GetEndpoint(ctx, acct.ID, f.ids.New(webhookd.PrefixEndpoint))
		wantKind(t, "GetEndpoint(missing)", err, webhookd.KindNotFound)
		wantKind(t, "DeleteEndpoint(missing)", s.DeleteEndpoint(ctx, acct.ID, f.ids.New(webhookd.PrefixEndpoint)), webhookd.KindNotFound)
		orphan := &webhookd.Endpoint{ID: f.ids.New(webhookd.PrefixEndpoint), AccountID: f.ids.New(webhookd.PrefixAccount), URL: "https://example.com", Secret: "s", CreateTime: time.Now(), UpdateTime: time.Now()}
		wantKind(t, "CreateEndpoint(missing account)", s.CreateEndpoint(ctx, orphan, 0), webhookd.KindNotFound)
		missing := &webhookd.Endpoint{ID: f.ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: "https://example.com", Secret: "s", UpdateTime: time.Now()}
		wantKind(t, "UpdateEndpoint(missing)", s.UpdateEndpoint(ctx, acct.ID, missing), webhookd.KindNotFound)
	})
}

func testEndpointPagination(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	noise := f.account(t, s)
	var want []string
	for range 5 {
		want = append(want, f.endpoint(t, s, acct.ID, nil).ID)
		f.endpoint(t, s, noise.ID, nil)
	}
	for _, size := range []int{1, 2, 5, 10} {
		t.Run(fmt.Sprintf("Size%d", size), func(t *testing.T) {
			t.Parallel()
			got := collectPages(t, size, func(p store.Page) ([]string, error) {
				page, err := s.ListEndpoints(ctx, acct.ID, p)
				return ids(page, endpointID), err
			})
			if diff := cmp.Diff(newestFirst(want), got); diff != "" {
				t.Errorf("ListEndpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func testUpdateEndpoint(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	e := f.endpoint(t, s, acct.ID, nil)
	if e.Revision != 1 {
		t.Fatalf("CreateEndpoint set revision %d, want 1", e.Revision)
	}

	changed := *e
	changed.URL = "https://example.org/hooks"
	changed.Description = "renamed"
	changed.EventTypes = []string{"invoice.paid"}
	changed.Headers = map[string]string{"Authorization": "Bearer x", "X-Other": "y"}
	changed.UpdateTime = time.Now().Add(time.Second)
	// State and secrets have writes of their own: UpdateEndpoint leaves
	// them as stored whatever the struct says.
	written := changed
	written.Disabled, written.DisabledReason = true, "disabled by user"
	written.Secret, written.PreviousSecret = "whsec_new", e.Secret
	if err := s.UpdateEndpoint(ctx, acct.ID, &written); err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	if written.Revision != 2 {
		t.Errorf("after UpdateEndpoint, revision %d, want 2", written.Revision)
	}
	changed.Revision = 2
	got, err := s.GetEndpoint(ctx, acct.ID, e.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	changed.UpdateTime = written.UpdateTime
	if diff := cmp.Diff(&changed, got); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}

	// A write based on a stale read changes nothing.
	stale := *e // revision 1
	stale.Description = "stale"
	wantKind(t, "UpdateEndpoint(stale revision)", s.UpdateEndpoint(ctx, acct.ID, &stale), webhookd.KindAborted)
	if got, err := s.GetEndpoint(ctx, acct.ID, e.ID); err != nil || got.Description != "renamed" || got.Revision != 2 {
		t.Errorf("after a stale update: %+v, %v; want it unchanged", got, err)
	}

	// Clearing optional fields clears them.
	cleared := *got
	cleared.Headers = nil
	cleared.EventTypes = nil
	if err := s.UpdateEndpoint(ctx, "", &cleared); err != nil {
		t.Fatalf("UpdateEndpoint(clear): %v", err)
	}
	got, err = s.GetEndpoint(ctx, acct.ID, e.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if diff := cmp.Diff(&cleared, got); diff != "" {
		t.Errorf("after clearing (-written +got):\n%s", diff)
	}
	if !got.CreateTime.Equal(e.CreateTime) || got.AccountID != acct.ID {
		t.Errorf("update changed immutable fields: %+v", got)
	}
}

func testDeleteEndpointCascades(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	doomed := f.endpoint(t, s, acct.ID, nil)
	kept := f.endpoint(t, s, acct.ID, nil)
	ev, deliveries := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
	if len(deliveries) != 2 {
		t.Fatalf("published to %d endpoints, want 2", len(deliveries))
	}

	if err := s.DeleteEndpoint(ctx, acct.ID, doomed.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	_, err := s.GetEndpoint(ctx, acct.ID, doomed.ID)
	wantKind(t, "GetEndpoint(deleted)", err, webhookd.KindNotFound)
	wantKind(t, "DeleteEndpoint(again)", s.DeleteEndpoint(ctx, acct.ID, doomed.ID), webhookd.KindNotFound)

	for _, d := range deliveries {
		_, err := s.GetDelivery(ctx, acct.ID, d.ID)
		switch d.EndpointID {
		case doomed.ID:
			wantKind(t, "GetDelivery(of deleted endpoint)", err, webhookd.KindNotFound)
		case kept.ID:
			if err != nil {
				t.Errorf("GetDelivery(of kept endpoint): %v", err)
			}
		}
	}
	left, err := s.ListDeliveries(ctx, store.DeliveryFilter{AccountID: acct.ID, EventID: ev.ID}, store.Page{Size: 10})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	if len(left) != 1 || left[0].EndpointID != kept.ID {
		t.Errorf("deliveries left = %v, want only the kept endpoint's", ids(left, deliveryID))
	}
	if _, err := s.GetEvent(ctx, acct.ID, ev.ID); err != nil {
		t.Errorf("event gone with an endpoint: %v", err)
	}
}
