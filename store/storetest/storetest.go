// Package storetest is the conformance suite of store.Store: every backend
// (SQLite, PostgreSQL) runs the same cases, so the API and the delivery
// engine can rely on one behaviour whatever database an operator chose.
//
// A backend's test calls Run with a function that opens a fresh, empty,
// migrated store. Most cases share one store and isolate themselves by
// working in accounts of their own; cases about global state (the account
// list, internal keys, the event-type catalog) open a store of their own.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// Run runs the suite. open must return an empty store and arrange (with
// t.Cleanup) for it to be closed and removed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	shared := open(t)
	f := &fixture{ids: webhookd.NewIDGenerator(nil), base: time.Now().UTC().Add(-time.Hour)}

	cases := []struct {
		name string
		run  func(t *testing.T, s store.Store, f *fixture)
	}{
		{"Accounts", testAccounts},
		{"APIKeys", testAPIKeys},
		{"Endpoints", testEndpoints},
		{"EndpointPagination", testEndpointPagination},
		{"UpdateEndpoint", testUpdateEndpoint},
		{"EndpointStateWrites", testEndpointStateWrites},
		{"EndpointWritesRace", testEndpointWritesRace},
		{"EndpointLimit", testEndpointLimit},
		{"DeleteEndpointCascades", testDeleteEndpointCascades},
		{"DevelopmentEndpoint", testDevelopmentEndpoint},
		{"PublishFansOut", testPublishFansOut},
		{"PublishIdempotent", testPublishIdempotent},
		{"PublishManySubscribers", testPublishManySubscribers},
		{"PublishConcurrentSameKey", testPublishConcurrentSameKey},
		{"PublishConcurrentMixed", testPublishConcurrentMixed},
		{"Events", testEvents},
		{"EventFilters", testEventFilters},
		{"Deliveries", testDeliveries},
		{"DeliveryFilters", testDeliveryFilters},
		{"PageSizeValidated", testPageSizeValidated},
		{"LoadDeliveryWork", testLoadDeliveryWork},
		{"RecordAttempt", testRecordAttempt},
		{"Batches", testBatches},
		{"RecordAttemptConcurrent", testRecordAttemptConcurrent},
		{"CreateTestDelivery", testCreateTestDelivery},
		{"RetryDelivery", testRetryDelivery},
		{"RecoverEndpoint", testRecoverEndpoint},
		{"AutoDisable", testAutoDisable},
		{"EndpointUpdateKeepsFailureClock", testEndpointUpdateKeepsFailureClock},
		{"Ping", testPing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, shared, f)
		})
	}

	// Cases over global state each get an empty store.
	isolated := []struct {
		name string
		run  func(t *testing.T, s store.Store, f *fixture)
	}{
		{"AccountPagination", testAccountPagination},
		{"InternalAPIKeys", testInternalAPIKeys},
		{"EventTypes", testEventTypes},
		{"ListDueDeliveries", testListDueDeliveries},
		{"PurgeEvents", testPurgeEvents},
		// Alone, so that its thousands of writes do not slow the others.
		{"PublishAtEndpointLimit", testPublishAtEndpointLimit},
	}
	for _, c := range isolated {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t), f)
		})
	}
}

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

// newestFirst returns ids sorted as listings must return them.
func newestFirst(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// collectPages lists every item through pages of size, checking that no page
// is larger than asked, and returns the ids in the order seen.
func collectPages(t *testing.T, size int, list func(p store.Page) ([]string, error)) []string {
	t.Helper()
	var all []string
	p := store.Page{Size: size}
	for range 100 {
		page, err := list(p)
		if err != nil {
			t.Fatalf("listing page after %q: %v", p.After, err)
		}
		if len(page) > size {
			t.Fatalf("page of %d items, asked for %d", len(page), size)
		}
		all = append(all, page...)
		if len(page) < size {
			return all
		}
		p.After = page[len(page)-1]
	}
	t.Fatal("pagination did not end")
	return nil
}

func testAccounts(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	// Nanoseconds and a zone other than UTC: the store keeps what the
	// database can keep and says so by updating the struct.
	at := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	a := &webhookd.Account{ID: f.ids.New(webhookd.PrefixAccount), DisplayName: "Acme", CreateTime: at, UpdateTime: at}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if want := at.UTC().Truncate(time.Microsecond); !a.CreateTime.Equal(want) || a.CreateTime.Location() != time.UTC {
		t.Errorf("CreateTime after create = %v, want %v in UTC", a.CreateTime, want)
	}
	got, err := s.GetAccount(ctx, a.ID)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("GetAccount (-created +got):\n%s", diff)
	}

	_, err = s.GetAccount(ctx, f.ids.New(webhookd.PrefixAccount))
	wantKind(t, "GetAccount(missing)", err, webhookd.KindNotFound)
	dup := *a
	wantKind(t, "CreateAccount(duplicate id)", s.CreateAccount(ctx, &dup), webhookd.KindConflict)
}

