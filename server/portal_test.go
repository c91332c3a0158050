package server_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// testPortalSessions: a portal session acts for its account like a customer
// key within what the dashboard does, is refused the rest, ends when it
// expires or is revoked (by itself or by the admin API), and is created
// only by internal callers with a bounded ttl.
func testPortalSessions(t *testing.T, c *client) {
	tn, other := c.newTenant(t), c.newTenant(t)
	admin := adminCtx(t)
	ps, err := c.admin.CreatePortalSession(admin, &webhooksv1.CreatePortalSessionRequest{
		PortalSession: &webhooksv1.PortalSession{Account: tn.account},
	})
	if err != nil {
		t.Fatal(err)
	}
	token := ps.GetToken()
	if !strings.HasPrefix(token, "whps_") || ps.GetAccount() != tn.account || !strings.HasPrefix(ps.GetName(), "portalSessions/ps_") {
		t.Fatalf("CreatePortalSession = %v", ps)
	}
	if !strings.HasPrefix(ps.GetUrl(), "http://127.0.0.1:") || !strings.HasSuffix(ps.GetUrl(), "/#portal="+token) {
		t.Fatalf("url = %q, want the dashboard's address with #portal=<token>", ps.GetUrl())
	}
	if ttl := ps.GetExpireTime().AsTime().Sub(ps.GetCreateTime().AsTime()); ttl != time.Hour {
		t.Fatalf("default ttl = %s, want 1h", ttl)
	}
	sess := withToken(t.Context(), token)

	// What the dashboard does, in the session's account only.
	mine := c.createEndpoint(t, tn, propertyCreated)
	theirs := c.createEndpoint(t, other, propertyCreated)
	list, err := c.ws.ListEndpoints(sess, &webhooksv1.ListEndpointsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetEndpoints()) != 1 || list.GetEndpoints()[0].GetName() != mine.GetName() {
		t.Fatalf("session lists %v, want only %s", list.GetEndpoints(), mine.GetName())
	}
	if _, err := c.ws.GetEndpointSecret(sess, &webhooksv1.GetEndpointSecretRequest{Name: mine.GetName() + "/secret"}); err != nil {
		t.Fatalf("session cannot reveal its endpoint's secret: %v", err)
	}
	_, err = c.ws.GetEndpoint(sess, &webhooksv1.GetEndpointRequest{Name: theirs.GetName()})
	wantCode(t, err, codes.NotFound)

	// Nothing else.
	_, err = c.admin.CreateApiKey(sess, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{Account: tn.account}})
	wantCode(t, err, codes.PermissionDenied)
	_, err = c.admin.CreatePortalSession(sess, &webhooksv1.CreatePortalSessionRequest{PortalSession: &webhooksv1.PortalSession{Account: tn.account}})
	wantCode(t, err, codes.PermissionDenied)
	_, err = c.ws.PublishEvent(sess, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: propertyCreated}})
	wantCode(t, err, codes.PermissionDenied)
	// A customer key cannot create sessions, and is not a session to revoke.
	_, err = c.admin.CreatePortalSession(tn.ctx, &webhooksv1.CreatePortalSessionRequest{PortalSession: &webhooksv1.PortalSession{Account: tn.account}})
	wantCode(t, err, codes.PermissionDenied)
	_, err = c.ws.RevokeCurrentSession(tn.ctx, &webhooksv1.RevokeCurrentSessionRequest{})
	wantCode(t, err, codes.FailedPrecondition)

	// Sign-out ends the session, and only it.
	if _, err := c.ws.RevokeCurrentSession(sess, &webhooksv1.RevokeCurrentSessionRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ws.ListEndpoints(sess, &webhooksv1.ListEndpointsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	if _, err := c.ws.ListEndpoints(tn.ctx, &webhooksv1.ListEndpointsRequest{}); err != nil {
		t.Fatalf("the account's key stopped working with the session: %v", err)
	}

	// The admin API revokes a session too, idempotently.
	ps2, err := c.admin.CreatePortalSession(admin, &webhooksv1.CreatePortalSessionRequest{
		PortalSession: &webhooksv1.PortalSession{Account: tn.account, Ttl: durationpb.New(10 * time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		revoked, err := c.admin.RevokePortalSession(admin, &webhooksv1.RevokePortalSessionRequest{Name: ps2.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if revoked.GetRevokeTime() == nil || revoked.Token != nil {
			t.Fatalf("RevokePortalSession = %v", revoked)
		}
	}
	_, err = c.ws.ListEndpoints(withToken(t.Context(), ps2.GetToken()), &webhooksv1.ListEndpointsRequest{})
	wantCode(t, err, codes.Unauthenticated)

	// A session ends by itself at its expire time.
	short, err := c.admin.CreatePortalSession(admin, &webhooksv1.CreatePortalSessionRequest{
		PortalSession: &webhooksv1.PortalSession{Account: tn.account, Ttl: durationpb.New(time.Second)},
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(short.GetExpireTime().AsTime()) + 10*time.Millisecond)
	_, err = c.ws.ListEndpoints(withToken(t.Context(), short.GetToken()), &webhooksv1.ListEndpointsRequest{})
	wantCode(t, err, codes.Unauthenticated)

	// Bad requests name their field.
	for _, tc := range []struct {
		ps    *webhooksv1.PortalSession
		field string
	}{
		{&webhooksv1.PortalSession{}, "portal_session.account"},
		{&webhooksv1.PortalSession{Account: "acct_x"}, "portal_session.account"},
		{&webhooksv1.PortalSession{Account: tn.account, Ttl: durationpb.New(25 * time.Hour)}, "portal_session.ttl"},
		{&webhooksv1.PortalSession{Account: tn.account, Ttl: durationpb.New(time.Millisecond)}, "portal_session.ttl"},
	} {
		_, err := c.admin.CreatePortalSession(admin, &webhooksv1.CreatePortalSessionRequest{PortalSession: tc.ps})
		wantInvalid(t, err, tc.field)
	}
	_, err = c.admin.CreatePortalSession(admin, &webhooksv1.CreatePortalSessionRequest{
		PortalSession: &webhooksv1.PortalSession{Account: "accounts/acct_01m8ckq9h55es949z76tmkjvq9"},
	})
	wantCode(t, err, codes.NotFound)
	_, err = c.admin.RevokePortalSession(admin, &webhooksv1.RevokePortalSessionRequest{Name: "portalSessions/ps_01m8ckq9h55es949z76tmkjvq9"})
	wantCode(t, err, codes.NotFound)
}
