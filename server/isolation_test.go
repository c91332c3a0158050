package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// isolationRow is what one RPC does when a customer key of another account
// (the intruder) aims it at the owner's resources.
type isolationRow struct {
	method string // "Service/Method", as in the service descriptor
	// call makes the intruder's call(s); each must fail with one of want.
	call func(t *testing.T, f *isolationFixture) []error
	want []codes.Code
}

// isolationFixture is an owner with one of everything and an intruder.
type isolationFixture struct {
	c                *client
	owner, intruder  tenant
	ownerKeyName     string
	ownerSession     string // portalSessions/ps_…, an active session of the owner
	endpoint, event  string
	delivery, secret string
	ownerEndpoint    *webhooksv1.Endpoint
}

var (
	notFound     = []codes.Code{codes.NotFound}
	adminRefused = []codes.Code{codes.PermissionDenied}
)

func one(err error) []error { return []error{err} }

func ignore[T any](_ T, err error) error { return err }

var isolationRows = []isolationRow{
	// The event type catalog is the same for every account: no account's
	// data is behind these two, so there is nothing to isolate.
	{"WebhookService/ListEventTypes", nil, nil},
	{"WebhookService/GetEventType", nil, nil},

	{"WebhookService/CreateEndpoint", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.CreateEndpoint(f.intruder.ctx, &webhooksv1.CreateEndpointRequest{Account: f.owner.account,
			Endpoint: &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}}})))
	}, notFound},
	{"WebhookService/GetEndpoint", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.GetEndpoint(f.intruder.ctx, &webhooksv1.GetEndpointRequest{Name: f.endpoint})))
	}, notFound},
	{"WebhookService/ListEndpoints", func(t *testing.T, f *isolationFixture) []error {
		own, err := f.c.ws.ListEndpoints(f.intruder.ctx, &webhooksv1.ListEndpointsRequest{})
		if err != nil || len(own.GetEndpoints()) != 0 {
			t.Errorf("the intruder's own listing: %v, %v; want none", own, err)
		}
		return one(ignore(f.c.ws.ListEndpoints(f.intruder.ctx, &webhooksv1.ListEndpointsRequest{Account: f.owner.account})))
	}, notFound},
	{"WebhookService/UpdateEndpoint", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.UpdateEndpoint(f.intruder.ctx, &webhooksv1.UpdateEndpointRequest{
			Endpoint: &webhooksv1.Endpoint{Name: f.endpoint, Url: "https://intruder.example/hook", Description: "mine"}})))
	}, notFound},
	{"WebhookService/DeleteEndpoint", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.DeleteEndpoint(f.intruder.ctx, &webhooksv1.DeleteEndpointRequest{Name: f.endpoint})))
	}, notFound},
	{"WebhookService/EnableEndpoint", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.EnableEndpoint(f.intruder.ctx, &webhooksv1.EnableEndpointRequest{Name: f.endpoint})))
	}, notFound},
	{"WebhookService/DisableEndpoint", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.DisableEndpoint(f.intruder.ctx, &webhooksv1.DisableEndpointRequest{Name: f.endpoint, Reason: "mine"})))
	}, notFound},
	{"WebhookService/GetEndpointSecret", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.GetEndpointSecret(f.intruder.ctx, &webhooksv1.GetEndpointSecretRequest{Name: f.endpoint + "/secret"})))
	}, notFound},
	{"WebhookService/RotateEndpointSecret", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.RotateEndpointSecret(f.intruder.ctx, &webhooksv1.RotateEndpointSecretRequest{Name: f.endpoint + "/secret"})))
	}, notFound},
	{"WebhookService/SendTestEvent", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.SendTestEvent(f.intruder.ctx, &webhooksv1.SendTestEventRequest{Endpoint: f.endpoint, EventType: propertyCreated})))
	}, notFound},
	{"WebhookService/RecoverEndpoint", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.RecoverEndpoint(f.intruder.ctx, &webhooksv1.RecoverEndpointRequest{Name: f.endpoint,
			Since: timestamppb.New(time.Now().Add(-time.Hour))})))
	}, notFound},
	// The deprecated ListenEndpoint answers UNIMPLEMENTED to everyone
	// (ListenEndpointDeliveries replaced it), so it reaches nothing;
	// listenOwner (below) fails this test should it ever work for the
	// owner, so that this row then demands NOT_FOUND.
	{"WebhookService/ListenEndpoint", func(t *testing.T, f *isolationFixture) []error {
		return one(f.listen(t, f.intruder))
	}, []codes.Code{codes.NotFound, codes.Unimplemented}},
	// The owner's endpoint is not the intruder's to listen to, whether or
	// not it is a development endpoint. There is no REST binding.
	{"WebhookService/ListenEndpointDeliveries", func(t *testing.T, f *isolationFixture) []error {
		if _, ok := f.c.ws.(*restClient); ok {
			return nil
		}
		return one(f.listenDeliveries(t, f.intruder))
	}, notFound},
	{"WebhookService/PublishEvent", func(t *testing.T, f *isolationFixture) []error {
		d, _ := structpb.NewStruct(map[string]any{"x": 1})
		return one(ignore(f.c.ws.PublishEvent(f.intruder.ctx, &webhooksv1.PublishEventRequest{Account: f.owner.account,
			Event: &webhooksv1.Event{Type: propertyCreated, Data: d}})))
	}, notFound},
	// The owner's account, named by the batch or by one of its requests.
	{"WebhookService/BatchPublishEvents", func(t *testing.T, f *isolationFixture) []error {
		d, _ := structpb.NewStruct(map[string]any{"x": 1})
		ev := &webhooksv1.Event{Type: propertyCreated, Data: d}
		_, whole := f.c.ws.BatchPublishEvents(f.intruder.ctx, &webhooksv1.BatchPublishEventsRequest{Account: f.owner.account,
			Requests: []*webhooksv1.PublishEventRequest{{Event: ev}}})
		resp, err := f.c.ws.BatchPublishEvents(f.intruder.ctx, &webhooksv1.BatchPublishEventsRequest{
			Requests: []*webhooksv1.PublishEventRequest{{Account: f.owner.account, Event: ev}}})
		if err == nil {
			failure := resp.GetResults()[0].GetError()
			err = status.Error(codes.Code(failure.GetCode()), failure.GetMessage()) // nil when it was published
		}
		return []error{whole, err}
	}, notFound},
	{"WebhookService/GetEvent", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.GetEvent(f.intruder.ctx, &webhooksv1.GetEventRequest{Name: f.event})))
	}, notFound},
	{"WebhookService/ListEvents", func(t *testing.T, f *isolationFixture) []error {
		own, err := f.c.ws.ListEvents(f.intruder.ctx, &webhooksv1.ListEventsRequest{})
		if err != nil || len(own.GetEvents()) != 0 {
			t.Errorf("the intruder's own listing: %v, %v; want none", own, err)
		}
		return one(ignore(f.c.ws.ListEvents(f.intruder.ctx, &webhooksv1.ListEventsRequest{Account: f.owner.account})))
	}, notFound},
	{"WebhookService/GetDelivery", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.GetDelivery(f.intruder.ctx, &webhooksv1.GetDeliveryRequest{Name: f.delivery})))
	}, notFound},
	{"WebhookService/ListDeliveries", func(t *testing.T, f *isolationFixture) []error {
		return []error{
			ignore(f.c.ws.ListDeliveries(f.intruder.ctx, &webhooksv1.ListDeliveriesRequest{Parent: f.endpoint})),
			ignore(f.c.ws.ListDeliveries(f.intruder.ctx, &webhooksv1.ListDeliveriesRequest{Parent: f.event})),
		}
	}, notFound},
	{"WebhookService/RetryDelivery", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.RetryDelivery(f.intruder.ctx, &webhooksv1.RetryDeliveryRequest{Name: f.delivery})))
	}, notFound},

	// The admin API is for internal keys only, whatever it names.
	{"AdminService/CreateAccount", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.admin.CreateAccount(f.intruder.ctx, &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: "mine"}})))
	}, adminRefused},
	{"AdminService/GetAccount", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.admin.GetAccount(f.intruder.ctx, &webhooksv1.GetAccountRequest{Name: f.owner.account})))
	}, adminRefused},
	{"AdminService/ListAccounts", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.admin.ListAccounts(f.intruder.ctx, &webhooksv1.ListAccountsRequest{})))
	}, adminRefused},
	{"AdminService/CreateApiKey", func(t *testing.T, f *isolationFixture) []error {
		return []error{
			ignore(f.c.admin.CreateApiKey(f.intruder.ctx, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{Account: f.owner.account}})),
			ignore(f.c.admin.CreateApiKey(f.intruder.ctx, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{Internal: true}})),
		}
	}, adminRefused},
	{"AdminService/GetApiKey", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.admin.GetApiKey(f.intruder.ctx, &webhooksv1.GetApiKeyRequest{Name: f.ownerKeyName})))
	}, adminRefused},
	{"AdminService/ListApiKeys", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.admin.ListApiKeys(f.intruder.ctx, &webhooksv1.ListApiKeysRequest{Account: f.owner.account})))
	}, adminRefused},
	{"AdminService/RevokeApiKey", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.admin.RevokeApiKey(f.intruder.ctx, &webhooksv1.RevokeApiKeyRequest{Name: f.ownerKeyName})))
	}, adminRefused},
	{"AdminService/CreatePortalSession", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.admin.CreatePortalSession(f.intruder.ctx, &webhooksv1.CreatePortalSessionRequest{
			PortalSession: &webhooksv1.PortalSession{Account: f.owner.account}})))
	}, adminRefused},
	{"AdminService/RevokePortalSession", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.admin.RevokePortalSession(f.intruder.ctx, &webhooksv1.RevokePortalSessionRequest{Name: f.ownerSession})))
	}, adminRefused},
	// It names nothing: it ends the caller's own session, and a key is
	// not one.
	{"WebhookService/RevokeCurrentSession", func(t *testing.T, f *isolationFixture) []error {
		return one(ignore(f.c.ws.RevokeCurrentSession(f.intruder.ctx, &webhooksv1.RevokeCurrentSessionRequest{})))
	}, []codes.Code{codes.FailedPrecondition}},
}

