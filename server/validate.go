package server

import (
	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/egress"
)

// Limits on what customers may store. They keep rows small and requests to
// receivers sane; each is reported with the field it concerns.
const (
	maxDescriptionBytes  = 1024
	maxIdempotencyKey    = 255
	maxDisplayNameBytes  = 200
	maxDisableReasonSize = 200
	// maxFilterValues bounds the values of one list filter (event types,
	// statuses): each becomes a bound variable of the query, and a call
	// naming tens of thousands would fail in the database instead of here.
	maxFilterValues = 100
)

// validateEndpointURL applies egress.CheckURL, the rules of the URLs the
// sender will dial, and reports a refusal as an Invalid error naming field.
func validateEndpointURL(field, raw string, allowHTTP bool) error {
	if err := egress.CheckURL(raw, allowHTTP); err != nil {
		return webhookd.Invalid(field, "%s", err.Error())
	}
	return nil
}

// validateHeaders applies egress.CheckHeaders, the rules the
// sender applies too, so that an accepted header is one that is sent.
func validateHeaders(field string, headers map[string]string) error {
	if err := egress.CheckHeaders(headers); err != nil {
		return webhookd.Invalid(field, "%s", err.Error())
	}
	return nil
}

func validateLength(field, value string, max int) error {
	if len(value) > max {
		return webhookd.Invalid(field, "longer than %d bytes", max)
	}
	return nil
}

// validateFilterValues refuses a list filter with more than maxFilterValues values.
func validateFilterValues(field string, n int) error {
	if n > maxFilterValues {
		return webhookd.Invalid(field, "at most %d values per call, got %d", maxFilterValues, n)
	}
	return nil
}
