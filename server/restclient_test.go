package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// restClient implements the generated gRPC client interfaces over the REST
// gateway, with plain net/http and JSON, the way a customer's code calls it.
// The same API cases then run over both surfaces. Errors are rebuilt as gRPC
// statuses from the JSON error body, after checking that the HTTP status is
// the one the gateway promises for that code.
type restClient struct {
	base string
	http *http.Client
}

var (
	_ webhooksv1.WebhookServiceClient = (*restClient)(nil)
	_ webhooksv1.AdminServiceClient   = (*restClient)(nil)
)

// httpStatusOf is the mapping customers rely on (DESIGN: 400/401/403/404/409/429),
// for every code but OK: an error whose code is missing here fails the call,
// so a new code cannot slip through unchecked.
var httpStatusOf = map[codes.Code]int{
	codes.Canceled:           499,
	codes.Unknown:            http.StatusInternalServerError,
	codes.DeadlineExceeded:   http.StatusGatewayTimeout,
	codes.OutOfRange:         http.StatusBadRequest,
	codes.DataLoss:           http.StatusInternalServerError,
	codes.InvalidArgument:    http.StatusBadRequest,
	codes.Unauthenticated:    http.StatusUnauthorized,
	codes.PermissionDenied:   http.StatusForbidden,
	codes.NotFound:           http.StatusNotFound,
	codes.AlreadyExists:      http.StatusConflict,
	codes.Aborted:            http.StatusConflict,
	codes.ResourceExhausted:  http.StatusTooManyRequests,
	codes.FailedPrecondition: http.StatusBadRequest,
	codes.Unimplemented:      http.StatusNotImplemented,
	codes.Unavailable:        http.StatusServiceUnavailable,
	codes.Internal:           http.StatusInternalServerError,
}

func bearerFrom(ctx context.Context) string {
	md, _ := metadata.FromOutgoingContext(ctx)
	if v := md.Get("authorization"); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c *restClient) do(ctx context.Context, method, path string, query url.Values, body proto.Message, out proto.Message) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = protojson.Marshal(body); err != nil {
			return err
		}
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return c.send(ctx, method, path, raw, out)
}

// send makes one call with body as it is (none when nil) and decodes the
// answer into out, or returns the error status it carries.
func (c *restClient) send(ctx context.Context, method, pathAndQuery string, body []byte, out proto.Message) error {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+pathAndQuery, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth := bearerFrom(ctx); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var st spb.Status
		if err := protojson.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("HTTP %d with a body that is not a status: %s", resp.StatusCode, raw)
		}
		code := codes.Code(st.GetCode())
		want, ok := httpStatusOf[code]
		if !ok {
			return fmt.Errorf("HTTP %d carries gRPC code %v, which has no HTTP status in httpStatusOf: %s", resp.StatusCode, code, raw)
		}
		if want != resp.StatusCode {
			return fmt.Errorf("gRPC code %v came with HTTP %d, want %d", code, resp.StatusCode, want)
		}
		return status.ErrorProto(&st)
	}
	return protojson.Unmarshal(raw, out)
}

func addPage(q url.Values, size int32, token string) {
	if size != 0 {
		q.Set("page_size", strconv.Itoa(int(size)))
	}
	if token != "" {
		q.Set("page_token", token)
	}
}