// TestIsolationTableCoversEveryRPC fails when an RPC is added to either
// service without a row above.
func TestIsolationTableCoversEveryRPC(t *testing.T) {
	t.Parallel()
	var methods []string
	for _, sd := range []grpc.ServiceDesc{webhooksv1.WebhookService_ServiceDesc, webhooksv1.AdminService_ServiceDesc} {
		service := sd.ServiceName[len("webhooks.v1."):]
		for _, m := range sd.Methods {
			methods = append(methods, service+"/"+m.MethodName)
		}
		for _, s := range sd.Streams {
			methods = append(methods, service+"/"+s.StreamName)
		}
	}
	var rows []string
	for _, r := range isolationRows {
		if slices.Contains(rows, r.method) {
			t.Errorf("two rows for %s", r.method)
		}
		rows = append(rows, r.method)
	}
	for _, m := range methods {
		if !slices.Contains(rows, m) {
			t.Errorf("no isolation row for %s: add one to isolationRows", m)
		}
	}
	for _, r := range rows {
		if !slices.Contains(methods, r) {
			t.Errorf("isolation row for %s, which the services do not have", r)
		}
	}
}

// TestTenantIsolation aims every RPC, with a customer key of another
// account, at one account's endpoint, event, delivery and key, over gRPC and
// REST on both databases: each call is refused as NOT_FOUND (the resource
// does not exist for the caller) or PERMISSION_DENIED (the admin API), and
// afterwards the owner's resources are exactly as they were.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			a := startApp(t, b.databaseURL(t))
			for name, c := range transports(t, a) {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					testTenantIsolation(t, c)
				})
			}
		})
	}
}

