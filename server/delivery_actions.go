package server

import (
	"context"
	"encoding/json"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// The actions on deliveries: test events, manual retries and recovery. Each
// writes to the database first and then dispatches, like publishing, so a
// lost dispatch is repaired by the engine's reconciler.

// dispatchTimeout bounds the hand-off of committed deliveries to the
// schedule. The database already holds them and the reconciler schedules
// whatever a dispatch missed, so a Redis that is down or hung may cost the
// caller this much at most: without a bound, a publish that had committed
// took 5-10 s against a frozen Redis (go-redis read timeouts and retries),
// long enough for clients to give up and publish again.
const dispatchTimeout = time.Second

// dispatch hands deliveries to the engine, logging (not returning) failures.
// It runs even if the caller has gone: what it hands over is committed.
func (s *WebhookService) dispatch(ctx context.Context, ev *webhookd.Event, deliveries []*webhookd.Delivery) {
	if len(deliveries) == 0 || s.cfg.Queue == nil {
		return
	}
	// The queue gets copies: the engine's hand-off attempts them in
	// its own goroutines and records the outcome into them, while the
	// caller still answers from its own (SendTestEvent, RetryDelivery).
	owned := make([]*webhookd.Delivery, len(deliveries))
	for i, d := range deliveries {
		c := *d
		owned[i] = &c
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dispatchTimeout)
	defer cancel()
	if err := s.cfg.Queue.Enqueue(ctx, ev, owned); err != nil {
		s.cfg.Logger.WarnContext(ctx, "dispatch failed; the reconciler will schedule the deliveries",
			"deliveries", len(deliveries), "error", err)
	}
}

// exampleData returns the data of an event type's example as it would be
// stored had it been published: through a Struct, as the API carries data,
// so that a test event's body has the key order of a published one rather
// than the example's.
func exampleData(t *webhookd.EventType) ([]byte, error) {
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(t.Example, &envelope); err != nil || len(envelope.Data) == 0 {
		return nil, webhookd.Internal("event type example has no data", err)
	}
	data := &structpb.Struct{}
	if err := protojson.Unmarshal(envelope.Data, data); err != nil {
		return nil, webhookd.Internal("event type example's data is not a JSON object", err)
	}
	body, err := canonicalData("data", data)
	if err != nil {
		return nil, webhookd.Internal("event type example's data cannot be stored", err)
	}
	return body, nil
}

// SendTestEvent sends a test event to one endpoint and, with wait, returns
// the attempt's result.
func (s *WebhookService) SendTestEvent(ctx context.Context, req *webhooksv1.SendTestEventRequest) (*webhooksv1.SendTestEventResponse, error) {
	ep, err := s.getEndpoint(ctx, "endpoint", req.GetEndpoint())
	if err != nil {
		return nil, err
	}
	if req.GetEventType() == "" {
		return nil, webhookd.Invalid("event_type", "required")
	}
	et, err := s.catalog.get(ctx, req.GetEventType())
	if err != nil {
		if webhookd.KindOf(err) == webhookd.KindNotFound {
			return nil, webhookd.Invalid("event_type", "unknown event type %q (see ListEventTypes)", req.GetEventType())
		}
		return nil, err
	}
	if ep.Disabled {
		return nil, &webhookd.Error{Kind: webhookd.KindFailedPrecondition, Message: "the endpoint is disabled: enable it to send a test event"}
	}
	var data []byte
	if req.GetData() != nil {
		data, err = s.encodeData("data", req.GetData())
	} else {
		data, err = exampleData(et)
	}
	if err != nil {
		return nil, err
	}
	ev := &webhookd.Event{
		ID:         s.cfg.IDs.New(webhookd.PrefixEvent),
		AccountID:  ep.AccountID,
		Type:       et.Name,
		Data:       data,
		Test:       true,
		CreateTime: s.now(),
	}
	d, err := s.cfg.Store.CreateTestDelivery(ctx, ev, ep.ID, s.cfg.IDs.New)
	if err != nil {
		return nil, err
	}
	s.dispatch(ctx, ev, []*webhookd.Delivery{d})
	if req.GetWait() {
		if d, err = s.awaitAttempt(ctx, d); err != nil {
			return nil, err
		}
	}
	evPB, err := eventToProto(ev)
	if err != nil {
		return nil, err
	}
	resp := &webhooksv1.SendTestEventResponse{Event: evPB, Delivery: deliveryToProto(d)}
	if n := len(d.Attempts); n > 0 {
		resp.Attempt = attemptToProto(d.Attempts[n-1])
		resp.Delivery.Attempts = nil // the attempt is in its own field
	}
	return resp, nil
}

// awaitAttempt waits until the delivery has an attempt or TestEventWait
// passes; then it returns the delivery as it stands (with no attempt when
// no worker got to it in time). This process's engine wakes it when it
// records the attempt; an attempt made by another process (api and worker
// roles apart, or a hand-off that overflowed to the schedule) is found by
// reading the delivery back at growing intervals. Reading every 50 ms cost
// 100 waiters on a hanging receiver 6.5 CPU-seconds.
func (s *WebhookService) awaitAttempt(ctx context.Context, d *webhookd.Delivery) (*webhookd.Delivery, error) {
	var recorded <-chan struct{}
	if s.cfg.Attempts != nil {
		// Before the first read, so that an attempt recorded in between
		// still wakes this waiter.
		ch, stop := s.cfg.Attempts.WatchAttempts(d.ID)
		defer stop()
		recorded = ch
	}
	deadline := time.NewTimer(s.cfg.TestEventWait)
	defer deadline.Stop()
	poll := s.cfg.TestEventPoll
	maxPoll := max(poll, maxTestEventPoll)
	next := time.NewTimer(poll)
	defer next.Stop()
	for {
		got, err := s.cfg.Store.GetDelivery(ctx, d.AccountID, d.ID)
		if err != nil {
			return nil, err
		}
		if got.AttemptCount > 0 {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return s.cfg.Store.GetDelivery(ctx, d.AccountID, d.ID)
		case <-recorded:
		case <-next.C:
			poll = min(2*poll, maxPoll)
		}
		next.Reset(poll)
	}
}

// maxTestEventPoll bounds the interval at which a waiting SendTestEvent
// reads its delivery back (see awaitAttempt).
const maxTestEventPoll = 2 * time.Second

// RetryDelivery attempts a delivery again now.
func (s *WebhookService) RetryDelivery(ctx context.Context, req *webhooksv1.RetryDeliveryRequest) (*webhooksv1.Delivery, error) {
	id, err := parseName("name", req.GetName(), collDeliveries, webhookd.PrefixDelivery)
	if err != nil {
		return nil, err
	}
	d, err := s.cfg.Store.RetryDelivery(ctx, scope(ctx), id, s.now())
	if err != nil {
		return nil, err
	}
	s.dispatch(ctx, nil, []*webhookd.Delivery{d})
	return deliveryToProto(d), nil
}

// RecoverEndpoint re-sends an endpoint's failed deliveries since a time.
func (s *WebhookService) RecoverEndpoint(ctx context.Context, req *webhooksv1.RecoverEndpointRequest) (*webhooksv1.RecoverEndpointResponse, error) {
	ep, err := s.getEndpoint(ctx, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	since := req.GetSince()
	if since == nil {
		return nil, webhookd.Invalid("since", "required: re-send failed deliveries created at or after this time")
	}
	if err := since.CheckValid(); err != nil {
		return nil, webhookd.Invalid("since", "not a valid timestamp")
	}
	if ep.Disabled {
		return nil, &webhookd.Error{Kind: webhookd.KindFailedPrecondition, Message: "the endpoint is disabled: enable it before recovering its deliveries"}
	}
	ds, err := s.cfg.Store.RecoverEndpoint(ctx, scope(ctx), ep.ID, since.AsTime(), s.now())
	if err != nil {
		return nil, err
	}
	s.dispatch(ctx, nil, ds)
	return &webhooksv1.RecoverEndpointResponse{DeliveryCount: int32(len(ds))}, nil
}
