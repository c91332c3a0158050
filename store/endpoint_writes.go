package store

import (
	"context"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/endpoint"
)

// This file holds every write to an existing endpoint. Each one changes only
// the columns it means to change, and one that derives a value from what it
// read (the previous secret from the current one, the disable time from the
// disabled flag, the settings from a read-modify-write in the API) is
// guarded by what it read, so that a concurrent write is never undone: a
// 410 Gone that lands during a rotation keeps the new secret, and an edit of
// the description keeps an endpoint that auto-disable just disabled
// disabled. Every write that moves update_time also adds one to revision,
// from which the API's etag is made.

// maxEndpointWriteTries bounds how often a guarded write is retried after
// losing a race: each retry means another write to the same endpoint
// committed in between, so running out takes a storm of them.
const maxEndpointWriteTries = 20

// CreateEndpoint implements Store.
func (s *entStore) CreateEndpoint(ctx context.Context, e *webhookd.Endpoint, limit int) error {
	created, updated := dbTime(e.CreateTime), dbTime(e.UpdateTime)
	secret, previousSecret := s.sealEndpointSecrets(e)
	insert := func(ctx context.Context, c *ent.EndpointClient) error {
		err := c.Create().
			SetID(e.ID).
			SetAccountID(e.AccountID).
			SetURL(e.URL).
			SetDescription(e.Description).
			SetEventTypes(nonNilEventTypes(e.EventTypes)).
			SetHeaders(e.Headers).
			SetDisabled(e.Disabled).
			SetDisabledReason(e.DisabledReason).
			SetNillableDisableTime(dbTimeOrNil(e.DisableTime)).
			SetSecret(secret).
			SetPreviousSecret(previousSecret).
			SetNillablePreviousSecretExpireTime(dbTimeOrNil(e.PreviousSecretExpireTime)).
			SetCreateTime(created).
			SetUpdateTime(updated).
			SetRevision(1).
			SetDevelopment(e.Development).
			Exec(ctx)
		return classifyInsert(err, "endpoint", e.ID, "account", e.AccountID)
	}
	var err error
	if limit <= 0 {
		err = insert(ctx, s.client.Endpoint)
	} else {
		err = s.withTx(ctx, "creating endpoint", func(tx *ent.Tx) error {
			// Creates in one account take turns on its row, so two of them
			// cannot both see room for one more. SQLite's single writer
			// serialises them already.
			if err := s.paths.lockAccountEndpoints(ctx, tx, e.AccountID); err != nil {
				return err
			}
			n, err := tx.Endpoint.Query().Where(endpoint.AccountID(e.AccountID)).Count(ctx)
			if err != nil {
				return classify(err, "counting endpoints")
			}
			if n >= limit {
				return webhookd.FailedPrecondition("the account has %d endpoints, the most it may have (the operator's --max-endpoints-per-account): delete one before creating another", n)
			}
			return insert(ctx, tx.Endpoint)
		})
	}
	if err != nil {
		return err
	}
	e.CreateTime, e.UpdateTime, e.Revision = created, updated, 1
	if !e.PreviousSecretExpireTime.IsZero() {
		e.PreviousSecretExpireTime = dbTime(e.PreviousSecretExpireTime)
	}
	return nil
}

// UpdateEndpoint implements Store.
func (s *entStore) UpdateEndpoint(ctx context.Context, accountID string, e *webhookd.Endpoint) error {
	updated := dbTime(e.UpdateTime)
	u := s.client.Endpoint.Update().
		Where(append(endpointOf(accountID, e.ID), endpoint.Revision(e.Revision))...).
		SetURL(e.URL).
		SetDescription(e.Description).
		SetEventTypes(nonNilEventTypes(e.EventTypes)).
		SetUpdateTime(updated).
		AddRevision(1)
	if e.Headers == nil {
		u.ClearHeaders()
	} else {
		u.SetHeaders(e.Headers)
	}
	n, err := u.Save(ctx)
	if err != nil {
		return classify(err, "updating endpoint")
	}
	if n == 0 {
		// Gone, or changed since e was read: only a read tells which.
		if _, err := s.GetEndpoint(ctx, accountID, e.ID); err != nil {
			return err
		}
		return endpointChanged(e.ID)
	}
	e.UpdateTime = updated
	e.Revision++
	return nil
}

// endpointChanged is the error of a write whose revision is stale.
func endpointChanged(id string) error {
	return webhookd.Aborted("endpoint %q changed since it was read: get it again and redo the change", id)
}

