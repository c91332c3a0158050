package server

import (
	"strings"

	"github.com/webhookd/webhookd"
)

// Resource names follow AIP-122: a collection and an id, such as
// "endpoints/ep_01jd…". The id's prefix is checked here so that a name of
// the wrong kind is reported as an invalid argument, not as a missing resource.
const (
	collAccounts   = "accounts"
	collAPIKeys    = "apiKeys"
	collEndpoints  = "endpoints"
	collEvents     = "events"
	collDeliveries = "deliveries"
	collEventTypes = "eventTypes"
	collSessions   = "portalSessions"
)

func resourceName(collection, id string) string { return collection + "/" + id }

// parseName returns the id of name, which must be collection/<prefix>_….
func parseName(field, name, collection, prefix string) (string, error) {
	if name == "" {
		return "", webhookd.Invalid(field, "required")
	}
	id, ok := strings.CutPrefix(name, collection+"/")
	if !ok || !webhookd.HasPrefix(id, prefix) {
		return "", webhookd.Invalid(field, "must be a resource name like %s/%s_…, got %q", collection, prefix, name)
	}
	return id, nil
}

// parseSecretName returns the endpoint id of "endpoints/{id}/secret".
func parseSecretName(field, name string) (string, error) {
	base, ok := strings.CutSuffix(name, "/secret")
	if !ok {
		return "", webhookd.Invalid(field, "must be a resource name like endpoints/ep_…/secret, got %q", name)
	}
	return parseName(field, base, collEndpoints, webhookd.PrefixEndpoint)
}

// parseEventTypeName returns the type of "eventTypes/{type}".
func parseEventTypeName(field, name string) (string, error) {
	t, ok := strings.CutPrefix(name, collEventTypes+"/")
	if !ok || t == "" {
		return "", webhookd.Invalid(field, "must be a resource name like eventTypes/property.created, got %q", name)
	}
	return t, nil
}