func testTenantIsolation(t *testing.T, c *client) {
	owner, intruder := c.newTenant(t), c.newTenant(t)
	f := &isolationFixture{c: c, owner: owner, intruder: intruder, ownerKeyName: owner.key}
	f.ownerEndpoint = c.createEndpoint(t, owner, propertyCreated)
	f.endpoint = f.ownerEndpoint.GetName()
	f.event = publish(t, c, owner, propertyCreated, "", map[string]any{"x": 1}).GetName()
	dlv := deliveriesOf(t, c, owner, f.endpoint)
	if len(dlv) != 1 {
		t.Fatalf("owner has %d deliveries, want 1", len(dlv))
	}
	f.delivery = dlv[0].GetName()
	secret, err := c.ws.GetEndpointSecret(owner.ctx, &webhooksv1.GetEndpointSecretRequest{Name: f.endpoint + "/secret"})
	if err != nil {
		t.Fatal(err)
	}
	f.secret = secret.GetSecret()
	ps, err := c.admin.CreatePortalSession(adminCtx(t), &webhooksv1.CreatePortalSessionRequest{
		PortalSession: &webhooksv1.PortalSession{Account: owner.account}})
	if err != nil {
		t.Fatal(err)
	}
	f.ownerSession = ps.GetName()
	ownerSession := withToken(t.Context(), ps.GetToken())
	before := f.snapshot(t)
	if err := f.listen(t, owner); status.Code(err) != codes.Unimplemented {
		t.Fatalf("ListenEndpoint for the owner: %v; it works now, so its isolation row must demand NOT_FOUND", err)
	}

	for _, row := range isolationRows {
		if row.call == nil {
			continue
		}
		t.Run(row.method, func(t *testing.T) {
			for i, err := range row.call(t, f) {
				if !slices.Contains(row.want, status.Code(err)) {
					t.Errorf("call %d: %v; want one of %v", i+1, err, row.want)
				}
			}
		})
	}

	if after := f.snapshot(t); !proto.Equal(before, after) {
		t.Fatalf("the owner's resources changed:\nbefore %v\nafter  %v", before, after)
	}
	if _, err := c.ws.ListEndpoints(ownerSession, &webhooksv1.ListEndpointsRequest{}); err != nil {
		t.Fatalf("the owner's portal session stopped working: %v", err)
	}
}

