package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/store"
)

// AdminStore is what the admin service reads and writes: accounts, their API
// keys and internal ones, and portal sessions, which it creates and revokes
// but never looks up by token (the Authenticator does).
type AdminStore interface {
	store.Accounts
	CreateAPIKey(ctx context.Context, k *webhookd.APIKey) error
	GetAPIKey(ctx context.Context, id string) (*webhookd.APIKey, error)
	ListAPIKeys(ctx context.Context, accountID string, p store.Page) ([]*webhookd.APIKey, error)
	RevokeAPIKey(ctx context.Context, id string, at time.Time) (*webhookd.APIKey, error)
	CreatePortalSession(ctx context.Context, ps *webhookd.PortalSession) error
	RevokePortalSession(ctx context.Context, accountID, id string, at time.Time) (*webhookd.PortalSession, error)
}

// AdminServiceConfig configures NewAdminService.
type AdminServiceConfig struct {
	Store AdminStore
	IDs   *webhookd.IDGenerator
	Now   func() time.Time // time.Now when nil
	// DashboardURL is the dashboard's public address, to which portal
	// session URLs add their token (#portal=…); http://127.0.0.1:8080/
	// when empty.
	DashboardURL string
	// PortalSessionMaxTTL bounds the ttl a portal session may ask for;
	// DefaultPortalSessionMaxTTL when zero.
	PortalSessionMaxTTL time.Duration
}

// Portal session lifetimes.
const (
	DefaultPortalSessionTTL    = time.Hour
	DefaultPortalSessionMaxTTL = 24 * time.Hour
	// minPortalSessionTTL keeps a session long enough to load the page.
	minPortalSessionTTL = time.Second
)

// Validate reports the first missing or invalid setting.
func (c *AdminServiceConfig) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("admin service: Store is required")
	case c.IDs == nil:
		return errors.New("admin service: IDs is required")
	case c.PortalSessionMaxTTL != 0 && c.PortalSessionMaxTTL < minPortalSessionTTL:
		return fmt.Errorf("admin service: PortalSessionMaxTTL %s is below the minimum of %s", c.PortalSessionMaxTTL, minPortalSessionTTL)
	}
	if c.DashboardURL != "" {
		if _, err := ParseDashboardURL(c.DashboardURL); err != nil {
			return fmt.Errorf("admin service: DashboardURL: %w", err)
		}
	}
	return nil
}

// ParseDashboardURL checks a dashboard address: absolute http(s), without
// a fragment (the token goes there).
func ParseDashboardURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, err
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("%q: want an absolute http:// or https:// URL", raw)
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return nil, fmt.Errorf("%q: must not have a fragment, the sign-in token goes there", raw)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// AdminService implements webhooks.v1.AdminService: accounts and API keys.
// The authentication interceptor admits internal principals only.
type AdminService struct {
	webhooksv1.UnimplementedAdminServiceServer
	cfg       AdminServiceConfig
	dashboard string // cfg.DashboardURL, normalised
	now       func() time.Time
}

var _ webhooksv1.AdminServiceServer = (*AdminService)(nil)

// NewAdminService returns the service for a validated cfg.
func NewAdminService(cfg AdminServiceConfig) (*AdminService, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if cfg.PortalSessionMaxTTL == 0 {
		cfg.PortalSessionMaxTTL = DefaultPortalSessionMaxTTL
	}
	if cfg.DashboardURL == "" {
		cfg.DashboardURL = "http://127.0.0.1:8080/"
	}
	u, _ := ParseDashboardURL(cfg.DashboardURL) // checked by Validate
	return &AdminService{cfg: cfg, dashboard: u.String(), now: func() time.Time { return now().UTC() }}, nil
}

