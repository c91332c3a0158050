package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// testEndpointStateWrites checks each targeted write on its own: what it
// changes, what it keeps, and that it counts in the revision.
func testEndpointStateWrites(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	other := f.account(t, s)
	e := f.endpoint(t, s, acct.ID, nil)
	t1 := time.Now().UTC().Truncate(time.Second).Add(time.Minute)
	t2, t3, t4 := t1.Add(time.Minute), t1.Add(2*time.Minute), t1.Add(3*time.Minute)

	got, err := s.DisableEndpoint(ctx, acct.ID, e.ID, "maintenance", t1)
	if err != nil {
		t.Fatalf("DisableEndpoint: %v", err)
	}
	if !got.Disabled || got.DisabledReason != "maintenance" || !got.DisableTime.Equal(t1) || !got.UpdateTime.Equal(t1) || got.Revision != 2 {
		t.Errorf("after disabling: disabled %v, reason %q, disable time %v, update time %v, revision %d; want true, maintenance, %v, %v, 2",
			got.Disabled, got.DisabledReason, got.DisableTime, got.UpdateTime, got.Revision, t1, t1)
	}
	if got.Secret != e.Secret || got.Description != e.Description || got.URL != e.URL {
		t.Errorf("disabling changed settings or secret: %+v", got)
	}
	// Disabled again: the reason changes, the disable time stays.
	got, err = s.DisableEndpoint(ctx, acct.ID, e.ID, "the endpoint answered 410 Gone", t2)
	if err != nil {
		t.Fatalf("DisableEndpoint(again): %v", err)
	}
	if got.DisabledReason != "the endpoint answered 410 Gone" || !got.DisableTime.Equal(t1) || got.Revision != 3 {
		t.Errorf("after disabling again: reason %q, disable time %v, revision %d; want the new reason, %v, 3", got.DisabledReason, got.DisableTime, got.Revision, t1)
	}

	got, err = s.RotateEndpointSecret(ctx, acct.ID, e.ID, "whsec_rotated", t3, t3.Add(time.Hour))
	if err != nil {
		t.Fatalf("RotateEndpointSecret: %v", err)
	}
	if got.Secret != "whsec_rotated" || got.PreviousSecret != e.Secret || !got.PreviousSecretExpireTime.Equal(t3.Add(time.Hour)) || !got.Disabled || got.Revision != 4 {
		t.Errorf("after rotating: secret %q, previous %q until %v, disabled %v, revision %d; want whsec_rotated, %q until %v, still disabled, 4",
			got.Secret, got.PreviousSecret, got.PreviousSecretExpireTime, got.Disabled, got.Revision, e.Secret, t3.Add(time.Hour))
	}

	got, err = s.EnableEndpoint(ctx, acct.ID, e.ID, t4)
	if err != nil {
		t.Fatalf("EnableEndpoint: %v", err)
	}
	if got.Disabled || got.DisabledReason != "" || !got.DisableTime.IsZero() || !got.UpdateTime.Equal(t4) || got.Revision != 5 || got.Secret != "whsec_rotated" {
		t.Errorf("after enabling: %+v; want enabled, no reason or disable time, update time %v, revision 5, the rotated secret", got, t4)
	}
	// Enabling an enabled endpoint changes nothing.
	again, err := s.EnableEndpoint(ctx, acct.ID, e.ID, t4.Add(time.Minute))
	if err != nil || again.Revision != 5 || !again.UpdateTime.Equal(t4) {
		t.Errorf("EnableEndpoint(enabled) = %+v, %v; want it unchanged", again, err)
	}

	for _, scope := range []struct{ name, account, id string }{
		{"other account", other.ID, e.ID},
		{"missing", acct.ID, f.ids.New(webhookd.PrefixEndpoint)},
	} {
		_, err := s.DisableEndpoint(ctx, scope.account, scope.id, "x", t4)
		wantKind(t, "DisableEndpoint("+scope.name+")", err, webhookd.KindNotFound)
		_, err = s.EnableEndpoint(ctx, scope.account, scope.id, t4)
		wantKind(t, "EnableEndpoint("+scope.name+")", err, webhookd.KindNotFound)
		_, err = s.RotateEndpointSecret(ctx, scope.account, scope.id, "whsec_x", t4, t4)
		wantKind(t, "RotateEndpointSecret("+scope.name+")", err, webhookd.KindNotFound)
	}
}

