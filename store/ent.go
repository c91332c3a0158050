package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
	"github.com/webhookd/webhookd/ent/account"
	"github.com/webhookd/webhookd/ent/apikey"
	"github.com/webhookd/webhookd/ent/attempt"
	"github.com/webhookd/webhookd/ent/delivery"
	"github.com/webhookd/webhookd/ent/endpoint"
	"github.com/webhookd/webhookd/ent/event"
	"github.com/webhookd/webhookd/ent/eventtype"
	"github.com/webhookd/webhookd/ent/portalsession"
	"github.com/webhookd/webhookd/ent/predicate"
)

// entStore implements Store with the generated Ent client.
//
// Create methods write times as the database keeps them (UTC, microseconds;
// see dbTime) and update the caller's struct to match, so that what a caller
// returns after a create equals what a later read returns.
type entStore struct {
	client *ent.Client
	db     *sql.DB
	// dialect names the database for Ent's statement builders.
	dialect string
	// paths holds the statements that differ by database (dialect.go).
	paths sqlPaths
	// secrets seals endpoint secrets at rest (secrets.go).
	secrets *Keyring
	logger  *slog.Logger
}

var _ Store = (*entStore)(nil)

func checkPage(p Page) error {
	if p.Size < 1 {
		return webhookd.Invalid("page_size", "must be at least 1")
	}
	return nil
}

// withTx runs fn in a transaction, committing when it returns nil.
func (s *entStore) withTx(ctx context.Context, doing string, fn func(tx *ent.Tx) error) error {
	return withTx(ctx, s.client, doing, fn)
}

func withTx(ctx context.Context, client *ent.Client, doing string, fn func(tx *ent.Tx) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return classify(err, doing)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return classify(err, doing)
	}
	return nil
}

// Accounts.

func (s *entStore) CreateAccount(ctx context.Context, a *webhookd.Account) error {
	created, updated := dbTime(a.CreateTime), dbTime(a.UpdateTime)
	err := s.client.Account.Create().
		SetID(a.ID).
		SetDisplayName(a.DisplayName).
		SetCreateTime(created).
		SetUpdateTime(updated).
		Exec(ctx)
	if err != nil {
		return classifyInsert(err, "account", a.ID, "", "")
	}
	a.CreateTime, a.UpdateTime = created, updated
	return nil
}

func (s *entStore) GetAccount(ctx context.Context, id string) (*webhookd.Account, error) {
	r, err := s.client.Account.Get(ctx, id)
	if err != nil {
		return nil, classifyLookup(err, "getting account", "account", id)
	}
	return toAccount(r), nil
}

func (s *entStore) ListAccounts(ctx context.Context, p Page) ([]*webhookd.Account, error) {
	if err := checkPage(p); err != nil {
		return nil, err
	}
	q := s.client.Account.Query()
	if p.After != "" {
		q.Where(account.IDLT(p.After))
	}
	rows, err := q.Order(account.ByID(entsql.OrderDesc())).Limit(p.Size).All(ctx)
	if err != nil {
		return nil, classify(err, "listing accounts")
	}
	return mapSlice(rows, toAccount), nil
}

// API keys.

func (s *entStore) CreateAPIKey(ctx context.Context, k *webhookd.APIKey) error {
	if !k.Internal && k.AccountID == "" {
		return webhookd.Invalid("api_key.account_id", "is required for a customer key")
	}
	if k.Internal && k.AccountID != "" {
		return webhookd.Invalid("api_key.account_id", "must be empty for an internal key")
	}
	created := dbTime(k.CreateTime)
	err := s.client.APIKey.Create().
		SetID(k.ID).
		SetNillableAccountID(stringOrNil(k.AccountID)).
		SetInternal(k.Internal).
		SetDisplayName(k.DisplayName).
		SetTokenHash(k.TokenHash).
		SetCreateTime(created).
		SetNillableRevokeTime(dbTimeOrNil(k.RevokeTime)).
		Exec(ctx)
	if err != nil {
		return classifyInsert(err, "api key", k.ID, "account", k.AccountID)
	}
	k.CreateTime = created
	if !k.RevokeTime.IsZero() {
		k.RevokeTime = dbTime(k.RevokeTime)
	}
	return nil
}

func (s *entStore) APIKeyByTokenHash(ctx context.Context, hash []byte) (*webhookd.APIKey, error) {
	r, err := s.client.APIKey.Query().Where(apikey.TokenHash(hash)).Only(ctx)
	if err != nil {
		// Never echo any part of a credential, not even its hash.
		return nil, classifyLookup(err, "looking up api key", "api key", "")
	}
	return toAPIKey(r), nil
}

