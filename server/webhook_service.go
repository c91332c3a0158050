package server

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/payload"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/worker"
)

// DeliveryQueue takes freshly committed deliveries for their attempts, so
// they are attempted at once rather than on the next poll: the delivery
// engine of a process with the worker role (worker.Engine.Enqueue), or the
// schedule alone. Enqueue is called after the publishing transaction
// committed; a failure is logged and not returned, because the deliveries
// are safe in the database and the engine's reconciler schedules any
// delivery the queue missed.
//
// ev is the event the deliveries were just created for (a publish or a test
// event), which a queue may use to attempt them without reading them back;
// it is nil for deliveries made pending again (retries, recoveries).
type DeliveryQueue interface {
	Enqueue(ctx context.Context, ev *webhookd.Event, deliveries []*webhookd.Delivery) error
}

// WebhookStore is what the webhook service reads and writes: an account's
// endpoints, events and deliveries in full, the event type catalog, the
// account itself (does it exist), and its portal session (sign-out).
type WebhookStore interface {
	store.Endpoints
	store.Events
	store.Deliveries
	GetEventType(ctx context.Context, name string) (*webhookd.EventType, error)
	ListEventTypes(ctx context.Context) ([]*webhookd.EventType, error)
	GetAccount(ctx context.Context, id string) (*webhookd.Account, error)
	RevokePortalSession(ctx context.Context, accountID, id string, at time.Time) (*webhookd.PortalSession, error)
}

// WebhookServiceConfig configures NewWebhookService.
type WebhookServiceConfig struct {
	Store  WebhookStore
	Logger *slog.Logger
	// IDs makes resource identifiers.
	IDs *webhookd.IDGenerator
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Queue receives new deliveries; nil when no worker is attached.
	Queue DeliveryQueue
	// AllowHTTPEndpoints accepts plain http:// endpoint URLs.
	AllowHTTPEndpoints bool
	// MaxPayloadBytes bounds an event's data as sent to receivers.
	MaxPayloadBytes int
	// SecretGracePeriod is how long a rotated-out secret keeps signing.
	SecretGracePeriod time.Duration
	// TestEventWait bounds how long SendTestEvent with wait waits for the
	// attempt (default 15s: the request timeout plus room for a busy queue).
	TestEventWait time.Duration
	// Listeners serves ListenEndpointDeliveries; nil answers UNAVAILABLE.
	Listeners *worker.Listeners
	// MaxEndpointsPerAccount is the most endpoints one account may have;
	// zero: no limit.
	MaxEndpointsPerAccount int
	// Attempts wakes SendTestEvent's waiters when this process's engine
	// records their attempt; nil (no worker role) leaves them to polling.
	Attempts AttemptWatcher
	// TestEventPoll is the first interval at which SendTestEvent with wait
	// reads the delivery back, for attempts made by another process; it
	// doubles after each read up to the larger of itself and 2s.
	// Default 100ms.
	TestEventPoll time.Duration
}

// AttemptWatcher tells waiters that a delivery's attempt was recorded
// (worker.Engine.WatchAttempts). Only attempts made by this process are
// seen, so waiters also read the database now and then.
type AttemptWatcher interface {
	// WatchAttempts returns a channel that receives a value whenever an
	// attempt of delivery id is recorded, and a function ending the watch.
	WatchAttempts(id string) (recorded <-chan struct{}, stop func())
}

// Validate reports the first missing or out-of-range setting.
func (c *WebhookServiceConfig) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("webhook service: Store is required")
	case c.Logger == nil:
		return errors.New("webhook service: Logger is required")
	case c.IDs == nil:
		return errors.New("webhook service: IDs is required")
	case c.MaxPayloadBytes <= 0:
		return errors.New("webhook service: MaxPayloadBytes must be positive")
	case c.SecretGracePeriod < 0:
		return errors.New("webhook service: SecretGracePeriod must not be negative")
	case c.MaxEndpointsPerAccount < 0:
		return errors.New("webhook service: MaxEndpointsPerAccount must not be negative")

	case c.TestEventWait < 0 || c.TestEventPoll < 0:
		return errors.New("webhook service: TestEventWait and TestEventPoll must not be negative")
	}
	return nil
}

