package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/store"
)

const (
	testAdminToken  = "test-admin-token-0123456789"
	testMaxPayload  = 4096
	guideURL        = "https://your-app.com/webhooks/real-estate"
	propertyCreated = "property.created"
)

// testEncryptionKeys encrypt endpoint secrets (PostgreSQL requires keys).
var testEncryptionKeys, _ = store.GenerateKeyEntry("test")

// backend names a database webhookd can run on.
type backend struct {
	name        string
	databaseURL func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "webhookd.db") }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }},
}

// startApp runs a whole webhookd (the same assembly as the binary) on free
// loopback ports and stops it when t ends.
func startApp(t *testing.T, databaseURL string, extraArgs ...string) *app.App {
	t.Helper()
	// The API cases look at deliveries as publishing leaves them, so this
	// webhookd runs the api role only: nothing attempts them.
	cfg, err := app.ParseConfig(append([]string{
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--roles=api",
		"--database-url=" + databaseURL, "--max-payload-bytes=" + strconv.Itoa(testMaxPayload),
		"--shutdown-timeout=5s", "--log-level=error",
	}, extraArgs...), func(name string) string {
		switch name {
		case "WEBHOOKD_ADMIN_TOKEN":
			return testAdminToken
		case "WEBHOOKD_ENCRYPTION_KEYS":
			return testEncryptionKeys
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(ctx, cfg, logger, io.Discard)
	if err != nil {
		cancel()
		t.Fatalf("starting webhookd: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("webhookd stopped with: %v", err)
		}
	})
	return a
}

// client is one transport's view of the API, plus helpers that set up
// accounts and keys through the admin API.
type client struct {
	ws    webhooksv1.WebhookServiceClient
	admin webhooksv1.AdminServiceClient
	// routesByName is true where a request reaches the method it calls
	// whatever resource name it carries (gRPC). Over REST the name is the
	// URL path, so a name of the wrong kind reaches another method.
	routesByName bool
	// transport is "grpc" or "rest"; raw sends a request in that
	// transport's form of a rawRequest.
	transport string
	raw       func(ctx context.Context, r rawRequest) error
	// store is the app's database, opened again, for what the api role
	// does not do by itself (attempting deliveries); nil outside TestAPI.
	store store.Store
}

// openStore opens the database of an app started with databaseURL.
func openStore(t *testing.T, databaseURL string) store.Store {
	t.Helper()
	keys, err := store.ParseKeyring(testEncryptionKeys)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), store.Config{DatabaseURL: databaseURL, Secrets: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// rawRequest is a request the generated clients refuse to encode (a string
// that is not UTF-8, JSON that no encoder writes), in the form each
// transport carries it. A transport whose form is empty has no such
// request (gRPC has no duplicate JSON keys).
type rawRequest struct {
	grpcMethod string // "/webhooks.v1.WebhookService/GetEndpoint"
	grpcBody   []byte // the request's protobuf encoding
	httpMethod string
	httpPath   string // path and query as sent, %-escapes included
	httpBody   string
}

// rawCodec sends and receives gRPC messages as the bytes they are.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// transports returns the gRPC and REST clients of a running webhookd.
func transports(t *testing.T, a *app.App) map[string]*client {
	t.Helper()
	cc, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	rest := &restClient{base: "http://" + a.HTTPAddr(), http: &http.Client{Timeout: 30 * time.Second}}
	rawGRPC := func(ctx context.Context, r rawRequest) error {
		var reply []byte
		return cc.Invoke(ctx, r.grpcMethod, &r.grpcBody, &reply, grpc.ForceCodec(rawCodec{}))
	}
	rawREST := func(ctx context.Context, r rawRequest) error {
		return rest.send(ctx, r.httpMethod, r.httpPath, []byte(r.httpBody), &emptypb.Empty{})
	}
	return map[string]*client{
		"grpc": {ws: webhooksv1.NewWebhookServiceClient(cc), admin: webhooksv1.NewAdminServiceClient(cc), routesByName: true, transport: "grpc", raw: rawGRPC},
		"rest": {ws: rest, admin: rest, transport: "rest", raw: rawREST},
	}
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func adminCtx(t *testing.T) context.Context {
	return withToken(t.Context(), testAdminToken)
}

// tenant is a fresh account with a customer key.
type tenant struct {
	account string // accounts/acct_…
	key     string // apiKeys/key_…
	ctx     context.Context
}

func (c *client) newTenant(t *testing.T) tenant {
	t.Helper()
	acct, err := c.admin.CreateAccount(adminCtx(t), &webhooksv1.CreateAccountRequest{
		Account: &webhooksv1.Account{DisplayName: "Tenant of " + t.Name()},
	})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	key, err := c.admin.CreateApiKey(adminCtx(t), &webhooksv1.CreateApiKeyRequest{
		ApiKey: &webhooksv1.ApiKey{Account: acct.GetName(), DisplayName: "test key"},
	})
	if err != nil {
		t.Fatalf("CreateApiKey: %v", err)
	}
	if key.GetToken() == "" {
		t.Fatal("CreateApiKey returned no token")
	}
	return tenant{account: acct.GetName(), key: key.GetName(), ctx: withToken(t.Context(), key.GetToken())}
}

func (c *client) createEndpoint(t *testing.T, tn tenant, types ...string) *webhooksv1.Endpoint {
	t.Helper()
	ep, err := c.ws.CreateEndpoint(tn.ctx, &webhooksv1.CreateEndpointRequest{
		Endpoint: &webhooksv1.Endpoint{Url: guideURL, EventTypes: types},
	})
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	return ep
}

// wantCode fails t unless err is a status with code.
func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %v", code)
	}
	if got := status.Code(err); got != code {
		t.Fatalf("got %v (%v), want %v", got, err, code)
	}
}

// wantInvalid fails t unless err is INVALID_ARGUMENT naming field in a
// BadRequest field violation.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	wantCode(t, err, codes.InvalidArgument)
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return
				}
			}
			t.Fatalf("field violations %v do not name %q", br.GetFieldViolations(), field)
		}
	}
	t.Fatalf("error %v carries no BadRequest detail (want field %q)", err, field)
}
