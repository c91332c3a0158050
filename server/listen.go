package server

import (
	"context"
	"slices"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/worker"
)

// developmentEndpointURL stands in for the URL of a development endpoint,
// which is never requested: webhookctl listen forwards to a URL of its
// own, on the developer's machine.
const developmentEndpointURL = "webhookctl://listen"

// ListenEndpointDeliveries connects a listener to a development endpoint
// (see worker/listen.go for how deliveries reach it from any worker).
func (s *WebhookService) ListenEndpointDeliveries(stream webhooksv1.WebhookService_ListenEndpointDeliveriesServer) error {
	ctx := stream.Context()
	p := principalFrom(ctx)
	if p.Internal {
		return &webhookd.Error{Kind: webhookd.KindPermissionDenied,
			Message: "listening needs an API key of the endpoint's account; an internal key cannot listen"}
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return webhookd.Invalid("start", "required as the first message of the stream")
	}
	ep, err := s.listenedEndpoint(ctx, p.AccountID, start)
	if err != nil {
		return err
	}
	if s.cfg.Listeners == nil {
		return webhookd.Unavailable("listening is not available on this webhookd", nil)
	}
	ln, err := s.cfg.Listeners.Attach(ep.ID)
	if err != nil {
		return err
	}
	defer ln.Close()
	ready := endpointToProto(ep)
	ready.Secret = &ep.Secret
	if err := stream.Send(&webhooksv1.ListenEndpointDeliveriesResponse{
		Message: &webhooksv1.ListenEndpointDeliveriesResponse_Ready_{Ready: &webhooksv1.ListenEndpointDeliveriesResponse_Ready{Endpoint: ready}},
	}); err != nil {
		return err
	}
	s.cfg.Logger.InfoContext(ctx, "listener connected", "endpoint", ep.ID)
	defer s.cfg.Logger.InfoContext(ctx, "listener disconnected", "endpoint", ep.ID)

	received := make(chan error, 1)
	go func() { received <- s.receiveResults(stream, ln) }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-received:
			return err
		case <-ln.Done():
			return webhookd.Unavailable("webhookd is stopping; reconnect", nil)
		case fw := <-ln.Forwards():
			if err := stream.Send(&webhooksv1.ListenEndpointDeliveriesResponse{
				Message: &webhooksv1.ListenEndpointDeliveriesResponse_Forward_{Forward: forwardToProto(fw)},
			}); err != nil {
				return err
			}
		}
	}
}

// receiveResults hands the listener's results to ln until the stream ends;
// a malformed message ends it with an error naming the field.
func (s *WebhookService) receiveResults(stream webhooksv1.WebhookService_ListenEndpointDeliveriesServer, ln *worker.Listener) error {
	for {
		msg, err := stream.Recv()
		if err != nil {
			return err
		}
		r := msg.GetResult()
		if r == nil {
			return webhookd.Invalid("start", "sent twice: after the first message, send only results")
		}
		if err := validateLength("result.body_excerpt", r.GetBodyExcerpt(), maxResultExcerptBytes); err != nil {
			return err
		}
		if err := validateLength("result.error", r.GetError(), maxResultErrorBytes); err != nil {
			return err
		}
		if code := r.GetStatusCode(); code != 0 && (code < 100 || code > 599) {
			return webhookd.Invalid("result.status_code", "must be an HTTP status (100 to 599) or 0 when no response arrived, not %d", code)
		}
		if !ln.Answer(r.GetAttempt(), worker.Answer{
			StatusCode:  int(r.GetStatusCode()),
			Duration:    r.GetDuration().AsDuration(),
			BodyExcerpt: r.GetBodyExcerpt(),
			Error:       r.GetError(),
		}) {
			// Late (recorded as timed out already) or unknown: the stream
			// goes on, so that one slow request does not end the listener.
			s.cfg.Logger.InfoContext(stream.Context(), "dropped a listener result nothing waits for", "attempt", r.GetAttempt())
		}
	}
}

// Bounds of a listener's result: webhookd keeps 4 KiB of a body, and the
// rest is allowance for a client that does not cut it itself.
const (
	maxResultExcerptBytes = 64 << 10
	maxResultErrorBytes   = 4 << 10
)

