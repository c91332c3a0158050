// Package worker is webhookd's delivery engine: the schedule of due
// deliveries kept in Redis and, built on it, the workers that claim, sign,
// send, record and retry deliveries.
//
// The SQL database is the source of truth; Redis only orders work in time.
// Everything here can therefore be rebuilt from the database, which is what
// lets webhookd run on an in-process Redis-protocol server by default
// (OpenRedis with no URL) and on a real Redis in production with the same code.
package worker
