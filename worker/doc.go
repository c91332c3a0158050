// Package worker is webhookd's delivery engine: the schedule of due
// deliveries kept in Redis and, built on it, the workers that claim, sign,
// send, record and retry deliveries.
//
// The SQL database is the source of truth; Redis only orders work in time.
// Everything here can therefore be rebuilt from the database, which is what
// lets webhookd run on an in-process Redis-protocol server by default
// (OpenRedis with no URL) and on a real Redis in production with the same code.
//
// Development endpoints (webhookctl listen) have no URL to send to: the
// engine routes their deliveries through Redis to the api process holding a
// listener's stream (Listeners), which forwards them and records the
// answers; listen.go explains how that works across processes and survives
// their failures.
package worker
