package store

import (
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/ent"
)

// This file converts between Ent rows and domain types, and fixes how times
// are written: in UTC, to the microsecond. PostgreSQL keeps microseconds, so
// writing nanoseconds would make a value read back differ from the one
// written; UTC everywhere makes SQLite's text timestamps compare correctly.

// dbTime is t as the database keeps it.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// dbTimeOrNil is dbTime for nullable columns, where the zero time is NULL.
func dbTimeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := dbTime(t)
	return &v
}

func domainTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func stringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func toAccount(r *ent.Account) *webhookd.Account {
	return &webhookd.Account{
		ID:          r.ID,
		DisplayName: r.DisplayName,
		CreateTime:  r.CreateTime.UTC(),
		UpdateTime:  r.UpdateTime.UTC(),
	}
}

func toAPIKey(r *ent.APIKey) *webhookd.APIKey {
	return &webhookd.APIKey{
		ID:          r.ID,
		AccountID:   derefString(r.AccountID),
		Internal:    r.Internal,
		DisplayName: r.DisplayName,
		TokenHash:   r.TokenHash,
		CreateTime:  r.CreateTime.UTC(),
		RevokeTime:  domainTime(r.RevokeTime),
	}
}

func toPortalSession(r *ent.PortalSession) *webhookd.PortalSession {
	return &webhookd.PortalSession{
		ID:         r.ID,
		AccountID:  r.AccountID,
		TokenHash:  r.TokenHash,
		CreateTime: r.CreateTime.UTC(),
		ExpireTime: r.ExpireTime.UTC(),
		RevokeTime: domainTime(r.RevokeTime),
	}
}

func toEventType(r *ent.EventType) *webhookd.EventType {
	return &webhookd.EventType{
		Name:        r.ID,
		Description: r.Description,
		Example:     r.Example,
		CreateTime:  r.CreateTime.UTC(),
	}
}

func toEndpoint(r *ent.Endpoint) *webhookd.Endpoint {
	e := &webhookd.Endpoint{
		ID:                       r.ID,
		AccountID:                r.AccountID,
		URL:                      r.URL,
		Description:              r.Description,
		EventTypes:               r.EventTypes,
		Headers:                  r.Headers,
		Disabled:                 r.Disabled,
		DisabledReason:           r.DisabledReason,
		DisableTime:              domainTime(r.DisableTime),
		FailingSince:             domainTime(r.FailingSince),
		Secret:                   r.Secret,
		PreviousSecret:           r.PreviousSecret,
		PreviousSecretExpireTime: domainTime(r.PreviousSecretExpireTime),
		CreateTime:               r.CreateTime.UTC(),
		UpdateTime:               r.UpdateTime.UTC(),
		Development:              r.Development,
		Revision:                 r.Revision,
	}
	// Empty and absent read back alike, whatever the backend stored.
	if len(e.EventTypes) == 0 {
		e.EventTypes = nil
	}
	if len(e.Headers) == 0 {
		e.Headers = nil
	}
	return e
}

func toEvent(r *ent.Event) *webhookd.Event {
	return &webhookd.Event{
		ID:             r.ID,
		AccountID:      r.AccountID,
		Type:           r.Type,
		Data:           r.Data,
		IdempotencyKey: derefString(r.IdempotencyKey),
		Test:           r.Test,
		CreateTime:     r.CreateTime.UTC(),
	}
}

func toDelivery(r *ent.Delivery) *webhookd.Delivery {
	d := &webhookd.Delivery{
		ID:                 r.ID,
		AccountID:          r.AccountID,
		EventID:            r.EventID,
		EndpointID:         r.EndpointID,
		EventType:          r.EventType,
		Status:             webhookd.DeliveryStatus(r.Status),
		AttemptCount:       r.AttemptCount,
		NextAttemptTime:    domainTime(r.NextAttemptTime),
		NextTrigger:        webhookd.AttemptTrigger(r.NextTrigger),
		LastError:          r.LastError,
		LastResponseStatus: r.LastResponseStatus,
		CreateTime:         r.CreateTime.UTC(),
		UpdateTime:         r.UpdateTime.UTC(),
	}
	if r.Edges.Attempts != nil {
		d.Attempts = make([]*webhookd.Attempt, len(r.Edges.Attempts))
		for i, a := range r.Edges.Attempts {
			d.Attempts[i] = toAttempt(a)
		}
	}
	return d
}

func toAttempt(r *ent.Attempt) *webhookd.Attempt {
	return &webhookd.Attempt{
		ID:             r.ID,
		DeliveryID:     r.DeliveryID,
		Number:         r.Number,
		Trigger:        webhookd.AttemptTrigger(r.Trigger),
		StartTime:      r.StartTime.UTC(),
		Duration:       time.Duration(r.DurationNs),
		ResponseStatus: r.ResponseStatus,
		ResponseBody:   r.ResponseBody,
		Error:          r.Error,
	}
}

func mapSlice[R, D any](rows []R, convert func(R) D) []D {
	out := make([]D, len(rows))
	for i, r := range rows {
		out[i] = convert(r)
	}
	return out
}