func testAccountPagination(t *testing.T, s store.Store, f *fixture) {
	var created []string
	for range 7 {
		created = append(created, f.account(t, s).ID)
	}
	got := collectPages(t, 3, func(p store.Page) ([]string, error) {
		page, err := s.ListAccounts(context.Background(), p)
		return ids(page, accountID), err
	})
	if diff := cmp.Diff(newestFirst(created), got); diff != "" {
		t.Errorf("ListAccounts over pages (-want +got):\n%s", diff)
	}
}

func newKey(f *fixture, accountID string, internal bool, hash string) *webhookd.APIKey {
	return &webhookd.APIKey{
		ID:          f.ids.New(webhookd.PrefixAPIKey),
		AccountID:   accountID,
		Internal:    internal,
		DisplayName: "ci",
		TokenHash:   []byte(hash),
		CreateTime:  time.Now(),
	}
}

func testAPIKeys(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)

	k := newKey(f, acct.ID, false, "hash-"+acct.ID)
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	got, err := s.GetAPIKey(ctx, k.ID)
	if err != nil {
		t.Fatalf("GetAPIKey: %v", err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("GetAPIKey (-created +got):\n%s", diff)
	}
	if got.Revoked() {
		t.Error("new key is revoked")
	}
	byHash, err := s.APIKeyByTokenHash(ctx, k.TokenHash)
	if err != nil {
		t.Fatalf("APIKeyByTokenHash: %v", err)
	}
	if byHash.ID != k.ID {
		t.Errorf("APIKeyByTokenHash = %s, want %s", byHash.ID, k.ID)
	}

	t.Run("Errors", func(t *testing.T) {
		_, err := s.APIKeyByTokenHash(ctx, []byte("no such hash"))
		wantKind(t, "APIKeyByTokenHash(unknown)", err, webhookd.KindNotFound)
		_, err = s.GetAPIKey(ctx, f.ids.New(webhookd.PrefixAPIKey))
		wantKind(t, "GetAPIKey(missing)", err, webhookd.KindNotFound)
		_, err = s.RevokeAPIKey(ctx, f.ids.New(webhookd.PrefixAPIKey), time.Now())
		wantKind(t, "RevokeAPIKey(missing)", err, webhookd.KindNotFound)

		sameHash := newKey(f, acct.ID, false, string(k.TokenHash))
		wantKind(t, "CreateAPIKey(duplicate hash)", s.CreateAPIKey(ctx, sameHash), webhookd.KindConflict)
		orphan := newKey(f, f.ids.New(webhookd.PrefixAccount), false, "hash-orphan-"+acct.ID)
		wantKind(t, "CreateAPIKey(missing account)", s.CreateAPIKey(ctx, orphan), webhookd.KindNotFound)
		accountless := newKey(f, "", false, "hash-accountless-"+acct.ID)
		wantKind(t, "CreateAPIKey(customer key without account)", s.CreateAPIKey(ctx, accountless), webhookd.KindInvalid)
	})

	t.Run("ListScopedAndPaged", func(t *testing.T) {
		want := []string{k.ID}
		for i := range 4 {
			more := newKey(f, acct.ID, false, fmt.Sprintf("hash-%s-%d", acct.ID, i))
			if err := s.CreateAPIKey(ctx, more); err != nil {
				t.Fatalf("CreateAPIKey: %v", err)
			}
			want = append(want, more.ID)
		}
		if err := s.CreateAPIKey(ctx, newKey(f, other.ID, false, "hash-"+other.ID)); err != nil {
			t.Fatalf("CreateAPIKey(other account): %v", err)
		}
		got := collectPages(t, 2, func(p store.Page) ([]string, error) {
			page, err := s.ListAPIKeys(ctx, acct.ID, p)
			return ids(page, apiKeyID), err
		})
		if diff := cmp.Diff(newestFirst(want), got); diff != "" {
			t.Errorf("ListAPIKeys (-want +got):\n%s", diff)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		first := time.Now().Add(-time.Minute)
		revoked, err := s.RevokeAPIKey(ctx, k.ID, first)
		if err != nil {
			t.Fatalf("RevokeAPIKey: %v", err)
		}
		if want := first.UTC().Truncate(time.Microsecond); !revoked.RevokeTime.Equal(want) {
			t.Errorf("RevokeTime = %v, want %v", revoked.RevokeTime, want)
		}
		again, err := s.RevokeAPIKey(ctx, k.ID, time.Now())
		if err != nil {
			t.Fatalf("RevokeAPIKey again: %v", err)
		}
		if !again.RevokeTime.Equal(revoked.RevokeTime) {
			t.Errorf("second revoke moved RevokeTime from %v to %v", revoked.RevokeTime, again.RevokeTime)
		}
		// A revoked key is still found by hash: the caller decides it no
		// longer authenticates and can say why.
		byHash, err := s.APIKeyByTokenHash(ctx, k.TokenHash)
		if err != nil {
			t.Fatalf("APIKeyByTokenHash(revoked): %v", err)
		}
		if !byHash.Revoked() {
			t.Error("revoked key looked up by hash is not revoked")
		}
	})
}

func testInternalAPIKeys(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	n, err := s.CountInternalAPIKeys(ctx)
	if err != nil || n != 0 {
		t.Fatalf("CountInternalAPIKeys on empty store = %d, %v; want 0", n, err)
	}
	acct := f.account(t, s)
	if err := s.CreateAPIKey(ctx, newKey(f, acct.ID, false, "customer")); err != nil {
		t.Fatalf("CreateAPIKey(customer): %v", err)
	}
	var internal []string
	for i := range 3 {
		k := newKey(f, "", true, fmt.Sprintf("internal-%d", i))
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey(internal): %v", err)
		}
		internal = append(internal, k.ID)
	}
	wantKind(t, "CreateAPIKey(internal key with account)", s.CreateAPIKey(ctx, newKey(f, acct.ID, true, "internal-acct")), webhookd.KindInvalid)

	got := collectPages(t, 2, func(p store.Page) ([]string, error) {
		page, err := s.ListAPIKeys(ctx, "", p)
		return ids(page, apiKeyID), err
	})
	if diff := cmp.Diff(newestFirst(internal), got); diff != "" {
		t.Errorf("ListAPIKeys(internal) (-want +got):\n%s", diff)
	}
	if _, err := s.RevokeAPIKey(ctx, internal[0], time.Now()); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	if n, err := s.CountInternalAPIKeys(ctx); err != nil || n != 2 {
		t.Errorf("CountInternalAPIKeys after one revoke = %d, %v; want 2 (active only)", n, err)
	}
}

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