func (s *entStore) ListAPIKeys(ctx context.Context, accountID string, p Page) ([]*webhookd.APIKey, error) {
	if err := checkPage(p); err != nil {
		return nil, err
	}
	q := s.client.APIKey.Query()
	if accountID == "" {
		q.Where(apikey.Internal(true))
	} else {
		q.Where(apikey.AccountID(accountID))
	}
	if p.After != "" {
		q.Where(apikey.IDLT(p.After))
	}
	rows, err := q.Order(apikey.ByID(entsql.OrderDesc())).Limit(p.Size).All(ctx)
	if err != nil {
		return nil, classify(err, "listing api keys")
	}
	return mapSlice(rows, toAPIKey), nil
}

func (s *entStore) GetAPIKey(ctx context.Context, id string) (*webhookd.APIKey, error) {
	r, err := s.client.APIKey.Get(ctx, id)
	if err != nil {
		return nil, classifyLookup(err, "getting api key", "api key", id)
	}
	return toAPIKey(r), nil
}

func (s *entStore) RevokeAPIKey(ctx context.Context, id string, at time.Time) (*webhookd.APIKey, error) {
	// The condition on revoke_time keeps the first revocation's time when
	// two revocations race or one is repeated.
	err := s.client.APIKey.Update().
		Where(apikey.ID(id), apikey.RevokeTimeIsNil()).
		SetRevokeTime(dbTime(at)).
		Exec(ctx)
	if err != nil {
		return nil, classify(err, "revoking api key")
	}
	return s.GetAPIKey(ctx, id)
}

func (s *entStore) CountInternalAPIKeys(ctx context.Context) (int, error) {
	n, err := s.client.APIKey.Query().
		Where(apikey.Internal(true), apikey.RevokeTimeIsNil()).
		Count(ctx)
	if err != nil {
		return 0, classify(err, "counting internal api keys")
	}
	return n, nil
}

// Portal sessions.

func (s *entStore) CreatePortalSession(ctx context.Context, ps *webhookd.PortalSession) error {
	created, expires := dbTime(ps.CreateTime), dbTime(ps.ExpireTime)
	err := s.client.PortalSession.Create().
		SetID(ps.ID).
		SetAccountID(ps.AccountID).
		SetTokenHash(ps.TokenHash).
		SetCreateTime(created).
		SetExpireTime(expires).
		Exec(ctx)
	if err != nil {
		return classifyInsert(err, "portal session", ps.ID, "account", ps.AccountID)
	}
	ps.CreateTime, ps.ExpireTime = created, expires
	return nil
}

func (s *entStore) PortalSessionByTokenHash(ctx context.Context, hash []byte) (*webhookd.PortalSession, error) {
	r, err := s.client.PortalSession.Query().Where(portalsession.TokenHash(hash)).Only(ctx)
	if err != nil {
		// Never echo any part of a credential, not even its hash.
		return nil, classifyLookup(err, "looking up portal session", "portal session", "")
	}
	return toPortalSession(r), nil
}

func (s *entStore) RevokePortalSession(ctx context.Context, accountID, id string, at time.Time) (*webhookd.PortalSession, error) {
	scoped := []predicate.PortalSession{portalsession.ID(id)}
	if accountID != "" {
		scoped = append(scoped, portalsession.AccountID(accountID))
	}
	// The condition on revoke_time keeps the first revocation's time.
	err := s.client.PortalSession.Update().
		Where(append(scoped, portalsession.RevokeTimeIsNil())...).
		SetRevokeTime(dbTime(at)).
		Exec(ctx)
	if err != nil {
		return nil, classify(err, "revoking portal session")
	}
	r, err := s.client.PortalSession.Query().Where(scoped...).Only(ctx)
	if err != nil {
		return nil, classifyLookup(err, "getting portal session", "portal session", id)
	}
	return toPortalSession(r), nil
}

// Event types.

func (s *entStore) SaveEventTypes(ctx context.Context, types []*webhookd.EventType) error {
	if len(types) == 0 {
		return nil
	}
	creates := make([]*ent.EventTypeCreate, len(types))
	for i, t := range types {
		creates[i] = s.client.EventType.Create().
			SetID(t.Name).
			SetDescription(t.Description).
			SetExample(t.Example).
			SetCreateTime(dbTime(t.CreateTime))
	}
	// An existing name keeps its create time; its text and example follow
	// the catalog shipped with this version.
	err := s.client.EventType.CreateBulk(creates...).
		OnConflictColumns(eventtype.FieldID).
		Update(func(u *ent.EventTypeUpsert) {
			u.UpdateDescription()
			u.UpdateExample()
		}).
		Exec(ctx)
	if err != nil {
		return classify(err, "saving event types")
	}
	return nil
}

func (s *entStore) GetEventType(ctx context.Context, name string) (*webhookd.EventType, error) {
	r, err := s.client.EventType.Get(ctx, name)
	if err != nil {
		return nil, classifyLookup(err, "getting event type", "event type", name)
	}
	return toEventType(r), nil
}

func (s *entStore) ListEventTypes(ctx context.Context) ([]*webhookd.EventType, error) {
	rows, err := s.client.EventType.Query().Order(eventtype.ByID()).All(ctx)
	if err != nil {
		return nil, classify(err, "listing event types")
	}
	return mapSlice(rows, toEventType), nil
}

// Endpoints.

func nonNilEventTypes(types []string) []string {
	if types == nil {
		return []string{}
	}
	return types
}

// endpointOf selects endpoint id within accountID ("" for any account).
func endpointOf(accountID, id string) []predicate.Endpoint {
	ps := []predicate.Endpoint{endpoint.ID(id)}
	if accountID != "" {
		ps = append(ps, endpoint.AccountID(accountID))
	}
	return ps
}

func (s *entStore) GetEndpoint(ctx context.Context, accountID, id string) (*webhookd.Endpoint, error) {
	r, err := s.client.Endpoint.Query().Where(endpointOf(accountID, id)...).Only(ctx)
	if err != nil {
		return nil, classifyLookup(err, "getting endpoint", "endpoint", id)
	}
	e := toEndpoint(r)
	if err := s.openEndpointSecrets(e); err != nil {
		return nil, err
	}
	return e, nil
}

func (s *entStore) ListEndpoints(ctx context.Context, accountID string, p Page) ([]*webhookd.Endpoint, error) {
	if err := checkPage(p); err != nil {
		return nil, err
	}
	q := s.client.Endpoint.Query()
	if accountID != "" {
		q.Where(endpoint.AccountID(accountID))
	}
	if p.After != "" {
		q.Where(endpoint.IDLT(p.After))
	}
	rows, err := q.Order(endpoint.ByID(entsql.OrderDesc())).Limit(p.Size).All(ctx)
	if err != nil {
		return nil, classify(err, "listing endpoints")
	}
	endpoints := mapSlice(rows, toEndpoint)
	for _, e := range endpoints {
		if err := s.openEndpointSecrets(e); err != nil {
			return nil, err
		}
	}
	return endpoints, nil
}

func (s *entStore) DeleteEndpoint(ctx context.Context, accountID, id string) error {
	// Deliveries and their attempts go with it through ON DELETE CASCADE.
	n, err := s.client.Endpoint.Delete().Where(endpointOf(accountID, id)...).Exec(ctx)
	if err != nil {
		return classify(err, "deleting endpoint")
	}
	if n == 0 {
		return webhookd.NotFound("endpoint", id)
	}
	return nil
}

// Events.

func (s *entStore) PublishEvent(ctx context.Context, ev *webhookd.Event, newID func(prefix string) string) (*webhookd.Event, []*webhookd.Delivery, bool, error) {
	return s.paths.publishEvent(ctx, ev, newID)
}

// publishEvent checks the idempotency key and writes in one transaction;
// PostgreSQL's statement is in publish_postgres.go.
func (p portablePaths) publishEvent(ctx context.Context, ev *webhookd.Event, newID func(prefix string) string) (*webhookd.Event, []*webhookd.Delivery, bool, error) {
	var (
		stored     *webhookd.Event
		deliveries []*webhookd.Delivery
		created    bool
	)
	if p.publisher != nil {
		return p.publisher.publish(ctx, ev, newID)
	}
	err := withTx(ctx, p.client, "publishing event", func(tx *ent.Tx) error {
		r := publishInTx(ctx, tx, ev, newID)
		stored, deliveries, created = r.Stored, r.Deliveries, r.Created
		return r.Err
	})
	switch {
	case err == nil:
	case ev.IdempotencyKey != "" && webhookd.KindOf(err) == webhookd.KindConflict:
		// A concurrent publish with the same key committed between our check
		// and our insert (PostgreSQL: our insert waited for it on the unique
		// index, then failed). Its event is the one the key names.
		original, lookupErr := eventByIdempotencyKey(ctx, p.client, ev.AccountID, ev.IdempotencyKey)
		if lookupErr != nil {
			return nil, nil, false, err
		}
		return original, nil, false, nil
	default:
		return nil, nil, false, err
	}
	if !created {
		// Nothing was written; callers enqueue nothing for a repeated publish.
		return stored, nil, false, nil
	}
	return stored, deliveries, true, nil
}

