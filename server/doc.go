// Package server is webhookd's API surface: the gRPC implementations of
// webhooks.v1.WebhookService and AdminService, the interceptors every call
// passes (error mapping, authentication, per-account rate limits), and the
// HTTP side that serves the REST gateway (with its body size limit), health
// checks and the OpenAPI document.
//
// The REST gateway reaches the gRPC services through a client connection on
// loopback rather than calling the implementations directly, so that
// authentication, validation and error mapping run exactly once, the same way,
// for both surfaces.
package server