// snapshot is everything of the owner's the intruder might have touched,
// read with the owner's key (which must still work: not revoked).
func (f *isolationFixture) snapshot(t *testing.T) *structpb.ListValue {
	t.Helper()
	ctx := f.owner.ctx
	must := func(m proto.Message, err error) *structpb.Value {
		t.Helper()
		if err != nil {
			t.Fatalf("owner's read: %v", err)
		}
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		return structpb.NewStringValue(string(b))
	}
	eps, err := f.c.ws.ListEndpoints(ctx, &webhooksv1.ListEndpointsRequest{})
	evs, err2 := f.c.ws.ListEvents(ctx, &webhooksv1.ListEventsRequest{})
	return &structpb.ListValue{Values: []*structpb.Value{
		must(eps, err),
		must(evs, err2),
		must(f.c.ws.GetEndpointSecret(ctx, &webhooksv1.GetEndpointSecretRequest{Name: f.endpoint + "/secret"})),
		must(f.c.ws.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{Parent: f.endpoint})),
		must(f.c.ws.GetDelivery(ctx, &webhooksv1.GetDeliveryRequest{Name: f.delivery})),
		must(f.c.admin.GetAccount(adminCtx(t), &webhooksv1.GetAccountRequest{Name: f.owner.account})),
		must(f.c.admin.ListApiKeys(adminCtx(t), &webhooksv1.ListApiKeysRequest{Account: f.owner.account})),
	}}
}

// listen opens the ListenEndpoint stream as tn and returns its first error.
// The REST test client does not stream, so over REST it is a plain GET.
func (f *isolationFixture) listen(t *testing.T, tn tenant) error {
	t.Helper()
	if rc, ok := f.c.ws.(*restClient); ok {
		ctx, cancel := context.WithTimeout(tn.ctx, 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rc.base+"/v1/"+f.endpoint+":listen", nil)
		req.Header.Set("Authorization", bearerFrom(tn.ctx))
		resp, err := rc.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		for code, httpStatus := range httpStatusOf {
			if resp.StatusCode == httpStatus && (code == codes.NotFound || code == codes.Unimplemented || code == codes.PermissionDenied) {
				return status.Error(code, resp.Status)
			}
		}
		return status.Errorf(codes.Unknown, "HTTP %s", resp.Status)
	}
	ctx, cancel := context.WithTimeout(tn.ctx, 10*time.Second)
	defer cancel()
	stream, err := f.c.ws.ListenEndpoint(ctx, &webhooksv1.ListenEndpointRequest{Name: f.endpoint})
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

// listenDeliveries opens the ListenEndpointDeliveries stream as tn for the
// fixture's endpoint and returns its first error.
func (f *isolationFixture) listenDeliveries(t *testing.T, tn tenant) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(tn.ctx, 10*time.Second)
	defer cancel()
	stream, err := f.c.ws.ListenEndpointDeliveries(ctx)
	if err != nil {
		return err
	}
	if err := stream.Send(&webhooksv1.ListenEndpointDeliveriesRequest{Message: &webhooksv1.ListenEndpointDeliveriesRequest_Start_{
		Start: &webhooksv1.ListenEndpointDeliveriesRequest_Start{Endpoint: f.endpoint},
	}}); err != nil {
		_, err = stream.Recv()
		return err
	}
	_, err = stream.Recv()
	return err
}
