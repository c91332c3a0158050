package server

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// Principal is who a call acts as: a customer key bound to one account, a
// portal session bound to one account, or an internal credential that may
// act for any account.
type Principal struct {
	KeyID     string // "" for the operator's configured admin token and for portal sessions
	AccountID string // "" for internal principals
	Internal  bool
	// SessionID is set for a portal session, which may call only the
	// methods of portalMethods.
	SessionID string
}

type principalKey struct{}

// principalFrom returns the caller authenticated by the interceptor. Handlers
// only run after authentication, so a missing principal is a wiring bug.
func principalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	if p == nil {
		panic("server: handler reached without an authenticated principal")
	}
	return p
}

// Authenticator resolves bearer tokens to principals. It accepts the tokens
// of active API keys stored in the database and, when the operator configured
// one, the admin token (WEBHOOKD_ADMIN_TOKEN), which is never stored.
type Authenticator struct {
	store          CredentialStore
	adminTokenHash []byte
	// now decides whether a portal session has expired.
	now func() time.Time
}

// CredentialStore is what an Authenticator reads: the stored keys and
// portal sessions, found by the hash of their token. Either lookup answers
// webhookd.KindNotFound for a token it does not know.
type CredentialStore interface {
	APIKeyByTokenHash(ctx context.Context, hash []byte) (*webhookd.APIKey, error)
	PortalSessionByTokenHash(ctx context.Context, hash []byte) (*webhookd.PortalSession, error)
}

// NewAuthenticator returns an Authenticator; adminToken may be empty.
func NewAuthenticator(st CredentialStore, adminToken string) *Authenticator {
	a := &Authenticator{store: st, now: time.Now}
	if adminToken != "" {
		a.adminTokenHash = webhookd.HashAPIToken(adminToken)
	}
	return a
}

var errUnauthenticated = &webhookd.Error{
	Kind:    webhookd.KindUnauthenticated,
	Message: "missing, unknown or revoked API key: send Authorization: Bearer <token>",
}

// errSessionEnded tells the dashboard why a portal link stopped working.
var errSessionEnded = &webhookd.Error{
	Kind:    webhookd.KindUnauthenticated,
	Message: "unknown, expired or revoked portal session: ask for a new sign-in link",
}

// Authenticate returns the principal for token.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, errUnauthenticated
	}
	hash := webhookd.HashAPIToken(token)
	// The prefix says where the token lives, so each request costs one
	// lookup whichever kind it carries.
	if strings.HasPrefix(token, webhookd.PortalTokenPrefix) {
		return a.authenticateSession(ctx, hash)
	}
	// Compare hashes rather than tokens: equal length, and the comparison
	// takes the same time wherever the first differing byte is.
	if a.adminTokenHash != nil && subtle.ConstantTimeCompare(hash, a.adminTokenHash) == 1 {
		return &Principal{Internal: true}, nil
	}
	key, err := a.store.APIKeyByTokenHash(ctx, hash)
	if err != nil {
		if webhookd.KindOf(err) == webhookd.KindNotFound {
			return nil, errUnauthenticated
		}
		return nil, err
	}
	// The database found the key by its hash; comparing again here, in
	// constant time, keeps the decision in webhookd's hands whatever the
	// database's comparison (collation, index) does with bytes.
	if subtle.ConstantTimeCompare(key.TokenHash, hash) != 1 || key.Revoked() {
		return nil, errUnauthenticated
	}
	return &Principal{KeyID: key.ID, AccountID: key.AccountID, Internal: key.Internal}, nil
}

func (a *Authenticator) authenticateSession(ctx context.Context, hash []byte) (*Principal, error) {
	ps, err := a.store.PortalSessionByTokenHash(ctx, hash)
	if err != nil {
		if webhookd.KindOf(err) == webhookd.KindNotFound {
			return nil, errSessionEnded
		}
		return nil, err
	}
	if subtle.ConstantTimeCompare(ps.TokenHash, hash) != 1 || !ps.Active(a.now()) {
		return nil, errSessionEnded
	}
	return &Principal{AccountID: ps.AccountID, SessionID: ps.ID}, nil
}

