// Package webhookd is the Go client of webhookd, the webhook delivery
// service: a [Client] for its gRPC API, and [Verify] for the receiving end,
// which checks the signatures webhookd puts on every request it delivers.
//
//	client, err := webhookd.New("webhookd.internal:9090", os.Getenv("WEBHOOKD_API_KEY"))
//	if err != nil { … }
//	defer client.Close()
//	ev, err := client.PublishEvent(ctx, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: data}})
//
// # What the client adds to the generated stubs
//
// The request and response types, and the raw service clients
// ([Client.WebhookService], [Client.AdminService]), are generated from
// webhookd's proto/ files. The client adds what every caller would otherwise
// write by hand: the API key on every call, TLS unless the address is
// loopback, retries with backoff (see [RetryPolicy]) that honour the delay the
// server asks for when it rate-limits, an idempotency key on every publish so
// that a retried publish never creates a second event, iterators over list
// pages ([Client.Endpoints], [Client.Events], [Client.Deliveries]), and errors
// that expose the fields the server refused ([Error.FieldViolations]).
//
// # Where the generated types come from
//
// The types are those of the module github.com/webhookd/webhookd/gen, the
// same code webhookd's server is built with, rather than a copy generated
// into this module. gen/ is a Go module of its own that requires only gRPC
// and protobuf: the REST gateway stubs, which need grpc-gateway, are
// generated apart into the server's module, and the OpenAPI annotations of
// the proto files are referenced by name only. Programs that import this
// package therefore get no database driver, ORM, Redis client or
// grpc-gateway in their module graph (module_graph_test.go checks it with
// go mod graph). One copy of the generated code also means one registration
// of each .proto file: protobuf-go refuses, at init, a program that
// registers webhooks/v1/*.proto twice, which a second generated copy would
// do in any program linking both this SDK and webhookd's own packages (a
// test harness, an in-process server).
//
// # Versions
//
// [Version] is the release of webhookd this SDK belongs to; webhookd and its
// SDKs share one version number, kept in the repository's VERSION file.
package webhookd
