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
//
// A delivery's way through the package, file by file: Engine.Enqueue
// (handoff.go) hands the deliveries the API just committed to this
// process's workers, or puts them in the schedule (Schedule.Add,
// schedule.go); Engine.Run (engine.go) claims due deliveries and gives them
// to its workers; attempt.go makes one attempt, within the per-endpoint
// limit (limiter.go), through the Sender (sender.go); decide (decision.go)
// says what its result means: succeeded, retry at a time (RetryPolicy,
// retry.go), failed, or disable the endpoint; the recorder (recorder.go)
// writes the outcomes in batches and settles the schedule. Around them,
// claims.go renews the leases of slow attempts, reconcile.go puts back
// what the schedule lost, outage.go backs off while the database does not
// answer, and store.go names the few store methods all of this uses.
package worker