// DisableEndpoint implements Store.
func (s *entStore) DisableEndpoint(ctx context.Context, accountID, id, reason string, at time.Time) (*webhookd.Endpoint, error) {
	at = dbTime(at)
	return s.writeEndpoint(ctx, accountID, id, "disabling endpoint", func(tx *ent.Tx) (int, error) {
		// Enabled → disabled starts the disable time; an endpoint disabled
		// already keeps it and takes the new reason. Each statement is
		// guarded by the state it changes from, so whichever matches is right.
		n, err := tx.Endpoint.Update().
			Where(append(endpointOf(accountID, id), endpoint.Disabled(false))...).
			SetDisabled(true).
			SetDisabledReason(reason).
			SetDisableTime(at).
			SetUpdateTime(at).
			AddRevision(1).
			Save(ctx)
		if err != nil || n > 0 {
			return n, err
		}
		return tx.Endpoint.Update().
			Where(append(endpointOf(accountID, id), endpoint.Disabled(true))...).
			SetDisabledReason(reason).
			SetUpdateTime(at).
			AddRevision(1).
			Save(ctx)
	})
}

// EnableEndpoint implements Store.
func (s *entStore) EnableEndpoint(ctx context.Context, accountID, id string, at time.Time) (*webhookd.Endpoint, error) {
	at = dbTime(at)
	var e *webhookd.Endpoint
	err := s.withTx(ctx, "enabling endpoint", func(tx *ent.Tx) error {
		// Re-enabling restarts the failure clock, so that auto-disable
		// gives the endpoint a full period again. Guarded by disabled: an
		// endpoint enabled already is left as it is, clock and all.
		_, err := tx.Endpoint.Update().
			Where(append(endpointOf(accountID, id), endpoint.Disabled(true))...).
			SetDisabled(false).
			SetDisabledReason("").
			ClearDisableTime().
			ClearFailingSince().
			SetUpdateTime(at).
			AddRevision(1).
			Save(ctx)
		if err != nil {
			return classify(err, "enabling endpoint")
		}
		e, err = s.endpointTx(ctx, tx, accountID, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// RotateEndpointSecret implements Store.
func (s *entStore) RotateEndpointSecret(ctx context.Context, accountID, id, secret string, at, previousExpire time.Time) (*webhookd.Endpoint, error) {
	at, previousExpire = dbTime(at), dbTime(previousExpire)
	return s.writeEndpoint(ctx, accountID, id, "rotating endpoint secret", func(tx *ent.Tx) (int, error) {
		row, err := tx.Endpoint.Query().Where(endpointOf(accountID, id)...).Select(endpoint.FieldSecret).Only(ctx)
		if err != nil {
			return 0, classifyLookup(err, "rotating endpoint secret", "endpoint", id)
		}
		current, err := s.secrets.open(id, columnSecret, row.Secret)
		if err != nil {
			return 0, err
		}
		// Guarded by the secret read: a rotation (or a re-encryption) that
		// committed meanwhile makes this one start over from its result.
		return tx.Endpoint.Update().
			Where(append(endpointOf(accountID, id), endpoint.Secret(row.Secret))...).
			SetSecret(s.secrets.seal(id, columnSecret, secret)).
			SetPreviousSecret(s.secrets.seal(id, columnPreviousSecret, current)).
			SetPreviousSecretExpireTime(previousExpire).
			SetUpdateTime(at).
			AddRevision(1).
			Save(ctx)
	})
}

// writeEndpoint runs write, a guarded update of endpoint id, in a
// transaction and returns the endpoint as that transaction left it. write
// returns how many rows it changed: none means its guard failed (another
// write committed after its read, or the endpoint is gone), and it is
// retried in a new transaction until the endpoint is found missing.
func (s *entStore) writeEndpoint(ctx context.Context, accountID, id, doing string, write func(tx *ent.Tx) (int, error)) (*webhookd.Endpoint, error) {
	for range maxEndpointWriteTries {
		var e *webhookd.Endpoint
		err := s.withTx(ctx, doing, func(tx *ent.Tx) error {
			n, err := write(tx)
			if err != nil {
				return classify(err, doing)
			}
			if n == 0 {
				return errGuardLost
			}
			e, err = s.endpointTx(ctx, tx, accountID, id)
			return err
		})
		switch {
		case err == nil:
			return e, nil
		case err != errGuardLost:
			return nil, err
		}
		if _, err := s.GetEndpoint(ctx, accountID, id); err != nil {
			return nil, err // gone, or the database is
		}
	}
	return nil, endpointChanged(id)
}

// errGuardLost tells writeEndpoint that a guarded update matched no row.
var errGuardLost = &webhookd.Error{Kind: webhookd.KindAborted, Message: "endpoint changed meanwhile"}

// endpointTx reads endpoint id in tx, with its secrets opened.
func (s *entStore) endpointTx(ctx context.Context, tx *ent.Tx, accountID, id string) (*webhookd.Endpoint, error) {
	r, err := tx.Endpoint.Query().Where(endpointOf(accountID, id)...).Only(ctx)
	if err != nil {
		return nil, classifyLookup(err, "getting endpoint", "endpoint", id)
	}
	e := toEndpoint(r)
	if err := s.openEndpointSecrets(e); err != nil {
		return nil, err
	}
	return e, nil
}
