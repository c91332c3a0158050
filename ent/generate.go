// Package ent is the generated Ent client for webhookd's database; the schema
// it is generated from lives in package schema. Only package store uses it.
package ent

//go:generate go run -mod=mod entc.go