// WebhookService implements webhooks.v1.WebhookService. The deprecated
// ListenEndpoint answers UNIMPLEMENTED; ListenEndpointDeliveries (listen.go)
// replaces it.
type WebhookService struct {
	webhooksv1.UnimplementedWebhookServiceServer
	cfg      WebhookServiceConfig
	now      func() time.Time
	catalog  *catalogCache
	accounts *accountCache
}

var _ webhooksv1.WebhookServiceServer = (*WebhookService)(nil)

// NewWebhookService returns the service for a validated cfg.
func NewWebhookService(cfg WebhookServiceConfig) (*WebhookService, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if cfg.TestEventWait == 0 {
		cfg.TestEventWait = 15 * time.Second
	}
	if cfg.TestEventPoll == 0 {
		cfg.TestEventPoll = 100 * time.Millisecond
	}
	return &WebhookService{
		cfg:      cfg,
		now:      func() time.Time { return now().UTC() },
		catalog:  &catalogCache{store: cfg.Store, now: now},
		accounts: &accountCache{store: cfg.Store},
	}, nil
}

// writeAccount resolves the account a create or publish acts in: the
// caller's own for customer keys, the named (and existing) one for internal keys.
func (s *WebhookService) writeAccount(ctx context.Context, field, requested string) (string, error) {
	p := principalFrom(ctx)
	if !p.Internal {
		return customerAccount(p, field, requested)
	}
	if requested == "" {
		return "", webhookd.Invalid(field, "required with an internal key: name the account, accounts/acct_…")
	}
	id, err := parseName(field, requested, collAccounts, webhookd.PrefixAccount)
	if err != nil {
		return "", err
	}
	if err := s.accounts.exists(ctx, id); err != nil {
		return "", err
	}
	return id, nil
}

// readAccount resolves the account a listing covers: "" (every account) for
// an internal key that names none.
func (s *WebhookService) readAccount(ctx context.Context, field, requested string) (string, error) {
	p := principalFrom(ctx)
	if !p.Internal {
		return customerAccount(p, field, requested)
	}
	if requested == "" {
		return "", nil
	}
	return parseName(field, requested, collAccounts, webhookd.PrefixAccount)
}

// customerAccount accepts the customer's own account, named or implied.
// Naming another account is answered as if it did not exist.
func customerAccount(p *Principal, field, requested string) (string, error) {
	if requested == "" {
		return p.AccountID, nil
	}
	id, err := parseName(field, requested, collAccounts, webhookd.PrefixAccount)
	if err != nil {
		return "", err
	}
	if id != p.AccountID {
		return "", webhookd.NotFound("account", requested)
	}
	return id, nil
}

// scope is the account filter for reads by name: the caller's account, or
// "" for internal callers, who may read any.
func scope(ctx context.Context) string { return principalFrom(ctx).AccountID }

// ListEventTypes lists the catalog.
func (s *WebhookService) ListEventTypes(ctx context.Context, _ *webhooksv1.ListEventTypesRequest) (*webhooksv1.ListEventTypesResponse, error) {
	types, err := s.cfg.Store.ListEventTypes(ctx)
	if err != nil {
		return nil, err
	}
	pbs, err := convertAll(types, eventTypeToProto)
	if err != nil {
		return nil, err
	}
	return &webhooksv1.ListEventTypesResponse{EventTypes: pbs}, nil
}

// GetEventType gets one catalog entry.
func (s *WebhookService) GetEventType(ctx context.Context, req *webhooksv1.GetEventTypeRequest) (*webhooksv1.EventType, error) {
	name, err := parseEventTypeName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	t, err := s.cfg.Store.GetEventType(ctx, name)
	if err != nil {
		return nil, err
	}
	return eventTypeToProto(t)
}

// checkEventTypes refuses empty, duplicate or unknown event types.
func (s *WebhookService) checkEventTypes(ctx context.Context, field string, types []string) error {
	if len(types) == 0 {
		return webhookd.Invalid(field, "subscribe to at least one event type")
	}
	catalog, err := s.cfg.Store.ListEventTypes(ctx)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(catalog))
	for _, t := range catalog {
		known[t.Name] = true
	}
	seen := make(map[string]bool, len(types))
	for i, t := range types {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case !known[t]:
			return webhookd.Invalid(f, "unknown event type %q (see ListEventTypes)", t)
		case seen[t]:
			return webhookd.Invalid(f, "event type %q is listed twice", t)
		}
		seen[t] = true
	}
	return nil
}