// CreateAccount creates an account.
func (s *AdminService) CreateAccount(ctx context.Context, req *webhooksv1.CreateAccountRequest) (*webhooksv1.Account, error) {
	in := req.GetAccount()
	if in == nil {
		return nil, webhookd.Invalid("account", "required")
	}
	name := strings.TrimSpace(in.GetDisplayName())
	if name == "" {
		return nil, webhookd.Invalid("account.display_name", "required")
	}
	if err := validateLength("account.display_name", name, maxDisplayNameBytes); err != nil {
		return nil, err
	}
	now := s.now()
	a := &webhookd.Account{ID: s.cfg.IDs.New(webhookd.PrefixAccount), DisplayName: name, CreateTime: now, UpdateTime: now}
	if err := s.cfg.Store.CreateAccount(ctx, a); err != nil {
		return nil, err
	}
	return accountToProto(a), nil
}

// GetAccount gets an account.
func (s *AdminService) GetAccount(ctx context.Context, req *webhooksv1.GetAccountRequest) (*webhooksv1.Account, error) {
	id, err := parseName("name", req.GetName(), collAccounts, webhookd.PrefixAccount)
	if err != nil {
		return nil, err
	}
	a, err := s.cfg.Store.GetAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	return accountToProto(a), nil
}

// ListAccounts lists accounts newest first.
func (s *AdminService) ListAccounts(ctx context.Context, req *webhooksv1.ListAccountsRequest) (*webhooksv1.ListAccountsResponse, error) {
	items, next, err := listPage(req.GetPageSize(), req.GetPageToken(), []string{"accounts"},
		func(a *webhookd.Account) string { return a.ID },
		func(p store.Page) ([]*webhookd.Account, error) { return s.cfg.Store.ListAccounts(ctx, p) })
	if err != nil {
		return nil, err
	}
	resp := &webhooksv1.ListAccountsResponse{NextPageToken: next}
	for _, a := range items {
		resp.Accounts = append(resp.Accounts, accountToProto(a))
	}
	return resp, nil
}

// CreateApiKey creates a key and returns its token, once.
func (s *AdminService) CreateApiKey(ctx context.Context, req *webhooksv1.CreateApiKeyRequest) (*webhooksv1.ApiKey, error) {
	in := req.GetApiKey()
	if in == nil {
		return nil, webhookd.Invalid("api_key", "required")
	}
	if err := validateLength("api_key.display_name", in.GetDisplayName(), maxDisplayNameBytes); err != nil {
		return nil, err
	}
	k := &webhookd.APIKey{
		ID:          s.cfg.IDs.New(webhookd.PrefixAPIKey),
		Internal:    in.GetInternal(),
		DisplayName: in.GetDisplayName(),
		CreateTime:  s.now(),
	}
	switch {
	case in.GetInternal() && in.GetAccount() != "":
		return nil, webhookd.Invalid("api_key.account", "must be empty for an internal key")
	case !in.GetInternal() && in.GetAccount() == "":
		return nil, webhookd.Invalid("api_key.account", "required: the account the key acts for (or set internal)")
	case !in.GetInternal():
		id, err := parseName("api_key.account", in.GetAccount(), collAccounts, webhookd.PrefixAccount)
		if err != nil {
			return nil, err
		}
		if _, err := s.cfg.Store.GetAccount(ctx, id); err != nil {
			return nil, err
		}
		k.AccountID = id
	}
	token := webhookd.NewAPIToken()
	k.TokenHash = webhookd.HashAPIToken(token)
	if err := s.cfg.Store.CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	pb := apiKeyToProto(k)
	pb.Token = &token
	return pb, nil
}

// GetApiKey gets a key without its token.
func (s *AdminService) GetApiKey(ctx context.Context, req *webhooksv1.GetApiKeyRequest) (*webhooksv1.ApiKey, error) {
	id, err := parseName("name", req.GetName(), collAPIKeys, webhookd.PrefixAPIKey)
	if err != nil {
		return nil, err
	}
	k, err := s.cfg.Store.GetAPIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	return apiKeyToProto(k), nil
}

