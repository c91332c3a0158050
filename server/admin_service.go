package server

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/store"
)

// AdminServiceConfig configures NewAdminService.
type AdminServiceConfig struct {
	Store store.Store
	IDs   *webhookd.IDGenerator
	Now   func() time.Time // time.Now when nil
}

// Validate reports the first missing setting.
func (c *AdminServiceConfig) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("admin service: Store is required")
	case c.IDs == nil:
		return errors.New("admin service: IDs is required")
	}
	return nil
}

// AdminService implements webhooks.v1.AdminService: accounts and API keys.
// The authentication interceptor admits internal principals only.
type AdminService struct {
	webhooksv1.UnimplementedAdminServiceServer
	cfg AdminServiceConfig
	now func() time.Time
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
	return &AdminService{cfg: cfg, now: func() time.Time { return now().UTC() }}, nil
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
