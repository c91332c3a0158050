package server

import (
	"context"
	"errors"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// maxBatchPublish is the most events one BatchPublishEvents call takes:
// enough for a backfill to cost a hundredth of the round trips, few enough
// that one call's statement and answer stay small.
const maxBatchPublish = 100

// BatchPublishEvents publishes each request as PublishEvent would, the
// valid ones written together (store.Store.PublishEvents). A request that
// fails — invalid, or refused by the store — gets its own error, named by
// its index, and the others are published all the same; only a call that
// is wrong as a whole (no requests, too many, a bad batch account) fails.
func (s *WebhookService) BatchPublishEvents(ctx context.Context, req *webhooksv1.BatchPublishEventsRequest) (*webhooksv1.BatchPublishEventsResponse, error) {
	requests := req.GetRequests()
	switch {
	case len(requests) == 0:
		return nil, webhookd.Invalid("requests", "required: at least one event to publish")
	case len(requests) > maxBatchPublish:
		return nil, webhookd.Invalid("requests", "at most %d events per call, got %d", maxBatchPublish, len(requests))
	}
	account := req.GetAccount()
	if account != "" {
		if _, err := s.writeAccount(ctx, "account", account); err != nil {
			return nil, err
		}
	}
	results := make([]*webhooksv1.BatchPublishEventsResponse_Result, len(requests))
	var (
		events  []*webhookd.Event
		indexes []int // events[k] is requests[indexes[k]]
		// firstOfKey maps an account and idempotency key to the first
		// request using them; a later one is answered with its result.
		firstOfKey = map[[2]string]int{}
		sameAs     = map[int]int{}
	)
	for i, r := range requests {
		field := "requests[" + strconv.Itoa(i) + "]"
		one := &webhooksv1.PublishEventRequest{Account: r.GetAccount(), Event: r.GetEvent(), IdempotencyKey: r.GetIdempotencyKey()}
		switch {
		case one.Account == "":
			one.Account = account
		case account != "" && one.Account != account:
			results[i] = s.batchFailure(ctx, field, webhookd.Invalid("account", "must be empty or the batch's account, %s", account))
			continue
		}
		ev, err := s.newEvent(ctx, one, nil)
		if err != nil {
			results[i] = s.batchFailure(ctx, field, err)
			continue
		}
		if ev.IdempotencyKey != "" {
			key := [2]string{ev.AccountID, ev.IdempotencyKey}
			if first, ok := firstOfKey[key]; ok {
				sameAs[i] = first
				continue
			}
			firstOfKey[key] = i
		}
		events, indexes = append(events, ev), append(indexes, i)
	}
	if len(events) > 0 {
		outcomes, err := s.cfg.Store.PublishEvents(ctx, events, s.cfg.IDs.New)
		if err != nil {
			return nil, err
		}
		for k, o := range outcomes {
			i := indexes[k]
			results[i] = s.batchResult(ctx, "requests["+strconv.Itoa(i)+"]", requests[i], o.Stored, o.Deliveries, o.Created, o.Err)
		}
	}
	for i, first := range sameAs {
		results[i] = results[first]
	}
	return &webhooksv1.BatchPublishEventsResponse{Results: results}, nil
}

// batchResult is one stored request's result, its deliveries dispatched
// when it created an event.
func (s *WebhookService) batchResult(ctx context.Context, field string, req *webhooksv1.PublishEventRequest, stored *webhookd.Event,
	deliveries []*webhookd.Delivery, created bool, err error,
) *webhooksv1.BatchPublishEventsResponse_Result {
	if err != nil {
		return s.batchFailure(ctx, field, err)
	}
	if !created {
		pb, err := eventToProto(stored) // the first event of this idempotency key
		if err != nil {
			return s.batchFailure(ctx, field, err)
		}
		return &webhooksv1.BatchPublishEventsResponse_Result{Event: pb}
	}
	s.dispatch(ctx, stored, deliveries)
	// As PublishEvent answers: the request's data, made to match the
	// stored bytes, rather than those bytes decoded again.
	asStored(req.GetEvent().GetData())
	pb := eventMetaToProto(stored)
	pb.Data = req.GetEvent().GetData()
	return &webhooksv1.BatchPublishEventsResponse_Result{Event: pb}
}

// batchFailure is the result of a request that failed with err: the status
// PublishEvent would have answered, its field named within the batch
// (requests[3].event.type).
func (s *WebhookService) batchFailure(ctx context.Context, prefix string, err error) *webhooksv1.BatchPublishEventsResponse_Result {
	var de *webhookd.Error
	if errors.As(err, &de) {
		named := *de
		named.Field = prefix
		if de.Field != "" {
			named.Field += "." + de.Field
		}
		err = &named
	}
	st := status.Convert(toStatus(ctx, s.cfg.Logger, webhooksv1.WebhookService_BatchPublishEvents_FullMethodName, err))
	failure := &webhooksv1.BatchPublishEventsResponse_Error{Code: int32(st.Code()), Message: st.Message()}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			failure.Field = br.GetFieldViolations()[0].GetField()
		}
	}
	return &webhooksv1.BatchPublishEventsResponse_Result{Error: failure}
}