func testPublishFansOut(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	subscribed := f.endpoint(t, s, acct.ID, nil)
	alsoSubscribed := f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"property.created"} })
	f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.Disabled = true })
	f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"invoice.paid"} })
	f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = nil })
	// A type name that is a prefix or JSON-ish neighbour must not match.
	f.endpoint(t, s, acct.ID, func(e *webhookd.Endpoint) { e.EventTypes = []string{"property.created.v2", "property"} })
	f.endpoint(t, s, other.ID, nil)

	at := time.Now().Add(-time.Second)
	ev := f.event(acct.ID, "property.created", at)
	ev.Data = []byte(` {"z":1, "a":[1.0,2e3],"s":"\u2028"} `) // kept byte for byte
	stored, deliveries, created, err := s.PublishEvent(ctx, ev, f.ids.New)
	if err != nil || !created {
		t.Fatalf("PublishEvent = created %v, %v", created, err)
	}
	checkEndpointVersions(t, s, deliveries)
	want := *ev
	want.CreateTime = at.UTC().Truncate(time.Microsecond)
	if diff := cmp.Diff(&want, stored); diff != "" {
		t.Errorf("stored event (-published +stored):\n%s", diff)
	}
	got, err := s.GetEvent(ctx, acct.ID, ev.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	if diff := cmp.Diff(stored, got); diff != "" {
		t.Errorf("GetEvent (-stored +got):\n%s", diff)
	}

	gotEndpoints := ids(deliveries, func(d *webhookd.Delivery) string { return d.EndpointID })
	slices.Sort(gotEndpoints)
	wantEndpoints := []string{subscribed.ID, alsoSubscribed.ID}
	slices.Sort(wantEndpoints)
	if diff := cmp.Diff(wantEndpoints, gotEndpoints); diff != "" {
		t.Fatalf("fan-out endpoints (-want +got):\n%s", diff)
	}
	for _, d := range deliveries {
		if !webhookd.HasPrefix(d.ID, webhookd.PrefixDelivery) {
			t.Errorf("delivery id %q lacks prefix %q", d.ID, webhookd.PrefixDelivery)
		}
		want := &webhookd.Delivery{
			ID: d.ID, AccountID: acct.ID, EventID: ev.ID, EndpointID: d.EndpointID, EventType: ev.Type,
			Status: webhookd.DeliveryPending, NextAttemptTime: want.CreateTime, NextTrigger: webhookd.TriggerInitial,
			CreateTime: want.CreateTime, UpdateTime: want.CreateTime,
			EndpointUpdateTime: d.EndpointUpdateTime, // checked by checkEndpointVersions
		}
		if diff := cmp.Diff(want, d); diff != "" {
			t.Errorf("delivery (-want +got):\n%s", diff)
		}
		read, err := s.GetDelivery(ctx, acct.ID, d.ID)
		if err != nil {
			t.Fatalf("GetDelivery: %v", err)
		}
		want.Attempts = []*webhookd.Attempt{}
		want.EndpointUpdateTime = time.Time{} // not stored
		if diff := cmp.Diff(want, read); diff != "" {
			t.Errorf("GetDelivery (-want +got):\n%s", diff)
		}
	}

	t.Run("NoSubscribers", func(t *testing.T) {
		_, deliveries := f.publish(t, s, f.event(acct.ID, "nobody.listens", time.Now()))
		if len(deliveries) != 0 {
			t.Errorf("%d deliveries for an unsubscribed type", len(deliveries))
		}
	})
	t.Run("MissingAccount", func(t *testing.T) {
		_, _, _, err := s.PublishEvent(ctx, f.event(f.ids.New(webhookd.PrefixAccount), "property.created", time.Now()), f.ids.New)
		wantKind(t, "PublishEvent(missing account)", err, webhookd.KindNotFound)
	})
	t.Run("DuplicateID", func(t *testing.T) {
		dup := *ev
		_, _, _, err := s.PublishEvent(ctx, &dup, f.ids.New)
		wantKind(t, "PublishEvent(duplicate id)", err, webhookd.KindConflict)
	})
}