// checkEndpoint validates the customer-settable fields of an endpoint.
func (s *WebhookService) checkEndpoint(ctx context.Context, e *webhookd.Endpoint) error {
	// A development endpoint's URL is never requested (its deliveries go
	// to listeners), so the rules that guard requests do not apply to it.
	if !e.Development {
		if err := validateEndpointURL("endpoint.url", e.URL, s.cfg.AllowHTTPEndpoints); err != nil {
			return err
		}
	}
	if err := validateLength("endpoint.description", e.Description, maxDescriptionBytes); err != nil {
		return err
	}
	if err := validateHeaders("endpoint.headers", e.Headers); err != nil {
		return err
	}
	return s.checkEventTypes(ctx, "endpoint.event_types", e.EventTypes)
}

// CreateEndpoint registers an endpoint with a fresh secret.
func (s *WebhookService) CreateEndpoint(ctx context.Context, req *webhooksv1.CreateEndpointRequest) (*webhooksv1.Endpoint, error) {
	in := req.GetEndpoint()
	if in == nil {
		return nil, webhookd.Invalid("endpoint", "required")
	}
	accountID, err := s.writeAccount(ctx, "account", req.GetAccount())
	if err != nil {
		return nil, err
	}
	now := s.now()
	e := &webhookd.Endpoint{
		ID:          s.cfg.IDs.New(webhookd.PrefixEndpoint),
		AccountID:   accountID,
		URL:         in.GetUrl(),
		Description: in.GetDescription(),
		EventTypes:  in.GetEventTypes(),
		Headers:     in.GetHeaders(),
		Secret:      webhookd.NewEndpointSecret(),
		CreateTime:  now,
		UpdateTime:  now,
	}
	if err := s.checkEndpoint(ctx, e); err != nil {
		return nil, err
	}
	if err := s.cfg.Store.CreateEndpoint(ctx, e, s.cfg.MaxEndpointsPerAccount); err != nil {
		return nil, err
	}
	pb := endpointToProto(e)
	pb.Secret = &e.Secret
	pb.Stats = &webhooksv1.EndpointStats{} // new: no deliveries yet
	return pb, nil
}

func (s *WebhookService) getEndpoint(ctx context.Context, field, name string) (*webhookd.Endpoint, error) {
	id, err := parseName(field, name, collEndpoints, webhookd.PrefixEndpoint)
	if err != nil {
		return nil, err
	}
	return s.cfg.Store.GetEndpoint(ctx, scope(ctx), id)
}

