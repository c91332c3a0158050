// Package schema declares webhookd's database tables as Ent schemas; the code
// in package ent is generated from it (go generate ./ent).
//
// Every resource is keyed by the prefixed, time-sortable identifier of
// webhookd.IDGenerator, so the primary key orders rows by creation time and
// "newest first" listings are index scans on (scope, id). Foreign keys with
// ON DELETE CASCADE let the database, not application code, remove an
// endpoint's deliveries and their attempts in the same statement.
package schema