func testPublishIdempotent(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	f.endpoint(t, s, acct.ID, nil)

	first := f.event(acct.ID, "property.created", time.Now())
	first.IdempotencyKey = "order-42"
	stored, deliveries := f.publish(t, s, first)
	if len(deliveries) != 1 {
		t.Fatalf("first publish made %d deliveries, want 1", len(deliveries))
	}

	again := f.event(acct.ID, "appointment.scheduled", time.Now())
	again.IdempotencyKey = "order-42"
	again.Data = []byte(`{"different":true}`)
	original, more, created, err := s.PublishEvent(ctx, again, f.ids.New)
	if err != nil {
		t.Fatalf("PublishEvent(same key): %v", err)
	}
	if created || len(more) != 0 {
		t.Errorf("PublishEvent(same key) = created %v with %d deliveries, want nothing new", created, len(more))
	}
	if diff := cmp.Diff(stored, original); diff != "" {
		t.Errorf("same key returned (-original +got):\n%s", diff)
	}
	_, err = s.GetEvent(ctx, acct.ID, again.ID)
	wantKind(t, "GetEvent(of the repeated publish)", err, webhookd.KindNotFound)
	all, err := s.ListDeliveries(ctx, store.DeliveryFilter{AccountID: acct.ID}, store.Page{Size: 10})
	if err != nil || len(all) != 1 {
		t.Errorf("account has %d deliveries (%v), want 1", len(all), err)
	}

	// Keys are per account, and events without a key never collide.
	otherAccount := f.event(other.ID, "property.created", time.Now())
	otherAccount.IdempotencyKey = "order-42"
	f.publish(t, s, otherAccount)
	f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
	f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
}

