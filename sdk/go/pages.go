package webhookd

import (
	"context"
	"iter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// Endpoints iterates over the endpoints req selects, fetching page after
// page (req.PageSize at a time) as the loop goes on. req is not modified; a
// nil req lists every endpoint the key may see. A failure is yielded once,
// with a nil endpoint, and ends the iteration:
//
//	for ep, err := range client.Endpoints(ctx, nil) {
//		if err != nil { return err }
//		…
//	}
func (c *Client) Endpoints(ctx context.Context, req *webhooksv1.ListEndpointsRequest) iter.Seq2[*webhooksv1.Endpoint, error] {
	return pages(ctx, orNew(req), c.webhooks.ListEndpoints,
		func(r *webhooksv1.ListEndpointsResponse) ([]*webhooksv1.Endpoint, string) {
			return r.GetEndpoints(), r.GetNextPageToken()
		},
		func(r *webhooksv1.ListEndpointsRequest, token string) { r.PageToken = token })
}

// Events iterates over the events req selects, newest first, like
// [Client.Endpoints].
func (c *Client) Events(ctx context.Context, req *webhooksv1.ListEventsRequest) iter.Seq2[*webhooksv1.Event, error] {
	return pages(ctx, orNew(req), c.webhooks.ListEvents,
		func(r *webhooksv1.ListEventsResponse) ([]*webhooksv1.Event, string) {
			return r.GetEvents(), r.GetNextPageToken()
		},
		func(r *webhooksv1.ListEventsRequest, token string) { r.PageToken = token })
}

// Deliveries iterates over the deliveries req selects (req.Parent: an event,
// "events/evt_…", or an endpoint, "endpoints/ep_…"), newest first, like
// [Client.Endpoints].
func (c *Client) Deliveries(ctx context.Context, req *webhooksv1.ListDeliveriesRequest) iter.Seq2[*webhooksv1.Delivery, error] {
	return pages(ctx, orNew(req), c.webhooks.ListDeliveries,
		func(r *webhooksv1.ListDeliveriesResponse) ([]*webhooksv1.Delivery, string) {
			return r.GetDeliveries(), r.GetNextPageToken()
		},
		func(r *webhooksv1.ListDeliveriesRequest, token string) { r.PageToken = token })
}

// orNew is req, or an empty request when nil.
func orNew[M any, P interface {
	*M
	proto.Message
}](req P) P {
	if req == nil {
		return P(new(M))
	}
	return req
}

// pages is the loop of every list iterator (AIP-158): call with the
// previous page's token until a page comes back without one. The request is
// cloned first: the iterator sets page tokens on its own copy, and may be
// ranged over again from the start.
func pages[Req proto.Message, Resp any, T any](
	ctx context.Context,
	req Req,
	list func(context.Context, Req, ...grpc.CallOption) (Resp, error),
	items func(Resp) ([]T, string),
	setToken func(Req, string),
) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		r := proto.CloneOf(req)
		for {
			resp, err := list(ctx, r)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			page, next := items(resp)
			for _, item := range page {
				if !yield(item, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			setToken(r, next)
		}
	}
}
