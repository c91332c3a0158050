// Package webhookd holds the domain of the webhook delivery service: the
// resources customers see (accounts, endpoints, events, deliveries, attempts),
// the identifiers they are named by and the errors every layer speaks.
//
// It depends on nothing but the standard library so that storage (package
// store), transports (package server) and the delivery engine (package worker)
// can share one vocabulary without importing each other.
package webhookd