func testPublishConcurrentSameKey(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	ep := f.endpoint(t, s, acct.ID, nil)

	const publishers = 12
	type result struct {
		id      string
		created bool
		n       int
		err     error
	}
	results := make([]result, publishers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := f.event(acct.ID, "property.created", time.Now())
			ev.IdempotencyKey = "payment-7"
			<-start
			stored, deliveries, created, err := s.PublishEvent(ctx, ev, f.ids.New)
			results[i] = result{created: created, n: len(deliveries), err: err}
			if stored != nil {
				results[i].id = stored.ID
			}
		}()
	}
	close(start)
	wg.Wait()

	winners := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("publisher %d: %v", i, r.err)
		}
		if r.created {
			winners++
			if r.n != 1 {
				t.Errorf("winner made %d deliveries, want 1", r.n)
			}
		}
		if r.id != results[0].id {
			t.Errorf("publisher %d got event %s, publisher 0 got %s", i, r.id, results[0].id)
		}
	}
	if winners != 1 {
		t.Errorf("%d publishes created an event, want exactly 1", winners)
	}
	deliveries, err := s.ListDeliveries(ctx, store.DeliveryFilter{EndpointID: ep.ID}, store.Page{Size: 100})
	if err != nil || len(deliveries) != 1 {
		t.Errorf("endpoint has %d deliveries (%v), want 1", len(deliveries), err)
	}
}

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

func testPageSizeValidated(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	zero := store.Page{}
	_, err := s.ListAccounts(ctx, zero)
	wantKind(t, "ListAccounts(size 0)", err, webhookd.KindInvalid)
	_, err = s.ListEvents(ctx, store.EventFilter{}, zero)
	wantKind(t, "ListEvents(size 0)", err, webhookd.KindInvalid)
	_, err = s.ListDeliveries(ctx, store.DeliveryFilter{}, zero)
	wantKind(t, "ListDeliveries(size 0)", err, webhookd.KindInvalid)
	_, err = s.ListEndpoints(ctx, "", zero)
	wantKind(t, "ListEndpoints(size 0)", err, webhookd.KindInvalid)
	_, err = s.ListAPIKeys(ctx, "", zero)
	wantKind(t, "ListAPIKeys(size 0)", err, webhookd.KindInvalid)
}

func testPing(t *testing.T, s store.Store, f *fixture) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// testPublishManySubscribers publishes to more endpoints than a first
// publish of the account suggests, then to more still after endpoints are
// added: every subscribed endpoint gets exactly one delivery each time.
func testPublishManySubscribers(t *testing.T, s store.Store, f *fixture) {
	acct := f.account(t, s)
	var want []string
	for range 7 {
		want = append(want, f.endpoint(t, s, acct.ID, nil).ID)
	}
	for round, add := range []int{0, 5} {
		for range add {
			want = append(want, f.endpoint(t, s, acct.ID, nil).ID)
		}
		_, ds := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
		got := ids(ds, func(d *webhookd.Delivery) string { return d.EndpointID })
		slices.Sort(got)
		sorted := slices.Sorted(slices.Values(want))
		if !slices.Equal(got, sorted) {
			t.Fatalf("round %d: deliveries to %v, want one to each of %v", round, got, sorted)
		}
	}
}
