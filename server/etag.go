package server

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"github.com/webhookd/webhookd"
)

// This file makes the endpoint etags of AIP-154. An etag is a checksum of
// the endpoint's id and revision (the store's count of writes that changed
// it), so it changes with every such write and cannot be mistaken for
// another endpoint's; callers compare it for equality only.

// etagLen is the length of an etag: 12 bytes of SHA-256 in base64url.
const etagLen = 16

// endpointETag is e's etag.
func endpointETag(e *webhookd.Endpoint) string {
	sum := sha256.Sum256([]byte(e.ID + "\x00" + strconv.FormatInt(e.Revision, 10)))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// validateETag refuses what cannot be an etag webhookd made, so that a
// mangled one is reported as such rather than as a concurrent change.
func validateETag(field, etag string) error {
	if etag == "" {
		return nil
	}
	if _, err := base64.RawURLEncoding.DecodeString(etag); err != nil || len(etag) != etagLen {
		return webhookd.Invalid(field, "%q is not an etag webhookd returned (send the etag of a GetEndpoint or ListEndpoints response unchanged, or none)", etag)
	}
	return nil
}

// endpointChangedSince is the error of an update whose etag is stale.
func endpointChangedSince(id, etag string) error {
	return webhookd.Aborted("endpoint %q changed since etag %q was read: get it again and redo the change", id, etag)
}
