package store

import (
	"context"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent/endpoint"
)

func (s *entStore) DevelopmentEndpoint(ctx context.Context, accountID string) (*webhookd.Endpoint, error) {
	r, err := s.client.Endpoint.Query().
		Where(endpoint.AccountID(accountID), endpoint.Development(true)).
		Only(ctx)
	if err != nil {
		return nil, classifyLookup(err, "getting the development endpoint", "development endpoint of account", accountID)
	}
	e := toEndpoint(r)
	if err := s.openEndpointSecrets(e); err != nil {
		return nil, err
	}
	return e, nil
}