// portalMethods are what a portal session may call: what the dashboard
// does, and no more. Everything else — API keys and the rest of the admin
// API, publishing, webhookctl's listening streams — needs an API key, so a
// leaked link can neither mint lasting credentials nor forge events.
var portalMethods = map[string]bool{
	webhooksv1.WebhookService_ListEventTypes_FullMethodName:       true,
	webhooksv1.WebhookService_GetEventType_FullMethodName:         true,
	webhooksv1.WebhookService_CreateEndpoint_FullMethodName:       true,
	webhooksv1.WebhookService_GetEndpoint_FullMethodName:          true,
	webhooksv1.WebhookService_ListEndpoints_FullMethodName:        true,
	webhooksv1.WebhookService_UpdateEndpoint_FullMethodName:       true,
	webhooksv1.WebhookService_DeleteEndpoint_FullMethodName:       true,
	webhooksv1.WebhookService_EnableEndpoint_FullMethodName:       true,
	webhooksv1.WebhookService_DisableEndpoint_FullMethodName:      true,
	webhooksv1.WebhookService_GetEndpointSecret_FullMethodName:    true,
	webhooksv1.WebhookService_RotateEndpointSecret_FullMethodName: true,
	webhooksv1.WebhookService_SendTestEvent_FullMethodName:        true,
	webhooksv1.WebhookService_RecoverEndpoint_FullMethodName:      true,
	webhooksv1.WebhookService_GetEvent_FullMethodName:             true,
	webhooksv1.WebhookService_ListEvents_FullMethodName:           true,
	webhooksv1.WebhookService_GetDelivery_FullMethodName:          true,
	webhooksv1.WebhookService_ListDeliveries_FullMethodName:       true,
	webhooksv1.WebhookService_RetryDelivery_FullMethodName:        true,
	webhooksv1.WebhookService_RevokeCurrentSession_FullMethodName: true,
}

// permitted reports whether p may call method (a full gRPC method name of
// webhookd's own services).
func permitted(p *Principal, method string) error {
	switch {
	case p.SessionID != "" && !portalMethods[method]:
		return &webhookd.Error{Kind: webhookd.KindPermissionDenied, Message: "a portal session may not call " + method + ": it needs an API key"}
	case strings.HasPrefix(method, adminPrefix) && !p.Internal:
		return &webhookd.Error{Kind: webhookd.KindPermissionDenied, Message: "the admin API needs an internal key"}
	}
	return nil
}

// bearerToken extracts the token of an "Authorization: Bearer …" header,
// which the gateway forwards as "authorization" metadata.
func bearerToken(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	return bearerFrom(md.Get("authorization"))
}

// bearerFrom extracts the token of the first "Bearer …" among the values
// of an Authorization header.
func bearerFrom(values []string) string {
	for _, v := range values {
		scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			return strings.TrimSpace(token)
		}
	}
	return ""
}

const (
	apiPrefix   = "/webhooks.v1."
	adminPrefix = "/webhooks.v1.AdminService/"
)

// authorize authenticates calls to webhookd's own services (health checks and
// reflection stay open) and keeps AdminService to internal principals.
func (a *Authenticator) authorize(ctx context.Context, method string) (context.Context, error) {
	if !strings.HasPrefix(method, apiPrefix) {
		return ctx, nil
	}
	token := bearerToken(ctx)
	p, ok := authenticatedBefore(ctx, token)
	if !ok {
		var err error
		if p, err = a.Authenticate(ctx, token); err != nil {
			return nil, err
		}
	}
	if err := permitted(p, method); err != nil {
		return nil, err
	}
	return context.WithValue(ctx, principalKey{}, p), nil
}

// interceptors return the unary and stream interceptors that authenticate.
func (a *Authenticator) interceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
	return unary, stream
}

// contextStream carries the authenticated context into stream handlers.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }
