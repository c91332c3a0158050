// Package store persists webhookd's resources in a SQL database through Ent.
//
// The database is the source of truth of the service: everything the delivery
// schedule in Redis holds can be rebuilt from it. Store composes one interface
// per resource (Accounts, Endpoints, Events, …), and each consumer takes only
// the ones it uses; its Ent implementation speaks to SQLite (the embedded
// default, through a pure-Go driver) and PostgreSQL alike, the statements that
// differ between them behind one seam (dialect.go), and one conformance suite
// (package store/storetest) runs against both.
package store

import (
	"context"
	"time"

	"github.com/webhookd/webhookd"
)

// Page asks for one page of a listing, newest first. After is the id of the
// last item of the previous page ("" for the first page); Size is at least 1.
type Page struct {
	Size  int
	After string
}

// EventFilter narrows a listing of events. Zero fields do not filter.
type EventFilter struct {
	AccountID     string // "" for every account (internal callers only)
	Types         []string
	CreatedAfter  time.Time // exclusive
	CreatedBefore time.Time // exclusive
	// AfterID keeps events with a greater id: published after that event,
	// since ids sort by time. Unlike CreatedAfter it is a cursor no two
	// events share, and the event it names need not exist.
	AfterID string
}

// DeliveryFilter narrows a listing of deliveries. Zero fields do not filter.
type DeliveryFilter struct {
	AccountID     string
	EndpointID    string
	EventID       string
	Statuses      []webhookd.DeliveryStatus
	EventTypes    []string
	CreatedAfter  time.Time
	CreatedBefore time.Time
}

// DeliveryWork is everything the delivery engine needs for one attempt.
type DeliveryWork struct {
	Delivery *webhookd.Delivery
	Event    *webhookd.Event
	Endpoint *webhookd.Endpoint
}

// AttemptRecord is one outcome for RecordAttempts: an attempt (nil when no
// request was made) and the delivery's new state.
type AttemptRecord struct {
	Attempt  *webhookd.Attempt
	Delivery *webhookd.Delivery
	// AutoDisableAfter, when positive, is the auto-disable period: if this
	// attempt failed and every attempt to the delivery's endpoint has
	// failed since at least this long before it (the endpoint's
	// FailingSince), the endpoint is disabled with a reason in the same
	// write. Zero never disables. Every record with an attempt keeps the
	// endpoint's FailingSince: set by a failure, cleared by a success.
	AutoDisableAfter time.Duration
}

// Purged counts the rows one PurgeEvents call deleted.
type Purged struct {
	Events, Deliveries, Attempts int64
}

// PublishResult is one event's outcome of PublishEvents, as PublishEvent
// returns it.
type PublishResult struct {
	Stored     *webhookd.Event
	Deliveries []*webhookd.Delivery
	Created    bool
	Err        error
}

// The persistence contract comes in one interface per resource, and Store
// composes them. Every method taking an accountID scopes its work to that
// account; "" means any account and is passed only for internal callers. A
// resource of another account is reported as webhookd.KindNotFound, exactly
// like one that does not exist. Failures to reach the database are
// webhookd.KindUnavailable. Implementations are safe for concurrent use.
//
// Consumers take the smallest set they use, declared where they use it (the
// API's in package server, the engine's and retention's in package worker),
// so that a reader sees what each one touches and a test double implements
// only that.

// Accounts are the tenants; each resource below belongs to one.
type Accounts interface {
	// CreateAccount inserts a; a.ID and times are set by the caller.
	CreateAccount(ctx context.Context, a *webhookd.Account) error
	GetAccount(ctx context.Context, id string) (*webhookd.Account, error)
	ListAccounts(ctx context.Context, p Page) ([]*webhookd.Account, error)
}

// APIKeys are the credentials of the API: customer keys of one account, and
// internal keys of the operator.
type APIKeys interface {
	// CreateAPIKey inserts k. Its account must exist unless k.Internal.
	CreateAPIKey(ctx context.Context, k *webhookd.APIKey) error
	// APIKeyByTokenHash returns the key (revoked or not) whose token hashes to hash.
	APIKeyByTokenHash(ctx context.Context, hash []byte) (*webhookd.APIKey, error)
	// ListAPIKeys lists the keys of an account, or the internal keys when
	// accountID is "".
	ListAPIKeys(ctx context.Context, accountID string, p Page) ([]*webhookd.APIKey, error)
	GetAPIKey(ctx context.Context, id string) (*webhookd.APIKey, error)
	// RevokeAPIKey sets the key's revoke time (kept if already revoked).
	RevokeAPIKey(ctx context.Context, id string, at time.Time) (*webhookd.APIKey, error)
	// CountInternalAPIKeys counts active internal keys (first-start bootstrap).
	CountInternalAPIKeys(ctx context.Context) (int, error)
}

// PortalSessions are the dashboard's sign-ins of one account.
type PortalSessions interface {
	// CreatePortalSession inserts ps; its account must exist.
	CreatePortalSession(ctx context.Context, ps *webhookd.PortalSession) error
	// PortalSessionByTokenHash returns the session (active or not) whose
	// token hashes to hash.
	PortalSessionByTokenHash(ctx context.Context, hash []byte) (*webhookd.PortalSession, error)
	// RevokePortalSession sets the session's revoke time (kept if already
	// revoked) and returns it.
	RevokePortalSession(ctx context.Context, accountID, id string, at time.Time) (*webhookd.PortalSession, error)
}

// EventTypes is the catalog of event types, shared by every account.
type EventTypes interface {
	// SaveEventTypes inserts or updates the catalog entries by name.
	SaveEventTypes(ctx context.Context, types []*webhookd.EventType) error
	GetEventType(ctx context.Context, name string) (*webhookd.EventType, error)
	// ListEventTypes returns the whole catalog ordered by name.
	ListEventTypes(ctx context.Context) ([]*webhookd.EventType, error)
}

// Endpoints are the customers' receivers.
type Endpoints interface {
	// CreateEndpoint inserts e and sets e.Revision to 1. limit, when
	// positive, is the most endpoints e's account may have: if it has that
	// many already, nothing is written and the error is
	// webhookd.KindFailedPrecondition. Concurrent creates cannot overshoot it.
	CreateEndpoint(ctx context.Context, e *webhookd.Endpoint, limit int) error
	GetEndpoint(ctx context.Context, accountID, id string) (*webhookd.Endpoint, error)
	ListEndpoints(ctx context.Context, accountID string, p Page) ([]*webhookd.Endpoint, error)

	// Each write to an existing endpoint changes only what its name says,
	// so concurrent ones (an edit, a rotation, a 410 Gone, auto-disable)
	// never undo each other, and each adds one to the endpoint's revision.

	// UpdateEndpoint writes e's settings — url, description, event types,
	// headers — and update time, nothing else, if the stored endpoint's
	// revision is still e.Revision (the one it was read with); then
	// e.Revision is the new one. Otherwise nothing is written and the error
	// is webhookd.KindAborted: read it again and redo the change.
	UpdateEndpoint(ctx context.Context, accountID string, e *webhookd.Endpoint) error
	// DevelopmentEndpoint returns the account's development endpoint
	// (webhookctl listen), KindNotFound when it has none yet. An account has
	// at most one: CreateEndpoint of a second answers KindConflict.
	DevelopmentEndpoint(ctx context.Context, accountID string) (*webhookd.Endpoint, error)
	// DisableEndpoint disables the endpoint with reason at time at (an
	// endpoint disabled already keeps its disable time and takes the new
	// reason) and returns it as written.
	DisableEndpoint(ctx context.Context, accountID, id, reason string, at time.Time) (*webhookd.Endpoint, error)
	// EnableEndpoint enables a disabled endpoint at time at, clearing its
	// reason, disable time and failure clock, and returns it; an enabled
	// endpoint is returned unchanged.
	EnableEndpoint(ctx context.Context, accountID, id string, at time.Time) (*webhookd.Endpoint, error)
	// RotateEndpointSecret makes secret the endpoint's secret and the one it
	// replaces (the stored one at the time of the write) its previous
	// secret until previousExpire, and returns the endpoint as written.
	RotateEndpointSecret(ctx context.Context, accountID, id, secret string, at, previousExpire time.Time) (*webhookd.Endpoint, error)
	// EndpointStats returns the health of each endpoint of ids that has
	// any deliveries (others are missing from the map): its deliveries that
	// succeeded and failed since since, and its latest error. The ids come
	// from reads already scoped to the caller's account.
	EndpointStats(ctx context.Context, ids []string, since time.Time) (map[string]*webhookd.EndpointStats, error)
	// DeleteEndpoint removes the endpoint and its deliveries and attempts.
	DeleteEndpoint(ctx context.Context, accountID, id string) error
}

// Events are what customers publish, with the deliveries each one fans out to.
type Events interface {
	// PublishEvent stores ev and one pending delivery, due at ev.CreateTime,
	// per enabled endpoint of ev's account subscribed to ev.Type, atomically
	// (one statement on PostgreSQL, one transaction on SQLite); newID makes
	// delivery ids and may be called for more ids than are used. When ev.IdempotencyKey is set and
	// an event of the same account already has it, nothing is written and the
	// original event is returned with created false. Each delivery's
	// EndpointUpdateTime is its endpoint's UpdateTime as the event was written.
	PublishEvent(ctx context.Context, ev *webhookd.Event, newID func(prefix string) string) (stored *webhookd.Event, deliveries []*webhookd.Delivery, created bool, err error)
	// PublishEvents is PublishEvent for many events at once, written
	// together: one statement on PostgreSQL (while the subscriber counts it
	// guesses hold), one transaction on SQLite. results[i] is evs[i]'s
	// outcome, its Err set when that event alone failed (on PostgreSQL,
	// KindNotFound for an account that does not exist); err, when set,
	// fails them all and nothing was written. Idempotency keys hold within
	// the batch too: a key's second event is answered with its first.
	PublishEvents(ctx context.Context, evs []*webhookd.Event, newID func(prefix string) string) (results []PublishResult, err error)
	GetEvent(ctx context.Context, accountID, id string) (*webhookd.Event, error)
	// ListEvents excludes test events.
	ListEvents(ctx context.Context, f EventFilter, p Page) ([]*webhookd.Event, error)
}

// Deliveries are what the API reads and controls of deliveries: their
// history, test events, retries and recoveries.
type Deliveries interface {
	// GetDelivery returns the delivery with its attempts, oldest first.
	GetDelivery(ctx context.Context, accountID, id string) (*webhookd.Delivery, error)
	ListDeliveries(ctx context.Context, f DeliveryFilter, p Page) ([]*webhookd.Delivery, error)
	// CreateTestDelivery stores ev (ev.Test is true) and one pending delivery
	// of it to the endpoint, due at ev.CreateTime with trigger test. The
	// endpoint must belong to ev.AccountID (else KindNotFound).
	CreateTestDelivery(ctx context.Context, ev *webhookd.Event, endpointID string, newID func(prefix string) string) (*webhookd.Delivery, error)
	// RetryDelivery makes a delivery pending again, due at due with trigger
	// manual, whatever its status, and returns it.
	RetryDelivery(ctx context.Context, accountID, id string, due time.Time) (*webhookd.Delivery, error)
	// RecoverEndpoint makes every failed delivery of the endpoint created at
	// or after since pending again, due at due with trigger manual, and
	// returns them.
	RecoverEndpoint(ctx context.Context, accountID, endpointID string, since, due time.Time) ([]*webhookd.Delivery, error)
}

// Engine is what the delivery engine (package worker) reads and writes
// around attempts, whatever the account: the engine is internal. Its calls
// are batches, each a few queries (one on PostgreSQL) whatever its size.
type Engine interface {
	// LoadDeliveryWorks returns deliveries with their event and endpoint;
	// ids whose delivery is gone are absent from the result.
	LoadDeliveryWorks(ctx context.Context, deliveryIDs []string) (map[string]*DeliveryWork, error)
	// RecordAttempts stores, in one transaction, each record's attempt
	// (nil when no request was made, e.g. the endpoint is disabled) and its
	// delivery's new state — status, attempt count, next attempt time, next
	// trigger, last error, last response status, update time. A record
	// applies only while the stored delivery still has the attempt count
	// its delivery had before this attempt (AttemptCount-1 with an attempt,
	// AttemptCount without). errs[i] is record i's outcome (KindConflict
	// when another worker recorded first, KindInvalid for a malformed
	// record); err, when set, means nothing was written.
	RecordAttempts(ctx context.Context, records []AttemptRecord) (errs []error, err error)
	// ListDueDeliveries returns pending deliveries of every account whose
	// next attempt time is at or before due, ordered by id ascending, with
	// ids greater than after, at most limit (the reconciler pages with it).
	ListDueDeliveries(ctx context.Context, due time.Time, after string, limit int) ([]*webhookd.Delivery, error)
}

// Reencrypter moves endpoint secrets to the current key (webhookd
// encryption rotate, and each start).
type Reencrypter interface {
	// ReencryptSecrets rewrites, batchSize endpoints at a time, every
	// endpoint secret not sealed with the first key of Config.Secrets
	// (plaintext from older versions, or an older key), and returns how many
	// endpoints it rewrote. A secret sealed with a key the keyring lacks is
	// an error naming that key. Safe to run in several processes at once.
	ReencryptSecrets(ctx context.Context, batchSize int) (int, error)
}

// Purger deletes old history for the retention job (worker.Retention).
type Purger interface {
	// PurgeEvents deletes up to limit events created before before, oldest
	// first, with their deliveries and attempts, in one short transaction.
	// An event with a pending delivery is kept whatever its age. The
	// retention job calls it in a loop until fewer than limit are purged.
	PurgeEvents(ctx context.Context, before time.Time, limit int) (Purged, error)
}

// Lifecycle is the connection to the database itself.
type Lifecycle interface {
	// Ping checks that the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Store is every set above: what Open returns, and what a process holding
// the database passes, each consumer seeing only its own set.
type Store interface {
	Accounts
	APIKeys
	PortalSessions
	EventTypes
	Endpoints
	Events
	Deliveries
	Engine
	Reencrypter
	Purger
	Lifecycle
}