// GetEndpoint gets an endpoint without its secret.
func (s *WebhookService) GetEndpoint(ctx context.Context, req *webhooksv1.GetEndpointRequest) (*webhooksv1.Endpoint, error) {
	e, err := s.getEndpoint(ctx, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	return s.endpointWithStats(ctx, e)
}

// endpointWithStats is e as the API answers it: every call that returns an
// endpoint carries its stats, so that two answers about the same state
// compare equal.
func (s *WebhookService) endpointWithStats(ctx context.Context, e *webhookd.Endpoint) (*webhooksv1.Endpoint, error) {
	pb := endpointToProto(e)
	if err := s.addStats(ctx, pb); err != nil {
		return nil, err
	}
	return pb, nil
}

// statsWindow is the period of EndpointStats' counts.
const statsWindow = 24 * time.Hour

// addStats fills the stats of endpoints read within the caller's scope,
// with two statements for the lot, so that the dashboard's list costs the
// same whatever the number of endpoints.
func (s *WebhookService) addStats(ctx context.Context, endpoints ...*webhooksv1.Endpoint) error {
	ids := make([]string, len(endpoints))
	for i, e := range endpoints {
		ids[i] = strings.TrimPrefix(e.GetName(), collEndpoints+"/")
	}
	if len(ids) == 0 {
		return nil
	}
	stats, err := s.cfg.Store.EndpointStats(ctx, ids, s.now().Add(-statsWindow))
	if err != nil {
		return err
	}
	for i, e := range endpoints {
		e.Stats = endpointStatsToProto(stats[ids[i]])
	}
	return nil
}

// ListEndpoints lists endpoints newest first.
func (s *WebhookService) ListEndpoints(ctx context.Context, req *webhooksv1.ListEndpointsRequest) (*webhooksv1.ListEndpointsResponse, error) {
	accountID, err := s.readAccount(ctx, "account", req.GetAccount())
	if err != nil {
		return nil, err
	}
	items, next, err := listPage(req.GetPageSize(), req.GetPageToken(), []string{"endpoints", accountID},
		func(e *webhookd.Endpoint) string { return e.ID },
		func(p store.Page) ([]*webhookd.Endpoint, error) { return s.cfg.Store.ListEndpoints(ctx, accountID, p) })
	if err != nil {
		return nil, err
	}
	resp := &webhooksv1.ListEndpointsResponse{NextPageToken: next}
	for _, e := range items {
		resp.Endpoints = append(resp.Endpoints, endpointToProto(e))
	}
	if err := s.addStats(ctx, resp.Endpoints...); err != nil {
		return nil, err
	}
	return resp, nil
}

// updatableEndpointFields are the update_mask paths UpdateEndpoint accepts.
var updatableEndpointFields = []string{"url", "description", "event_types", "headers"}

// ignoredEndpointFields may appear in a mask but are never changed by UpdateEndpoint.
var ignoredEndpointFields = []string{"name", "account", "state", "disabled_reason", "secret", "create_time", "update_time",
	"disable_time", "failing_since_time", "etag", "development", "stats"}

// maxUpdateTries bounds how often UpdateEndpoint without an etag starts
// over after another write to the endpoint committed between its read and
// its write.
const maxUpdateTries = 5

// UpdateEndpoint changes the fields named by the update mask. It reads the
// endpoint, applies the mask and writes the settings back only if the
// endpoint's revision is still the one read. On a lost race it starts over
// from a fresh read, unless the caller sent an etag: then the caller's copy
// is stale and the call fails with ABORTED.
func (s *WebhookService) UpdateEndpoint(ctx context.Context, req *webhooksv1.UpdateEndpointRequest) (*webhooksv1.Endpoint, error) {
	in := req.GetEndpoint()
	if in == nil {
		return nil, webhookd.Invalid("endpoint", "required")
	}
	paths, err := endpointUpdatePaths(req)
	if err != nil {
		return nil, err
	}
	etag := in.GetEtag()
	if err := validateETag("endpoint.etag", etag); err != nil {
		return nil, err
	}
	for try := 1; ; try++ {
		e, err := s.getEndpoint(ctx, "endpoint.name", in.GetName())
		if err != nil {
			return nil, err
		}
		if etag != "" && etag != endpointETag(e) {
			return nil, endpointChangedSince(e.ID, etag)
		}
		for _, p := range paths {
			switch p {
			case "url":
				e.URL = in.GetUrl()
			case "description":
				e.Description = in.GetDescription()
			case "event_types":
				e.EventTypes = in.GetEventTypes()
			case "headers":
				e.Headers = in.GetHeaders()
			}
		}
		if err := s.checkEndpoint(ctx, e); err != nil {
			return nil, err
		}
		e.UpdateTime = s.now()
		err = s.cfg.Store.UpdateEndpoint(ctx, scope(ctx), e)
		switch {
		case err == nil:
			return s.endpointWithStats(ctx, e)
		case webhookd.KindOf(err) != webhookd.KindAborted:
			return nil, err
		case etag != "":
			return nil, endpointChangedSince(e.ID, etag)
		case try == maxUpdateTries:
			return nil, err
		}
	}
}

// endpointUpdatePaths returns the fields to change: the mask's paths, "*"
// expanded, or without a mask every updatable field set in the request.
func endpointUpdatePaths(req *webhooksv1.UpdateEndpointRequest) ([]string, error) {
	in := req.GetEndpoint()
	mask := req.GetUpdateMask().GetPaths()
	if len(mask) == 0 {
		var paths []string
		if in.GetUrl() != "" {
			paths = append(paths, "url")
		}
		if in.GetDescription() != "" {
			paths = append(paths, "description")
		}
		if len(in.GetEventTypes()) > 0 {
			paths = append(paths, "event_types")
		}
		if len(in.GetHeaders()) > 0 {
			paths = append(paths, "headers")
		}
		return paths, nil
	}
	var paths []string
	for _, p := range mask {
		if field, _, ok := strings.Cut(p, "."); ok && field == "headers" {
			p = field // a mask inferred from a JSON body may name map keys
		}
		switch {
		case p == "*":
			return updatableEndpointFields, nil
		case slices.Contains(updatableEndpointFields, p):
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		case slices.Contains(ignoredEndpointFields, p):
			// AIP-203: identifier and output-only fields in a mask are
			// ignored, so a resource read, changed and sent back updates.
		default:
			return nil, webhookd.Invalid("update_mask", "cannot update %q: updatable fields are url, description, event_types, headers", p)
		}
	}
	return paths, nil
}

// DeleteEndpoint deletes an endpoint and its history.
func (s *WebhookService) DeleteEndpoint(ctx context.Context, req *webhooksv1.DeleteEndpointRequest) (*emptypb.Empty, error) {
	id, err := parseName("name", req.GetName(), collEndpoints, webhookd.PrefixEndpoint)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Store.DeleteEndpoint(ctx, scope(ctx), id); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// EnableEndpoint makes an endpoint receive events again.
func (s *WebhookService) EnableEndpoint(ctx context.Context, req *webhooksv1.EnableEndpointRequest) (*webhooksv1.Endpoint, error) {
	id, err := parseName("name", req.GetName(), collEndpoints, webhookd.PrefixEndpoint)
	if err != nil {
		return nil, err
	}
	e, err := s.cfg.Store.EnableEndpoint(ctx, scope(ctx), id, s.now())
	if err != nil {
		return nil, err
	}
	return s.endpointWithStats(ctx, e)
}

// DisableEndpoint stops deliveries to an endpoint.
func (s *WebhookService) DisableEndpoint(ctx context.Context, req *webhooksv1.DisableEndpointRequest) (*webhooksv1.Endpoint, error) {
	if err := validateLength("reason", req.GetReason(), maxDisableReasonSize); err != nil {
		return nil, err
	}
	id, err := parseName("name", req.GetName(), collEndpoints, webhookd.PrefixEndpoint)
	if err != nil {
		return nil, err
	}
	reason := req.GetReason()
	if reason == "" {
		reason = "disabled through the API"
	}
	e, err := s.cfg.Store.DisableEndpoint(ctx, scope(ctx), id, reason, s.now())
	if err != nil {
		return nil, err
	}
	return s.endpointWithStats(ctx, e)
}

// GetEndpointSecret reveals an endpoint's secret.
func (s *WebhookService) GetEndpointSecret(ctx context.Context, req *webhooksv1.GetEndpointSecretRequest) (*webhooksv1.EndpointSecret, error) {
	id, err := parseSecretName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	e, err := s.cfg.Store.GetEndpoint(ctx, scope(ctx), id)
	if err != nil {
		return nil, err
	}
	return endpointSecretToProto(e, s.now()), nil
}

// RotateEndpointSecret replaces the secret; the old one signs too for the grace period.
func (s *WebhookService) RotateEndpointSecret(ctx context.Context, req *webhooksv1.RotateEndpointSecretRequest) (*webhooksv1.EndpointSecret, error) {
	id, err := parseSecretName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	now := s.now()
	e, err := s.cfg.Store.RotateEndpointSecret(ctx, scope(ctx), id, webhookd.NewEndpointSecret(), now, now.Add(s.cfg.SecretGracePeriod))
	if err != nil {
		return nil, err
	}
	return endpointSecretToProto(e, now), nil
}

// encodeData turns a payload into the exact bytes receivers will get (what
// JavaScript's JSON.stringify produces for it) and enforces the size limit.
func (s *WebhookService) encodeData(field string, data *structpb.Struct) ([]byte, error) {
	if data == nil {
		return nil, webhookd.Invalid(field, "required: the event's JSON object")
	}
	body, err := canonicalData(field, data)
	if err != nil {
		return nil, err
	}
	if err := s.checkDataSize(field, body); err != nil {
		return nil, err
	}
	return body, nil
}

// checkDataSize enforces the size limit on a payload's stored bytes.
func (s *WebhookService) checkDataSize(field string, body []byte) error {
	if len(body) > s.cfg.MaxPayloadBytes {
		return webhookd.Invalid(field, "is %d bytes; at most %d are allowed", len(body), s.cfg.MaxPayloadBytes)
	}
	return nil
}

// canonicalData is the one route from a payload to its stored bytes, so
// that every event's body has the same key order whatever it came from:
// protojson writes a Struct's keys sorted, then the canonicaliser moves
// integer-like ones first, as JavaScript orders them.
func canonicalData(field string, data *structpb.Struct) ([]byte, error) {
	raw, err := protojson.Marshal(data)
	if err != nil {
		return nil, webhookd.Invalid(field, "cannot be encoded as JSON: %v", err)
	}
	body, err := payload.CanonicalizeObject(raw)
	if err != nil {
		return nil, webhookd.Invalid(field, "%v", err)
	}
	return body, nil
}

// asStored makes a payload mean exactly what its stored bytes mean: JSON,
// as JSON.stringify writes it, has no negative zero (-0 is written 0), and
// that is the one value canonicalData does not keep. A Struct holds only
// doubles, strings, booleans, nulls, lists and objects, and every double but
// -0 survives the round trip through its shortest JavaScript form. It changes
// data in place.
func asStored(data *structpb.Struct) {
	for _, v := range data.GetFields() {
		asStoredValue(v)
	}
}

func asStoredValue(v *structpb.Value) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		if k.NumberValue == 0 {
			k.NumberValue = 0 // +0, whichever zero it was
		}
	case *structpb.Value_StructValue:
		asStored(k.StructValue)
	case *structpb.Value_ListValue:
		for _, e := range k.ListValue.GetValues() {
			asStoredValue(e)
		}
	}
}

