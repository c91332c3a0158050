// Package crashtest proves the Engine promise of the design, "no event is lost
// whatever single component dies", against real processes: the webhookd
// binary in separate api and worker processes, PostgreSQL, a redis-server of
// each test's own, and a receiver that counts every event id it is sent.
//
// The tests SIGKILL a worker in the middle of deliveries, flush Redis, and
// kill and restart Redis while events are being published, then check that
// every published event reached the receiver (at least once: duplicates are
// allowed and reported) and that every delivery ends SUCCEEDED.
//
// Everything is in the _test.go files; this file only documents the package.
// The tests need WEBHOOKD_TEST_POSTGRES_URL and WEBHOOKD_TEST_REDIS_SERVER
// (scripts/test.sh sets both); without them they skip, or fail when CI is set.
package crashtest