// ListApiKeys lists an account's keys or the internal keys.
func (s *AdminService) ListApiKeys(ctx context.Context, req *webhooksv1.ListApiKeysRequest) (*webhooksv1.ListApiKeysResponse, error) {
	var accountID string
	if req.GetAccount() != "" {
		id, err := parseName("account", req.GetAccount(), collAccounts, webhookd.PrefixAccount)
		if err != nil {
			return nil, err
		}
		accountID = id
	}
	items, next, err := listPage(req.GetPageSize(), req.GetPageToken(), []string{"apiKeys", accountID},
		func(k *webhookd.APIKey) string { return k.ID },
		func(p store.Page) ([]*webhookd.APIKey, error) { return s.cfg.Store.ListAPIKeys(ctx, accountID, p) })
	if err != nil {
		return nil, err
	}
	resp := &webhooksv1.ListApiKeysResponse{NextPageToken: next}
	for _, k := range items {
		resp.ApiKeys = append(resp.ApiKeys, apiKeyToProto(k))
	}
	return resp, nil
}

// RevokeApiKey revokes a key.
func (s *AdminService) RevokeApiKey(ctx context.Context, req *webhooksv1.RevokeApiKeyRequest) (*webhooksv1.ApiKey, error) {
	id, err := parseName("name", req.GetName(), collAPIKeys, webhookd.PrefixAPIKey)
	if err != nil {
		return nil, err
	}
	k, err := s.cfg.Store.RevokeAPIKey(ctx, id, s.now())
	if err != nil {
		return nil, err
	}
	return apiKeyToProto(k), nil
}

// CreatePortalSession creates a session for an account and returns its
// token, once, and the dashboard URL that signs in with it.
func (s *AdminService) CreatePortalSession(ctx context.Context, req *webhooksv1.CreatePortalSessionRequest) (*webhooksv1.PortalSession, error) {
	in := req.GetPortalSession()
	if in == nil {
		return nil, webhookd.Invalid("portal_session", "required")
	}
	if in.GetAccount() == "" {
		return nil, webhookd.Invalid("portal_session.account", "required: the account the session acts for")
	}
	accountID, err := parseName("portal_session.account", in.GetAccount(), collAccounts, webhookd.PrefixAccount)
	if err != nil {
		return nil, err
	}
	ttl := min(DefaultPortalSessionTTL, s.cfg.PortalSessionMaxTTL)
	if in.Ttl != nil {
		if err := in.GetTtl().CheckValid(); err != nil {
			return nil, webhookd.Invalid("portal_session.ttl", "%v", err)
		}
		ttl = in.GetTtl().AsDuration()
		if ttl < minPortalSessionTTL || ttl > s.cfg.PortalSessionMaxTTL {
			return nil, webhookd.Invalid("portal_session.ttl", "must be between %s and %s (the operator's --portal-session-max-ttl)",
				minPortalSessionTTL, s.cfg.PortalSessionMaxTTL)
		}
	}
	if _, err := s.cfg.Store.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	now := s.now()
	token := webhookd.NewPortalToken()
	ps := &webhookd.PortalSession{
		ID:         s.cfg.IDs.New(webhookd.PrefixPortalSession),
		AccountID:  accountID,
		TokenHash:  webhookd.HashAPIToken(token),
		CreateTime: now,
		ExpireTime: now.Add(ttl),
	}
	if err := s.cfg.Store.CreatePortalSession(ctx, ps); err != nil {
		return nil, err
	}
	pb := portalSessionToProto(ps)
	pb.Token = &token
	// The fragment never leaves the browser: no server or proxy logs it.
	pb.Url = s.dashboard + "#portal=" + token
	return pb, nil
}

// RevokePortalSession revokes a session.
func (s *AdminService) RevokePortalSession(ctx context.Context, req *webhooksv1.RevokePortalSessionRequest) (*webhooksv1.PortalSession, error) {
	id, err := parseName("name", req.GetName(), collSessions, webhookd.PrefixPortalSession)
	if err != nil {
		return nil, err
	}
	ps, err := s.cfg.Store.RevokePortalSession(ctx, "", id, s.now())
	if err != nil {
		return nil, err
	}
	return portalSessionToProto(ps), nil
}
