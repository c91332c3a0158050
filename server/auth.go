package server

import (
	"context"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// Principal is who a call acts as: a customer key bound to one account, or an
// internal credential that may act for any account.
type Principal struct {
	KeyID     string // "" for the operator's configured admin token
	AccountID string // "" for internal principals
	Internal  bool
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
	store          store.Store
	adminTokenHash []byte
}

// NewAuthenticator returns an Authenticator; adminToken may be empty.
func NewAuthenticator(st store.Store, adminToken string) *Authenticator {
	a := &Authenticator{store: st}
	if adminToken != "" {
		a.adminTokenHash = webhookd.HashAPIToken(adminToken)
	}
	return a
}

var errUnauthenticated = &webhookd.Error{
	Kind:    webhookd.KindUnauthenticated,
	Message: "missing, unknown or revoked API key: send Authorization: Bearer <token>",
}

// Authenticate returns the principal for token.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, errUnauthenticated
	}
	hash := webhookd.HashAPIToken(token)
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
	p, err := a.Authenticate(ctx, bearerToken(ctx))
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(method, adminPrefix) && !p.Internal {
		return nil, &webhookd.Error{Kind: webhookd.KindPermissionDenied, Message: "the admin API needs an internal key"}
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
