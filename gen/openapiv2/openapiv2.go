// Package openapiv2 embeds the OpenAPI (Swagger 2.0) document that
// protoc-gen-openapiv2 generates from proto/, so the server can serve it.
// This file is hand-written; webhookd.swagger.json beside it is generated.
package openapiv2

import _ "embed"

// Document is the OpenAPI document of webhookd's REST API, as JSON.
//
//go:embed webhookd.swagger.json
var Document []byte