// PublishEvent stores an event and its deliveries, then dispatches them.
func (s *WebhookService) PublishEvent(ctx context.Context, req *webhooksv1.PublishEventRequest) (*webhooksv1.Event, error) {
	stored, created, err := s.publish(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	if !created {
		return eventToProto(stored) // the first event of this idempotency key
	}
	// The request's data is what was stored (canonical JSON of the same
	// values) but for its negative zeros, so the response reuses it, made
	// to match, instead of decoding the stored bytes: it shows what a
	// receiver and GetEvent will see.
	asStored(req.GetEvent().GetData())
	pb := eventMetaToProto(stored)
	pb.Data = req.GetEvent().GetData()
	return pb, nil
}

// publish validates a publish request, stores its event and deliveries
// and dispatches them. data, when not nil, is the event's data as stored
// bytes already, req's event carrying none (REST, publish_rest.go);
// otherwise req's data is encoded. created is false when the idempotency
// key names an earlier event, which is returned.
func (s *WebhookService) publish(ctx context.Context, req *webhooksv1.PublishEventRequest, data []byte) (stored *webhookd.Event, created bool, err error) {
	ev, err := s.newEvent(ctx, req, data)
	if err != nil {
		return nil, false, err
	}
	stored, deliveries, created, err := s.cfg.Store.PublishEvent(ctx, ev, s.cfg.IDs.New)
	if err != nil {
		return nil, false, err
	}
	if created {
		s.dispatch(ctx, stored, deliveries)
	}
	return stored, created, nil
}

// newEvent validates a publish request and returns the event it
// publishes; data is as for publish. Errors name the request's fields.
func (s *WebhookService) newEvent(ctx context.Context, req *webhooksv1.PublishEventRequest, data []byte) (*webhookd.Event, error) {
	in := req.GetEvent()
	if in == nil {
		return nil, webhookd.Invalid("event", "required")
	}
	accountID, err := s.writeAccount(ctx, "account", req.GetAccount())
	if err != nil {
		return nil, err
	}
	if in.GetType() == "" {
		return nil, webhookd.Invalid("event.type", "required")
	}
	if _, err := s.catalog.get(ctx, in.GetType()); err != nil {
		if webhookd.KindOf(err) == webhookd.KindNotFound {
			return nil, webhookd.Invalid("event.type", "unknown event type %q (see ListEventTypes)", in.GetType())
		}
		return nil, err
	}
	if err := validateLength("idempotency_key", req.GetIdempotencyKey(), maxIdempotencyKey); err != nil {
		return nil, err
	}
	if data == nil {
		data, err = s.encodeData("event.data", in.GetData())
	} else {
		err = s.checkDataSize("event.data", data)
	}
	if err != nil {
		return nil, err
	}
	return &webhookd.Event{
		ID:             s.cfg.IDs.New(webhookd.PrefixEvent),
		AccountID:      accountID,
		Type:           in.GetType(),
		Data:           data,
		IdempotencyKey: req.GetIdempotencyKey(),
		CreateTime:     s.now(),
	}, nil
}

// GetEvent gets an event.
func (s *WebhookService) GetEvent(ctx context.Context, req *webhooksv1.GetEventRequest) (*webhooksv1.Event, error) {
	id, err := parseName("name", req.GetName(), collEvents, webhookd.PrefixEvent)
	if err != nil {
		return nil, err
	}
	ev, err := s.cfg.Store.GetEvent(ctx, scope(ctx), id)
	if err != nil {
		return nil, err
	}
	return eventToProto(ev)
}

// timeRange reads an optional after/before pair and checks its order.
func timeRange(after, before *timestamppb.Timestamp) (time.Time, time.Time, error) {
	var a, b time.Time
	if after != nil {
		if err := after.CheckValid(); err != nil {
			return a, b, webhookd.Invalid("create_time_after", "not a valid timestamp")
		}
		a = after.AsTime()
	}
	if before != nil {
		if err := before.CheckValid(); err != nil {
			return a, b, webhookd.Invalid("create_time_before", "not a valid timestamp")
		}
		b = before.AsTime()
	}
	if !a.IsZero() && !b.IsZero() && !a.Before(b) {
		return a, b, webhookd.Invalid("create_time_before", "must be later than create_time_after")
	}
	return a, b, nil
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// ListEvents lists events newest first with filters.
func (s *WebhookService) ListEvents(ctx context.Context, req *webhooksv1.ListEventsRequest) (*webhooksv1.ListEventsResponse, error) {
	if err := validateFilterValues("event_types", len(req.GetEventTypes())); err != nil {
		return nil, err
	}
	accountID, err := s.readAccount(ctx, "account", req.GetAccount())
	if err != nil {
		return nil, err
	}
	after, before, err := timeRange(req.GetCreateTimeAfter(), req.GetCreateTimeBefore())
	if err != nil {
		return nil, err
	}
	f := store.EventFilter{AccountID: accountID, Types: req.GetEventTypes(), CreatedAfter: after, CreatedBefore: before}
	if name := req.GetAfterEvent(); name != "" {
		// Only the id's shape is checked: it is compared, not looked up, so
		// a cursor outlives its event's retention and reveals nothing of
		// other accounts.
		if f.AfterID, err = parseName("after_event", name, collEvents, webhookd.PrefixEvent); err != nil {
			return nil, err
		}
	}
	query := append([]string{"events", accountID, timeKey(after), timeKey(before), f.AfterID}, f.Types...)
	items, next, err := listPage(req.GetPageSize(), req.GetPageToken(), query,
		func(e *webhookd.Event) string { return e.ID },
		func(p store.Page) ([]*webhookd.Event, error) { return s.cfg.Store.ListEvents(ctx, f, p) })
	if err != nil {
		return nil, err
	}
	pbs, err := convertAll(items, eventToProto)
	if err != nil {
		return nil, err
	}
	return &webhooksv1.ListEventsResponse{Events: pbs, NextPageToken: next}, nil
}

// GetDelivery gets a delivery with its attempts.
func (s *WebhookService) GetDelivery(ctx context.Context, req *webhooksv1.GetDeliveryRequest) (*webhooksv1.Delivery, error) {
	id, err := parseName("name", req.GetName(), collDeliveries, webhookd.PrefixDelivery)
	if err != nil {
		return nil, err
	}
	d, err := s.cfg.Store.GetDelivery(ctx, scope(ctx), id)
	if err != nil {
		return nil, err
	}
	ev, err := s.cfg.Store.GetEvent(ctx, d.AccountID, d.EventID)
	if err != nil {
		return nil, err
	}
	pb := deliveryToProto(d)
	// The body is built by the engine's own function, so what the
	// dashboard shows is what the receiver got and the signature covers.
	pb.Body = string(worker.Envelope(ev))
	return pb, nil
}

var deliveryStatusFromProto = map[webhooksv1.Delivery_Status]webhookd.DeliveryStatus{
	webhooksv1.Delivery_PENDING:   webhookd.DeliveryPending,
	webhooksv1.Delivery_SUCCEEDED: webhookd.DeliverySucceeded,
	webhooksv1.Delivery_FAILED:    webhookd.DeliveryFailed,
}

// ListDeliveries lists the deliveries of an endpoint or an event.
func (s *WebhookService) ListDeliveries(ctx context.Context, req *webhooksv1.ListDeliveriesRequest) (*webhooksv1.ListDeliveriesResponse, error) {
	if err := validateFilterValues("statuses", len(req.GetStatuses())); err != nil {
		return nil, err
	}
	if err := validateFilterValues("event_types", len(req.GetEventTypes())); err != nil {
		return nil, err
	}
	f := store.DeliveryFilter{AccountID: scope(ctx), EventTypes: req.GetEventTypes()}
	parent := req.GetParent()
	if endpointID, err := parseName("parent", parent, collEndpoints, webhookd.PrefixEndpoint); err == nil {
		// Resolving the parent first makes another account's endpoint a 404
		// rather than an empty list that confirms nothing but leaks nothing either.
		if _, err := s.cfg.Store.GetEndpoint(ctx, f.AccountID, endpointID); err != nil {
			return nil, err
		}
		f.EndpointID = endpointID
	} else if eventID, err := parseName("parent", parent, collEvents, webhookd.PrefixEvent); err == nil {
		if _, err := s.cfg.Store.GetEvent(ctx, f.AccountID, eventID); err != nil {
			return nil, err
		}
		f.EventID = eventID
	} else {
		return nil, webhookd.Invalid("parent", "must be endpoints/ep_… or events/evt_…, got %q", parent)
	}
	statusKeys := make([]string, 0, len(req.GetStatuses()))
	for i, st := range req.GetStatuses() {
		ds, ok := deliveryStatusFromProto[st]
		if !ok {
			return nil, webhookd.Invalid("statuses["+strconv.Itoa(i)+"]", "must be PENDING, SUCCEEDED or FAILED")
		}
		f.Statuses = append(f.Statuses, ds)
		statusKeys = append(statusKeys, string(ds))
	}
	var err error
	f.CreatedAfter, f.CreatedBefore, err = timeRange(req.GetCreateTimeAfter(), req.GetCreateTimeBefore())
	if err != nil {
		return nil, err
	}
	query := append([]string{"deliveries", parent, timeKey(f.CreatedAfter), timeKey(f.CreatedBefore)}, statusKeys...)
	query = append(query, f.EventTypes...)
	items, next, err := listPage(req.GetPageSize(), req.GetPageToken(), query,
		func(d *webhookd.Delivery) string { return d.ID },
		func(p store.Page) ([]*webhookd.Delivery, error) { return s.cfg.Store.ListDeliveries(ctx, f, p) })
	if err != nil {
		return nil, err
	}
	resp := &webhooksv1.ListDeliveriesResponse{NextPageToken: next}
	for _, d := range items {
		resp.Deliveries = append(resp.Deliveries, deliveryToProto(d))
	}
	return resp, nil
}

// RevokeCurrentSession ends the portal session the call is made with.
func (s *WebhookService) RevokeCurrentSession(ctx context.Context, _ *webhooksv1.RevokeCurrentSessionRequest) (*emptypb.Empty, error) {
	p := principalFrom(ctx)
	if p.SessionID == "" {
		return nil, webhookd.FailedPrecondition("the call is not made with a portal session: revoke API keys with the admin API's RevokeApiKey")
	}
	if _, err := s.cfg.Store.RevokePortalSession(ctx, p.AccountID, p.SessionID, s.now()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