func setIf(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

// WebhookService over REST.

func (c *restClient) ListEventTypes(ctx context.Context, _ *webhooksv1.ListEventTypesRequest, _ ...grpc.CallOption) (*webhooksv1.ListEventTypesResponse, error) {
	out := &webhooksv1.ListEventTypesResponse{}
	return out, c.do(ctx, http.MethodGet, "/v1/eventTypes", nil, nil, out)
}

func (c *restClient) GetEventType(ctx context.Context, in *webhooksv1.GetEventTypeRequest, _ ...grpc.CallOption) (*webhooksv1.EventType, error) {
	out := &webhooksv1.EventType{}
	return out, c.do(ctx, http.MethodGet, "/v1/"+in.GetName(), nil, nil, out)
}

func (c *restClient) CreateEndpoint(ctx context.Context, in *webhooksv1.CreateEndpointRequest, _ ...grpc.CallOption) (*webhooksv1.Endpoint, error) {
	q := url.Values{}
	setIf(q, "account", in.GetAccount())
	out := &webhooksv1.Endpoint{}
	return out, c.do(ctx, http.MethodPost, "/v1/endpoints", q, in.GetEndpoint(), out)
}

func (c *restClient) GetEndpoint(ctx context.Context, in *webhooksv1.GetEndpointRequest, _ ...grpc.CallOption) (*webhooksv1.Endpoint, error) {
	out := &webhooksv1.Endpoint{}
	return out, c.do(ctx, http.MethodGet, "/v1/"+in.GetName(), nil, nil, out)
}

func (c *restClient) ListEndpoints(ctx context.Context, in *webhooksv1.ListEndpointsRequest, _ ...grpc.CallOption) (*webhooksv1.ListEndpointsResponse, error) {
	q := url.Values{}
	setIf(q, "account", in.GetAccount())
	addPage(q, in.GetPageSize(), in.GetPageToken())
	out := &webhooksv1.ListEndpointsResponse{}
	return out, c.do(ctx, http.MethodGet, "/v1/endpoints", q, nil, out)
}

func (c *restClient) UpdateEndpoint(ctx context.Context, in *webhooksv1.UpdateEndpointRequest, _ ...grpc.CallOption) (*webhooksv1.Endpoint, error) {
	q := url.Values{}
	if m := in.GetUpdateMask(); m != nil {
		q.Set("update_mask", strings.Join(m.GetPaths(), ","))
	}
	out := &webhooksv1.Endpoint{}
	return out, c.do(ctx, http.MethodPatch, "/v1/"+in.GetEndpoint().GetName(), q, in.GetEndpoint(), out)
}

func (c *restClient) DeleteEndpoint(ctx context.Context, in *webhooksv1.DeleteEndpointRequest, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	out := &emptypb.Empty{}
	return out, c.do(ctx, http.MethodDelete, "/v1/"+in.GetName(), nil, nil, out)
}

func (c *restClient) EnableEndpoint(ctx context.Context, in *webhooksv1.EnableEndpointRequest, _ ...grpc.CallOption) (*webhooksv1.Endpoint, error) {
	out := &webhooksv1.Endpoint{}
	return out, c.do(ctx, http.MethodPost, "/v1/"+in.GetName()+":enable", nil, &emptypb.Empty{}, out)
}

func (c *restClient) DisableEndpoint(ctx context.Context, in *webhooksv1.DisableEndpointRequest, _ ...grpc.CallOption) (*webhooksv1.Endpoint, error) {
	out := &webhooksv1.Endpoint{}
	body := &webhooksv1.DisableEndpointRequest{Reason: in.GetReason()}
	return out, c.do(ctx, http.MethodPost, "/v1/"+in.GetName()+":disable", nil, body, out)
}

func (c *restClient) GetEndpointSecret(ctx context.Context, in *webhooksv1.GetEndpointSecretRequest, _ ...grpc.CallOption) (*webhooksv1.EndpointSecret, error) {
	out := &webhooksv1.EndpointSecret{}
	return out, c.do(ctx, http.MethodGet, "/v1/"+in.GetName(), nil, nil, out)
}

func (c *restClient) RotateEndpointSecret(ctx context.Context, in *webhooksv1.RotateEndpointSecretRequest, _ ...grpc.CallOption) (*webhooksv1.EndpointSecret, error) {
	out := &webhooksv1.EndpointSecret{}
	return out, c.do(ctx, http.MethodPost, "/v1/"+in.GetName()+":rotate", nil, &emptypb.Empty{}, out)
}

func (c *restClient) SendTestEvent(ctx context.Context, in *webhooksv1.SendTestEventRequest, _ ...grpc.CallOption) (*webhooksv1.SendTestEventResponse, error) {
	out := &webhooksv1.SendTestEventResponse{}
	body := proto.Clone(in).(*webhooksv1.SendTestEventRequest)
	body.Endpoint = ""
	return out, c.do(ctx, http.MethodPost, "/v1/"+in.GetEndpoint()+":sendTestEvent", nil, body, out)
}

func (c *restClient) RecoverEndpoint(ctx context.Context, in *webhooksv1.RecoverEndpointRequest, _ ...grpc.CallOption) (*webhooksv1.RecoverEndpointResponse, error) {
	out := &webhooksv1.RecoverEndpointResponse{}
	return out, c.do(ctx, http.MethodPost, "/v1/"+in.GetName()+":recover", nil, &webhooksv1.RecoverEndpointRequest{Since: in.GetSince()}, out)
}

func (c *restClient) ListenEndpoint(context.Context, *webhooksv1.ListenEndpointRequest, ...grpc.CallOption) (grpc.ServerStreamingClient[webhooksv1.ListenEndpointResponse], error) {
	return nil, status.Error(codes.Unimplemented, "the REST test client does not stream")
}

func (c *restClient) ListenEndpointDeliveries(context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[webhooksv1.ListenEndpointDeliveriesRequest, webhooksv1.ListenEndpointDeliveriesResponse], error) {
	return nil, status.Error(codes.Unimplemented, "ListenEndpointDeliveries has no REST binding")
}

func (c *restClient) PublishEvent(ctx context.Context, in *webhooksv1.PublishEventRequest, _ ...grpc.CallOption) (*webhooksv1.Event, error) {
	q := url.Values{}
	setIf(q, "account", in.GetAccount())
	setIf(q, "idempotency_key", in.GetIdempotencyKey())
	out := &webhooksv1.Event{}
	return out, c.do(ctx, http.MethodPost, "/v1/events", q, in.GetEvent(), out)
}

func (c *restClient) BatchPublishEvents(ctx context.Context, in *webhooksv1.BatchPublishEventsRequest, _ ...grpc.CallOption) (*webhooksv1.BatchPublishEventsResponse, error) {
	out := &webhooksv1.BatchPublishEventsResponse{}
	return out, c.do(ctx, http.MethodPost, "/v1/events:batchPublish", nil, in, out)
}

func (c *restClient) GetEvent(ctx context.Context, in *webhooksv1.GetEventRequest, _ ...grpc.CallOption) (*webhooksv1.Event, error) {
	out := &webhooksv1.Event{}
	return out, c.do(ctx, http.MethodGet, "/v1/"+in.GetName(), nil, nil, out)
}

func (c *restClient) ListEvents(ctx context.Context, in *webhooksv1.ListEventsRequest, _ ...grpc.CallOption) (*webhooksv1.ListEventsResponse, error) {
	q := url.Values{}
	setIf(q, "account", in.GetAccount())
	addPage(q, in.GetPageSize(), in.GetPageToken())
	for _, t := range in.GetEventTypes() {
		q.Add("event_types", t)
	}
	if ts := in.GetCreateTimeAfter(); ts != nil {
		q.Set("create_time_after", ts.AsTime().Format("2006-01-02T15:04:05.999999999Z07:00"))
	}
	if ts := in.GetCreateTimeBefore(); ts != nil {
		q.Set("create_time_before", ts.AsTime().Format("2006-01-02T15:04:05.999999999Z07:00"))
	}
	setIf(q, "after_event", in.GetAfterEvent())
	out := &webhooksv1.ListEventsResponse{}
	return out, c.do(ctx, http.MethodGet, "/v1/events", q, nil, out)
}

func (c *restClient) GetDelivery(ctx context.Context, in *webhooksv1.GetDeliveryRequest, _ ...grpc.CallOption) (*webhooksv1.Delivery, error) {
	out := &webhooksv1.Delivery{}
	return out, c.do(ctx, http.MethodGet, "/v1/"+in.GetName(), nil, nil, out)
}

func (c *restClient) ListDeliveries(ctx context.Context, in *webhooksv1.ListDeliveriesRequest, _ ...grpc.CallOption) (*webhooksv1.ListDeliveriesResponse, error) {
	q := url.Values{}
	addPage(q, in.GetPageSize(), in.GetPageToken())
	for _, s := range in.GetStatuses() {
		q.Add("statuses", s.String())
	}
	for _, t := range in.GetEventTypes() {
		q.Add("event_types", t)
	}
	out := &webhooksv1.ListDeliveriesResponse{}
	return out, c.do(ctx, http.MethodGet, "/v1/"+in.GetParent()+"/deliveries", q, nil, out)
}

func (c *restClient) RetryDelivery(ctx context.Context, in *webhooksv1.RetryDeliveryRequest, _ ...grpc.CallOption) (*webhooksv1.Delivery, error) {
	out := &webhooksv1.Delivery{}
	return out, c.do(ctx, http.MethodPost, "/v1/"+in.GetName()+":retry", nil, &emptypb.Empty{}, out)
}

func (c *restClient) RevokeCurrentSession(ctx context.Context, _ *webhooksv1.RevokeCurrentSessionRequest, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	out := &emptypb.Empty{}
	return out, c.do(ctx, http.MethodPost, "/v1/session:revoke", nil, &emptypb.Empty{}, out)
}

// AdminService over REST.

func (c *restClient) CreateAccount(ctx context.Context, in *webhooksv1.CreateAccountRequest, _ ...grpc.CallOption) (*webhooksv1.Account, error) {
	out := &webhooksv1.Account{}
	return out, c.do(ctx, http.MethodPost, "/v1/accounts", nil, in.GetAccount(), out)
}

func (c *restClient) GetAccount(ctx context.Context, in *webhooksv1.GetAccountRequest, _ ...grpc.CallOption) (*webhooksv1.Account, error) {
	out := &webhooksv1.Account{}
	return out, c.do(ctx, http.MethodGet, "/v1/"+in.GetName(), nil, nil, out)
}

func (c *restClient) ListAccounts(ctx context.Context, in *webhooksv1.ListAccountsRequest, _ ...grpc.CallOption) (*webhooksv1.ListAccountsResponse, error) {
	q := url.Values{}
	addPage(q, in.GetPageSize(), in.GetPageToken())
	out := &webhooksv1.ListAccountsResponse{}
	return out, c.do(ctx, http.MethodGet, "/v1/accounts", q, nil, out)
}

func (c *restClient) CreateApiKey(ctx context.Context, in *webhooksv1.CreateApiKeyRequest, _ ...grpc.CallOption) (*webhooksv1.ApiKey, error) {
	out := &webhooksv1.ApiKey{}
	return out, c.do(ctx, http.MethodPost, "/v1/apiKeys", nil, in.GetApiKey(), out)
}

func (c *restClient) GetApiKey(ctx context.Context, in *webhooksv1.GetApiKeyRequest, _ ...grpc.CallOption) (*webhooksv1.ApiKey, error) {
	out := &webhooksv1.ApiKey{}
	return out, c.do(ctx, http.MethodGet, "/v1/"+in.GetName(), nil, nil, out)
}

func (c *restClient) ListApiKeys(ctx context.Context, in *webhooksv1.ListApiKeysRequest, _ ...grpc.CallOption) (*webhooksv1.ListApiKeysResponse, error) {
	q := url.Values{}
	setIf(q, "account", in.GetAccount())
	addPage(q, in.GetPageSize(), in.GetPageToken())
	out := &webhooksv1.ListApiKeysResponse{}
	return out, c.do(ctx, http.MethodGet, "/v1/apiKeys", q, nil, out)
}

func (c *restClient) RevokeApiKey(ctx context.Context, in *webhooksv1.RevokeApiKeyRequest, _ ...grpc.CallOption) (*webhooksv1.ApiKey, error) {
	out := &webhooksv1.ApiKey{}
	return out, c.do(ctx, http.MethodPost, "/v1/"+in.GetName()+":revoke", nil, &emptypb.Empty{}, out)
}

func (c *restClient) CreatePortalSession(ctx context.Context, in *webhooksv1.CreatePortalSessionRequest, _ ...grpc.CallOption) (*webhooksv1.PortalSession, error) {
	out := &webhooksv1.PortalSession{}
	return out, c.do(ctx, http.MethodPost, "/v1/portalSessions", nil, in.GetPortalSession(), out)
}

func (c *restClient) RevokePortalSession(ctx context.Context, in *webhooksv1.RevokePortalSessionRequest, _ ...grpc.CallOption) (*webhooksv1.PortalSession, error) {
	out := &webhooksv1.PortalSession{}
	return out, c.do(ctx, http.MethodPost, "/v1/"+in.GetName()+":revoke", nil, &emptypb.Empty{}, out)
}
