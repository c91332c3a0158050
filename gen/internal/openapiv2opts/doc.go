// Package openapiv2opts stands in, for the Go code generated from proto/, for
// grpc-gateway's protoc-gen-openapiv2/options package.
//
// webhook_service.proto imports protoc-gen-openapiv2/options/annotations.proto
// only to describe the REST API in the OpenAPI documents; no Go code reads those
// options. protoc-gen-go would import grpc-gateway's options package for it,
// which would make grpc-gateway (and its own dependencies) a requirement of the
// gen module and so of every program that uses sdk/go. buf.gen.yaml maps that
// import here instead. This package registers nothing: protobuf-go then links
// the import to a placeholder file and keeps the options as unknown bytes of
// the file descriptor, unchanged. A program that imports grpc-gateway's options
// package as well (webhookd's server does, for complete gRPC reflection) gets
// the real file; nothing is registered twice, so nothing conflicts.
package openapiv2opts