// listenedEndpoint resolves the endpoint a listener asks for: a named
// development endpoint of the caller's account, or the account's development
// endpoint, created on first use. Event types, when given, replace its own.
func (s *WebhookService) listenedEndpoint(ctx context.Context, accountID string, start *webhooksv1.ListenEndpointDeliveriesRequest_Start) (*webhookd.Endpoint, error) {
	types := start.GetEventTypes()
	if len(types) > 0 {
		if err := s.checkEventTypes(ctx, "start.event_types", types); err != nil {
			return nil, err
		}
	}
	var ep *webhookd.Endpoint
	var err error
	if name := start.GetEndpoint(); name != "" {
		id, err := parseName("start.endpoint", name, collEndpoints, webhookd.PrefixEndpoint)
		if err != nil {
			return nil, err
		}
		if ep, err = s.cfg.Store.GetEndpoint(ctx, accountID, id); err != nil {
			return nil, err
		}
		if !ep.Development {
			return nil, &webhookd.Error{Kind: webhookd.KindFailedPrecondition, Field: "start.endpoint",
				Message: name + " is not a development endpoint: its deliveries go to its URL. Leave start.endpoint unset to listen to your account's development endpoint"}
		}
	} else if ep, err = s.developmentEndpoint(ctx, accountID, types); err != nil {
		return nil, err
	}
	if len(types) > 0 && !slices.Equal(types, ep.EventTypes) {
		ep.EventTypes, ep.UpdateTime = types, s.now()
		if err := s.cfg.Store.UpdateEndpoint(ctx, accountID, ep); err != nil {
			return nil, err
		}
	}
	if ep.Disabled {
		// Disabled while no one listened (auto-disable counts the "no
		// listener connected" failures): connecting a listener is asking
		// for deliveries again.
		if ep, err = s.cfg.Store.EnableEndpoint(ctx, accountID, ep.ID, s.now()); err != nil {
			return nil, err
		}
	}
	return ep, nil
}

// developmentEndpoint returns the account's development endpoint, creating
// it, subscribed to types or to the whole catalog, when it has none.
func (s *WebhookService) developmentEndpoint(ctx context.Context, accountID string, types []string) (*webhookd.Endpoint, error) {
	ep, err := s.cfg.Store.DevelopmentEndpoint(ctx, accountID)
	if webhookd.KindOf(err) != webhookd.KindNotFound {
		return ep, err
	}
	if len(types) == 0 {
		catalog, err := s.cfg.Store.ListEventTypes(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range catalog {
			types = append(types, t.Name)
		}
	}
	now := s.now()
	ep = &webhookd.Endpoint{
		ID:          s.cfg.IDs.New(webhookd.PrefixEndpoint),
		AccountID:   accountID,
		URL:         developmentEndpointURL,
		Description: "Development endpoint: webhookctl listen forwards its deliveries to your local server",
		EventTypes:  types,
		Secret:      webhookd.NewEndpointSecret(),
		CreateTime:  now,
		UpdateTime:  now,
		Development: true,
	}
	err = s.cfg.Store.CreateEndpoint(ctx, ep, s.cfg.MaxEndpointsPerAccount)
	if webhookd.KindOf(err) == webhookd.KindConflict {
		// Another listener created it at the same time: use that one.
		return s.cfg.Store.DevelopmentEndpoint(ctx, accountID)
	}
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.InfoContext(ctx, "created the account's development endpoint", "account", accountID, "endpoint", ep.ID)
	return ep, nil
}

func forwardToProto(fw *worker.Forward) *webhooksv1.ListenEndpointDeliveriesResponse_Forward {
	return &webhooksv1.ListenEndpointDeliveriesResponse_Forward{
		Attempt:       fw.AttemptID,
		Delivery:      resourceName(collDeliveries, fw.DeliveryID),
		Event:         resourceName(collEvents, fw.EventID),
		EventType:     fw.EventType,
		AttemptNumber: int32(fw.AttemptNumber),
		Headers:       fw.Headers,
		Body:          fw.Body,
	}
}
