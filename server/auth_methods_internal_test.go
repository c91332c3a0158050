package server

import (
	"testing"

	"google.golang.org/grpc"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// TestPermittedByMethod decides, for every RPC of webhookd's services, who
// may call it. A new RPC fails the test until it is given a row, so what a
// portal session may do is always a decision, never an accident.
func TestPermittedByMethod(t *testing.T) {
	t.Parallel()
	const (
		all      = "all"      // customer keys, portal sessions, internal keys
		keys     = "keys"     // customer and internal keys, not portal sessions
		internal = "internal" // internal keys only
	)
	ws, admin := "/webhooks.v1.WebhookService/", "/webhooks.v1.AdminService/"
	want := map[string]string{
		ws + "ListEventTypes":           all,
		ws + "GetEventType":             all,
		ws + "CreateEndpoint":           all,
		ws + "GetEndpoint":              all,
		ws + "ListEndpoints":            all,
		ws + "UpdateEndpoint":           all,
		ws + "DeleteEndpoint":           all,
		ws + "EnableEndpoint":           all,
		ws + "DisableEndpoint":          all,
		ws + "GetEndpointSecret":        all,
		ws + "RotateEndpointSecret":     all,
		ws + "SendTestEvent":            all,
		ws + "RecoverEndpoint":          all,
		ws + "GetEvent":                 all,
		ws + "ListEvents":               all,
		ws + "GetDelivery":              all,
		ws + "ListDeliveries":           all,
		ws + "RetryDelivery":            all,
		ws + "RevokeCurrentSession":     all,
		ws + "PublishEvent":             keys,
		ws + "BatchPublishEvents":       keys,
		ws + "ListenEndpoint":           keys,
		ws + "ListenEndpointDeliveries": keys,
		admin + "CreateAccount":         internal,
		admin + "GetAccount":            internal,
		admin + "ListAccounts":          internal,
		admin + "CreateApiKey":          internal,
		admin + "GetApiKey":             internal,
		admin + "ListApiKeys":           internal,
		admin + "RevokeApiKey":          internal,
		admin + "CreatePortalSession":   internal,
		admin + "RevokePortalSession":   internal,
	}
	var methods []string
	for _, sd := range []grpc.ServiceDesc{webhooksv1.WebhookService_ServiceDesc, webhooksv1.AdminService_ServiceDesc} {
		for _, m := range sd.Methods {
			methods = append(methods, "/"+sd.ServiceName+"/"+m.MethodName)
		}
		for _, s := range sd.Streams {
			methods = append(methods, "/"+sd.ServiceName+"/"+s.StreamName)
		}
	}
	if len(methods) != len(want) {
		t.Errorf("the services have %d methods, the table %d: add a row for each new method", len(methods), len(want))
	}
	principals := []struct {
		name    string
		p       *Principal
		mayCall map[string]bool
	}{
		{"portal session", &Principal{AccountID: "acct_a", SessionID: "ps_a"}, map[string]bool{all: true}},
		{"customer key", &Principal{AccountID: "acct_a", KeyID: "key_a"}, map[string]bool{all: true, keys: true}},
		{"internal key", &Principal{Internal: true, KeyID: "key_i"}, map[string]bool{all: true, keys: true, internal: true}},
	}
	for _, m := range methods {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			who, ok := want[m]
			if !ok {
				t.Fatalf("%s has no row: decide who may call it", m)
			}
			for _, pr := range principals {
				err := permitted(pr.p, m)
				if pr.mayCall[who] && err != nil {
					t.Errorf("%s: refused (%v), want permitted", pr.name, err)
				}
				if !pr.mayCall[who] && webhookd.KindOf(err) != webhookd.KindPermissionDenied {
					t.Errorf("%s: got %v, want permission denied", pr.name, err)
				}
			}
		})
	}
}