func (s *entStore) PublishEvents(ctx context.Context, evs []*webhookd.Event, newID func(prefix string) string) ([]PublishResult, error) {
	return s.paths.publishEvents(ctx, evs, newID)
}

func (p portablePaths) publishEvents(ctx context.Context, evs []*webhookd.Event, newID func(prefix string) string) ([]PublishResult, error) {
	results := make([]PublishResult, len(evs))
	err := withTx(ctx, p.client, "publishing events", func(tx *ent.Tx) error {
		for i, ev := range evs {
			if results[i] = publishInTx(ctx, tx, ev, newID); results[i].Err != nil {
				return results[i].Err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

func eventByIdempotencyKey(ctx context.Context, client *ent.Client, accountID, key string) (*webhookd.Event, error) {
	r, err := client.Event.Query().
		Where(event.AccountID(accountID), event.IdempotencyKey(key)).
		Only(ctx)
	if err != nil {
		return nil, classifyLookup(err, "getting event by idempotency key", "event", key)
	}
	return toEvent(r), nil
}

// deliveryInsertBatch is how many deliveries one INSERT writes on SQLite:
// 13 variables a row, well under SQLite's limit of 32,766 a statement.
const deliveryInsertBatch = 500

// insertEventAndDeliveries writes ev and a pending delivery, due at once, per
// enabled endpoint of its account that subscribes to its type.
func insertEventAndDeliveries(ctx context.Context, tx *ent.Tx, ev *webhookd.Event, newID func(prefix string) string) (*webhookd.Event, []*webhookd.Delivery, error) {
	at := dbTime(ev.CreateTime)
	data := ev.Data
	if data == nil {
		data = []byte{} // the column is NOT NULL; an empty payload is still a payload
	}
	row, err := tx.Event.Create().
		SetID(ev.ID).
		SetAccountID(ev.AccountID).
		SetType(ev.Type).
		SetData(data).
		SetNillableIdempotencyKey(stringOrNil(ev.IdempotencyKey)).
		SetTest(ev.Test).
		SetCreateTime(at).
		Save(ctx)
	if err != nil {
		return nil, nil, classifyInsert(err, "event", ev.ID, "account", ev.AccountID)
	}
	endpoints, err := tx.Endpoint.Query().
		Where(
			endpoint.AccountID(ev.AccountID),
			endpoint.Disabled(false),
			func(sel *entsql.Selector) {
				sel.Where(sqljson.ValueContains(sel.C(endpoint.FieldEventTypes), ev.Type))
			},
		).
		Order(endpoint.ByID()).
		Select(endpoint.FieldID, endpoint.FieldUpdateTime).
		All(ctx)
	if err != nil {
		return nil, nil, classify(err, "selecting subscribed endpoints")
	}
	if len(endpoints) == 0 {
		return toEvent(row), nil, nil
	}
	creates := make([]*ent.DeliveryCreate, len(endpoints))
	for i, ep := range endpoints {
		creates[i] = tx.Delivery.Create().
			SetID(newID(webhookd.PrefixDelivery)).
			SetAccountID(ev.AccountID).
			SetEventID(ev.ID).
			SetEndpointID(ep.ID).
			SetEventType(ev.Type).
			SetStatus(delivery.StatusPending).
			SetNextAttemptTime(at).
			SetNextTrigger(delivery.NextTriggerInitial).
			SetCreateTime(at).
			SetUpdateTime(at)
	}
	// In batches: one INSERT binds every column of every row, and SQLite
	// refuses a statement with more than 32,766 variables (about 2,400
	// deliveries), so a single statement caps how many endpoints may
	// subscribe to a type.
	rows := make([]*ent.Delivery, 0, len(creates))
	for batch := range slices.Chunk(creates, deliveryInsertBatch) {
		saved, err := tx.Delivery.CreateBulk(batch...).Save(ctx)
		if err != nil {
			return nil, nil, classify(err, "creating deliveries")
		}
		rows = append(rows, saved...)
	}
	deliveries := mapSlice(rows, toDelivery)
	for i, d := range deliveries {
		d.EndpointUpdateTime = endpoints[i].UpdateTime.UTC()
	}
	return toEvent(row), deliveries, nil
}

func (s *entStore) GetEvent(ctx context.Context, accountID, id string) (*webhookd.Event, error) {
	q := s.client.Event.Query().Where(event.ID(id))
	if accountID != "" {
		q.Where(event.AccountID(accountID))
	}
	r, err := q.Only(ctx)
	if err != nil {
		return nil, classifyLookup(err, "getting event", "event", id)
	}
	return toEvent(r), nil
}

func (s *entStore) ListEvents(ctx context.Context, f EventFilter, p Page) ([]*webhookd.Event, error) {
	if err := checkPage(p); err != nil {
		return nil, err
	}
	q := s.client.Event.Query().Where(event.Test(false))
	if f.AccountID != "" {
		q.Where(event.AccountID(f.AccountID))
	}
	if len(f.Types) > 0 {
		q.Where(event.TypeIn(f.Types...))
	}
	if !f.CreatedAfter.IsZero() {
		q.Where(event.CreateTimeGT(dbTime(f.CreatedAfter)))
	}
	if !f.CreatedBefore.IsZero() {
		q.Where(event.CreateTimeLT(dbTime(f.CreatedBefore)))
	}
	if f.AfterID != "" {
		q.Where(event.IDGT(f.AfterID))
	}
	if p.After != "" {
		q.Where(event.IDLT(p.After))
	}
	rows, err := q.Order(event.ByID(entsql.OrderDesc())).Limit(p.Size).All(ctx)
	if err != nil {
		return nil, classify(err, "listing events")
	}
	return mapSlice(rows, toEvent), nil
}

// Deliveries.

func (s *entStore) GetDelivery(ctx context.Context, accountID, id string) (*webhookd.Delivery, error) {
	q := s.client.Delivery.Query().
		Where(delivery.ID(id)).
		WithAttempts(func(q *ent.AttemptQuery) { q.Order(attempt.ByNumber()) })
	if accountID != "" {
		q.Where(delivery.AccountID(accountID))
	}
	r, err := q.Only(ctx)
	if err != nil {
		return nil, classifyLookup(err, "getting delivery", "delivery", id)
	}
	d := toDelivery(r)
	if d.Attempts == nil {
		d.Attempts = []*webhookd.Attempt{} // asked for and none made yet
	}
	return d, nil
}

func (s *entStore) ListDeliveries(ctx context.Context, f DeliveryFilter, p Page) ([]*webhookd.Delivery, error) {
	if err := checkPage(p); err != nil {
		return nil, err
	}
	q := s.client.Delivery.Query()
	if f.AccountID != "" {
		q.Where(delivery.AccountID(f.AccountID))
	}
	if f.EndpointID != "" {
		q.Where(delivery.EndpointID(f.EndpointID))
	}
	if f.EventID != "" {
		q.Where(delivery.EventID(f.EventID))
	}
	if len(f.Statuses) > 0 {
		statuses := make([]delivery.Status, len(f.Statuses))
		for i, st := range f.Statuses {
			statuses[i] = delivery.Status(st)
			if err := delivery.StatusValidator(statuses[i]); err != nil {
				return nil, webhookd.Invalid("filter.status", "unknown delivery status %q", st)
			}
		}
		q.Where(delivery.StatusIn(statuses...))
	}
	if len(f.EventTypes) > 0 {
		q.Where(delivery.EventTypeIn(f.EventTypes...))
	}
	if !f.CreatedAfter.IsZero() {
		q.Where(delivery.CreateTimeGT(dbTime(f.CreatedAfter)))
	}
	if !f.CreatedBefore.IsZero() {
		q.Where(delivery.CreateTimeLT(dbTime(f.CreatedBefore)))
	}
	if p.After != "" {
		q.Where(delivery.IDLT(p.After))
	}
	rows, err := q.Order(delivery.ByID(entsql.OrderDesc())).Limit(p.Size).All(ctx)
	if err != nil {
		return nil, classify(err, "listing deliveries")
	}
	return mapSlice(rows, toDelivery), nil
}

// Lifecycle.

func (s *entStore) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return webhookd.Unavailable("database unreachable", err)
	}
	return nil
}

func (s *entStore) Close() error {
	s.paths.close()
	if err := s.client.Close(); err != nil && !errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("closing database: %w", err)
	}
	return nil
}