// testEndpointWritesRace races every kind of write to an endpoint — secret
// rotations, edits (read, change, write back, as the API does), disabling
// and enabling, and auto-disable through RecordAttempts — and checks that
// none undoes another's change: each writer sees its own last change
// whenever it looks, and the end state holds every writer's last change.
// Endpoint "toggled" is also disabled and enabled by a user; endpoint
// "auto" is disabled by auto-disable only, and must stay disabled.
func testEndpointWritesRace(t *testing.T, s store.Store, f *fixture) {
	const rounds = 40
	ctx := context.Background()
	acct := f.account(t, s)
	toggled := f.endpoint(t, s, acct.ID, nil)
	auto := f.endpoint(t, s, acct.ID, nil)
	// Deliveries for auto-disable to record attempts of, made while both
	// endpoints receive events.
	deliveries := map[string][]*webhookd.Delivery{}
	for range rounds {
		_, ds := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
		for _, d := range ds {
			deliveries[d.EndpointID] = append(deliveries[d.EndpointID], d)
		}
	}
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)

	var wg sync.WaitGroup
	race := func(ep *webhookd.Endpoint, userToggles bool) (lastSecret, lastDescription, lastReason *string) {
		lastSecret, lastDescription, lastReason = new(string), new(string), new(string)
		*lastSecret = ep.Secret
		// The lowest revision seen disabled: every write counts in the
		// revision, so a snapshot of a later revision that is enabled again
		// means a write undid auto-disable. Snapshots are compared by
		// revision, not by when a goroutine got to look at them, which is
		// not the order the writes committed in.
		var disabledSince atomic.Int64
		checkAuto := func(what string, e *webhookd.Endpoint) {
			if userToggles {
				return
			}
			if e.Disabled {
				for {
					old := disabledSince.Load()
					if (old != 0 && old <= e.Revision) || disabledSince.CompareAndSwap(old, e.Revision) {
						break
					}
				}
			} else if since := disabledSince.Load(); since != 0 && e.Revision > since {
				t.Errorf("%s: endpoint %s enabled again at revision %d after auto-disable disabled it at revision %d", what, e.ID, e.Revision, since)
			}
		}
		wg.Add(3)
		go func() { // rotations
			defer wg.Done()
			for i := range rounds {
				secret := fmt.Sprintf("whsec_%s_%d", ep.ID, i)
				at := time.Now()
				got, err := s.RotateEndpointSecret(ctx, acct.ID, ep.ID, secret, at, at.Add(time.Hour))
				if err != nil {
					t.Errorf("RotateEndpointSecret: %v", err)
					return
				}
				if got.Secret != secret || got.PreviousSecret != *lastSecret {
					t.Errorf("rotation %d: secret %q, previous %q; want %q, %q (a write in between restored an older secret)",
						i, got.Secret, got.PreviousSecret, secret, *lastSecret)
				}
				checkAuto("RotateEndpointSecret", got)
				*lastSecret = secret
			}
		}()
		go func() { // edits
			defer wg.Done()
			for i := range rounds {
				for {
					got, err := s.GetEndpoint(ctx, acct.ID, ep.ID)
					if err != nil {
						t.Errorf("GetEndpoint: %v", err)
						return
					}
					if i > 0 && got.Description != *lastDescription {
						t.Errorf("edit %d: read description %q, want %q (a write in between restored an older one)", i, got.Description, *lastDescription)
					}
					checkAuto("GetEndpoint", got)
					got.Description, got.UpdateTime = fmt.Sprintf("edit %d", i), time.Now()
					err = s.UpdateEndpoint(ctx, acct.ID, got)
					if webhookd.KindOf(err) == webhookd.KindAborted {
						continue // changed since the read: read again
					}
					if err != nil {
						t.Errorf("UpdateEndpoint: %v", err)
						return
					}
					*lastDescription = got.Description
					break
				}
			}
		}()
		go func() { // auto-disable: a failed attempt per round, each a second later
			defer wg.Done()
			for i, d := range deliveries[ep.ID] {
				a, after := f.attemptFor(d, webhookd.DeliveryPending, 500, base.Add(time.Hour))
				a.StartTime = base.Add(time.Duration(i) * time.Second)
				errs, err := s.RecordAttempts(ctx, []store.AttemptRecord{{Attempt: a, Delivery: after, AutoDisableAfter: time.Millisecond}})
				if err == nil {
					err = errs[0]
				}
				if err != nil {
					t.Errorf("RecordAttempts: %v", err)
					return
				}
			}
		}()
		if userToggles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rounds {
					var err error
					if i%2 == 1 {
						_, err = s.EnableEndpoint(ctx, acct.ID, ep.ID, time.Now())
					} else {
						reason := fmt.Sprintf("disabled by user, round %d", i)
						var got *webhookd.Endpoint
						got, err = s.DisableEndpoint(ctx, acct.ID, ep.ID, reason, time.Now())
						if err == nil && (!got.Disabled || got.DisabledReason != reason) {
							t.Errorf("DisableEndpoint returned disabled %v, reason %q", got.Disabled, got.DisabledReason)
						}
						*lastReason = reason
					}
					if err != nil {
						t.Errorf("toggling: %v", err)
						return
					}
				}
				// End disabled, so that the end state is known.
				*lastReason = "disabled by user, last"
				if _, err := s.DisableEndpoint(ctx, acct.ID, ep.ID, *lastReason, time.Now()); err != nil {
					t.Errorf("DisableEndpoint: %v", err)
				}
			}()
		}
		return lastSecret, lastDescription, lastReason
	}
	toggledSecret, toggledDescription, toggledReason := race(toggled, true)
	autoSecret, autoDescription, _ := race(auto, false)
	wg.Wait()

	for _, c := range []struct {
		ep                  *webhookd.Endpoint
		secret, description string
		reason              func(string) bool
	}{
		{toggled, *toggledSecret, *toggledDescription, func(r string) bool { return r == *toggledReason }},
		{auto, *autoSecret, *autoDescription, func(r string) bool { return strings.HasPrefix(r, "every delivery attempt failed since ") }},
	} {
		got, err := s.GetEndpoint(ctx, acct.ID, c.ep.ID)
		if err != nil {
			t.Fatalf("GetEndpoint: %v", err)
		}
		if got.Secret != c.secret || got.Description != c.description || got.URL != c.ep.URL ||
			!got.Disabled || !c.reason(got.DisabledReason) || got.DisableTime.IsZero() {
			t.Errorf("endpoint %s after the race: secret %q, description %q, url %q, disabled %v (%q) at %v; want %q, %q, %q, disabled",
				got.ID, got.Secret, got.Description, got.URL, got.Disabled, got.DisabledReason, got.DisableTime, c.secret, c.description, c.ep.URL)
		}
		// Every rotation and edit counted, and more (disabling).
		if got.Revision < 1+2*rounds {
			t.Errorf("endpoint %s: revision %d after %d rotations and %d edits", got.ID, got.Revision, rounds, rounds)
		}
	}
}

