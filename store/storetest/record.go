package storetest

import (
	"context"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// The one-delivery forms of the engine's batch calls. The engine only ever
// loads and records in batches, so store.Engine has only those; tests that
// make a delivery history one attempt at a time use these.

// RecordAttempt records attempt a (nil when no request was made) and the
// delivery's new state d as a batch of one: record's outcome, or the
// batch's error.
func RecordAttempt(ctx context.Context, s store.Engine, a *webhookd.Attempt, d *webhookd.Delivery) error {
	errs, err := s.RecordAttempts(ctx, []store.AttemptRecord{{Attempt: a, Delivery: d}})
	if err != nil {
		return err
	}
	return errs[0]
}

// LoadDeliveryWork loads one delivery's work, KindNotFound when the
// delivery is gone.
func LoadDeliveryWork(ctx context.Context, s store.Engine, deliveryID string) (*store.DeliveryWork, error) {
	works, err := s.LoadDeliveryWorks(ctx, []string{deliveryID})
	if err != nil {
		return nil, err
	}
	w, ok := works[deliveryID]
	if !ok {
		return nil, webhookd.NotFound("delivery", deliveryID)
	}
	return w, nil
}
