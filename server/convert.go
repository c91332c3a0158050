package server

import (
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// Conversions from domain values to API messages. Secrets and tokens are
// never set here: the handlers that may show them set them explicitly.

// convertAll converts every item, stopping at the first failure.
func convertAll[T, P any](items []T, convert func(T) (P, error)) ([]P, error) {
	out := make([]P, 0, len(items))
	for _, item := range items {
		p, err := convert(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// structOf decodes stored JSON into a Struct. Stored payloads were validated
// on the way in, so failure means corruption: it is reported, not hidden.
func structOf(raw []byte) (*structpb.Struct, error) {
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, s); err != nil {
		return nil, webhookd.Internal("stored payload is not a JSON object", err)
	}
	return s, nil
}

func accountToProto(a *webhookd.Account) *webhooksv1.Account {
	return &webhooksv1.Account{
		Name:        resourceName(collAccounts, a.ID),
		DisplayName: a.DisplayName,
		CreateTime:  timestampOrNil(a.CreateTime),
	}
}

func apiKeyToProto(k *webhookd.APIKey) *webhooksv1.ApiKey {
	pb := &webhooksv1.ApiKey{
		Name:        resourceName(collAPIKeys, k.ID),
		Internal:    k.Internal,
		DisplayName: k.DisplayName,
		CreateTime:  timestampOrNil(k.CreateTime),
		RevokeTime:  timestampOrNil(k.RevokeTime),
	}
	if k.AccountID != "" {
		pb.Account = resourceName(collAccounts, k.AccountID)
	}
	return pb
}

// endpointStatsToProto converts st; nil (an endpoint without deliveries)
// is all zeros.
func endpointStatsToProto(st *webhookd.EndpointStats) *webhooksv1.EndpointStats {
	if st == nil {
		return &webhooksv1.EndpointStats{}
	}
	return &webhooksv1.EndpointStats{
		Succeeded_24H: st.Succeeded,
		Failed_24H:    st.Failed,
		LastError:     st.LastError,
		LastErrorTime: timestampOrNil(st.LastErrorTime),
	}
}

func portalSessionToProto(ps *webhookd.PortalSession) *webhooksv1.PortalSession {
	return &webhooksv1.PortalSession{
		Name:       resourceName(collSessions, ps.ID),
		Account:    resourceName(collAccounts, ps.AccountID),
		CreateTime: timestampOrNil(ps.CreateTime),
		ExpireTime: timestampOrNil(ps.ExpireTime),
		RevokeTime: timestampOrNil(ps.RevokeTime),
	}
}

func eventTypeToProto(t *webhookd.EventType) (*webhooksv1.EventType, error) {
	example, err := structOf(t.Example)
	if err != nil {
		return nil, err
	}
	return &webhooksv1.EventType{
		Name:        resourceName(collEventTypes, t.Name),
		Type:        t.Name,
		Description: t.Description,
		Example:     example,
	}, nil
}

func endpointToProto(e *webhookd.Endpoint) *webhooksv1.Endpoint {
	state := webhooksv1.Endpoint_ENABLED
	if e.Disabled {
		state = webhooksv1.Endpoint_DISABLED
	}
	return &webhooksv1.Endpoint{
		Name:             resourceName(collEndpoints, e.ID),
		Account:          resourceName(collAccounts, e.AccountID),
		Url:              e.URL,
		Description:      e.Description,
		EventTypes:       append([]string(nil), e.EventTypes...),
		Headers:          e.Headers,
		State:            state,
		DisabledReason:   e.DisabledReason,
		CreateTime:       timestampOrNil(e.CreateTime),
		UpdateTime:       timestampOrNil(e.UpdateTime),
		DisableTime:      timestampOrNil(e.DisableTime),
		FailingSinceTime: timestampOrNil(e.FailingSince),
		Development:      e.Development,
		Etag:             endpointETag(e),
	}
}

func endpointSecretToProto(e *webhookd.Endpoint, now time.Time) *webhooksv1.EndpointSecret {
	pb := &webhooksv1.EndpointSecret{
		Name:   resourceName(collEndpoints, e.ID) + "/secret",
		Secret: e.Secret,
	}
	if e.PreviousSecret != "" && e.PreviousSecretExpireTime.After(now) {
		pb.PreviousSecret = e.PreviousSecret
		pb.PreviousSecretExpireTime = timestamppb.New(e.PreviousSecretExpireTime)
	}
	return pb
}

func eventToProto(ev *webhookd.Event) (*webhooksv1.Event, error) {
	data, err := structOf(ev.Data)
	if err != nil {
		return nil, err
	}
	pb := eventMetaToProto(ev)
	pb.Data = data
	return pb, nil
}

// eventMetaToProto converts everything of an event but its data.
func eventMetaToProto(ev *webhookd.Event) *webhooksv1.Event {
	return &webhooksv1.Event{
		Name:           resourceName(collEvents, ev.ID),
		Account:        resourceName(collAccounts, ev.AccountID),
		Type:           ev.Type,
		IdempotencyKey: ev.IdempotencyKey,
		Test:           ev.Test,
		CreateTime:     timestampOrNil(ev.CreateTime),
	}
}

var deliveryStatusToProto = map[webhookd.DeliveryStatus]webhooksv1.Delivery_Status{
	webhookd.DeliveryPending:   webhooksv1.Delivery_PENDING,
	webhookd.DeliverySucceeded: webhooksv1.Delivery_SUCCEEDED,
	webhookd.DeliveryFailed:    webhooksv1.Delivery_FAILED,
}

var attemptTriggerToProto = map[webhookd.AttemptTrigger]webhooksv1.Attempt_Trigger{
	webhookd.TriggerInitial: webhooksv1.Attempt_INITIAL,
	webhookd.TriggerRetry:   webhooksv1.Attempt_RETRY,
	webhookd.TriggerManual:  webhooksv1.Attempt_MANUAL,
	webhookd.TriggerTest:    webhooksv1.Attempt_TEST,
}

func deliveryToProto(d *webhookd.Delivery) *webhooksv1.Delivery {
	pb := &webhooksv1.Delivery{
		Name:                   resourceName(collDeliveries, d.ID),
		Account:                resourceName(collAccounts, d.AccountID),
		Event:                  resourceName(collEvents, d.EventID),
		Endpoint:               resourceName(collEndpoints, d.EndpointID),
		EventType:              d.EventType,
		Status:                 deliveryStatusToProto[d.Status],
		AttemptCount:           int32(d.AttemptCount),
		NextAttemptTime:        timestampOrNil(d.NextAttemptTime),
		LastError:              d.LastError,
		LastResponseStatusCode: int32(d.LastResponseStatus),
		CreateTime:             timestampOrNil(d.CreateTime),
		UpdateTime:             timestampOrNil(d.UpdateTime),
	}
	for _, a := range d.Attempts {
		pb.Attempts = append(pb.Attempts, attemptToProto(a))
	}
	return pb
}

func attemptToProto(a *webhookd.Attempt) *webhooksv1.Attempt {
	return &webhooksv1.Attempt{
		Id:                 a.ID,
		Number:             int32(a.Number),
		Trigger:            attemptTriggerToProto[a.Trigger],
		StartTime:          timestampOrNil(a.StartTime),
		Duration:           durationpb.New(a.Duration),
		ResponseStatusCode: int32(a.ResponseStatus),
		ResponseBody:       a.ResponseBody,
		ErrorMessage:       a.Error,
	}
}