// testEndpointLimit checks the per-account cap of CreateEndpoint, also
// when creates race.
func testEndpointLimit(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	newEndpoint := func(accountID string) *webhookd.Endpoint {
		now := time.Now()
		return &webhookd.Endpoint{ID: f.ids.New(webhookd.PrefixEndpoint), AccountID: accountID, URL: "https://example.com/hooks",
			EventTypes: []string{"property.created"}, Secret: "whsec_x", CreateTime: now, UpdateTime: now}
	}
	t.Run("Sequential", func(t *testing.T) {
		t.Parallel()
		acct := f.account(t, s)
		var first *webhookd.Endpoint
		for i := range 3 {
			e := newEndpoint(acct.ID)
			if err := s.CreateEndpoint(ctx, e, 3); err != nil {
				t.Fatalf("CreateEndpoint %d of 3: %v", i+1, err)
			}
			if first == nil {
				first = e
			}
		}
		err := s.CreateEndpoint(ctx, newEndpoint(acct.ID), 3)
		wantKind(t, "CreateEndpoint(over the limit)", err, webhookd.KindFailedPrecondition)
		if err != nil && !strings.Contains(err.Error(), "has 3 endpoints") {
			t.Errorf("CreateEndpoint(over the limit) = %v; want it to say how many the account has", err)
		}
		// Another account has its own allowance, and no limit is no limit.
		if err := s.CreateEndpoint(ctx, newEndpoint(f.account(t, s).ID), 3); err != nil {
			t.Errorf("CreateEndpoint(other account): %v", err)
		}
		if err := s.CreateEndpoint(ctx, newEndpoint(acct.ID), 0); err != nil {
			t.Errorf("CreateEndpoint(no limit): %v", err)
		}
		// A delete makes room again.
		if err := s.DeleteEndpoint(ctx, acct.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateEndpoint(ctx, newEndpoint(acct.ID), 5); err != nil {
			t.Errorf("CreateEndpoint after a delete: %v", err)
		}
		wantKind(t, "CreateEndpoint(missing account)", s.CreateEndpoint(ctx, newEndpoint(f.ids.New(webhookd.PrefixAccount)), 3), webhookd.KindNotFound)
	})
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		acct := f.account(t, s)
		const limit, tries = 5, 16
		var created atomic.Int32
		var wg sync.WaitGroup
		for range tries {
			wg.Go(func() {
				err := s.CreateEndpoint(ctx, newEndpoint(acct.ID), limit)
				switch webhookd.KindOf(err) {
				case webhookd.KindFailedPrecondition:
				default:
					if err != nil {
						t.Errorf("CreateEndpoint: %v", err)
						return
					}
					created.Add(1)
				}
			})
		}
		wg.Wait()
		page, err := s.ListEndpoints(ctx, acct.ID, store.Page{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		if created.Load() != limit || len(page) != limit {
			t.Errorf("%d concurrent creates with a limit of %d: %d succeeded, %d stored", tries, limit, created.Load(), len(page))
		}
	})
}

// publishAtLimitEndpoints is how many endpoints testPublishAtEndpointLimit
// subscribes: more than one INSERT of deliveries can hold on SQLite (about
// 2,400), so fan-out must write them in batches.
const publishAtLimitEndpoints = 3000

// testPublishAtEndpointLimit fills an account up to its endpoint limit,
// every endpoint subscribed to one type, and publishes to it.
func testPublishAtEndpointLimit(t *testing.T, s store.Store, f *fixture) {
	ctx := context.Background()
	acct := f.account(t, s)
	const limit = publishAtLimitEndpoints
	newEndpoint := func(i int) *webhookd.Endpoint {
		now := time.Now()
		return &webhookd.Endpoint{ID: f.ids.New(webhookd.PrefixEndpoint), AccountID: acct.ID, URL: fmt.Sprintf("https://example.com/hooks/%d", i),
			EventTypes: []string{"property.created"}, Secret: "whsec_x", CreateTime: now, UpdateTime: now}
	}
	// All but the last without the limit, whose count would make filling
	// the account quadratic; the last one and the one refused with it.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < limit-1; i += 4 {
				if err := s.CreateEndpoint(ctx, newEndpoint(i), 0); err != nil {
					t.Errorf("CreateEndpoint %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if err := s.CreateEndpoint(ctx, newEndpoint(limit-1), limit); err != nil {
		t.Fatalf("CreateEndpoint(the last the limit allows): %v", err)
	}
	wantKind(t, "CreateEndpoint(past the limit)", s.CreateEndpoint(ctx, newEndpoint(limit), limit), webhookd.KindFailedPrecondition)

	_, ds := f.publish(t, s, f.event(acct.ID, "property.created", time.Now()))
	endpoints := map[string]bool{}
	for _, d := range ds {
		endpoints[d.EndpointID] = true
	}
	if len(ds) != limit || len(endpoints) != limit {
		t.Fatalf("publish made %d deliveries to %d endpoints, want %d to as many", len(ds), len(endpoints), limit)
	}
}
