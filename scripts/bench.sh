#!/usr/bin/env bash
# `make bench`: measure webhookd's delivery throughput, latency, CPU and
# memory on this machine, next to a plain net/http baseline, and print the
# figures (medians of three repeats).
#
#   scripts/bench.sh                      both setups, default workload (about 15 minutes)
#   scripts/bench.sh -short               the smoke test (make bench-short, CI): every
#                                         figure measured once on a few hundred events
#   BENCH_SHORT=1 scripts/bench.sh        the same
#   scripts/bench.sh -repeat 1            arguments go to every webhookd-bench run
#   scripts/bench.sh -events 2000 -steady-duration 5s   a quick look
#
# It builds webhookd and cmd/webhookd-bench, starts a throwaway PostgreSQL
# (fsync on, synchronous_commit off) and Redis like scripts/test.sh does, and
# runs the bench tool for two setups: (1) the embedded defaults, SQLite and
# the in-process Redis-protocol server; (2) PostgreSQL + Redis. The targets
# printed beside the figures are never enforced: the exit status says only
# whether the benchmark could run and measure every figure. See
# `go run ./cmd/webhookd-bench -h`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

lib_name=bench.sh
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

install_missing_packages bench

tmp=$(mktemp -d "${TMPDIR:-/tmp}/webhookd-bench.XXXXXX")
chmod 755 "$tmp" # the postgres user must reach its data dir inside it

if [[ ${BENCH_SHORT:-} == 1 ]]; then
	set -- -short "$@"
fi
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
set -- -commit "$commit" "$@"

step "machine: $(nproc) CPUs, $(go version | awk '{print $3, $4}'), commit $commit"
step "build webhookd and webhookd-bench"
go build -o "$tmp/bin/" ./cmd/webhookd ./cmd/webhookd-bench

start_postgres bench
start_redis

step "setup 1 of 2: embedded defaults (SQLite + in-process Redis)"
"$tmp/bin/webhookd-bench" -webhookd "$tmp/bin/webhookd" "$@"

step "setup 2 of 2: PostgreSQL + Redis"
"$tmp/bin/webhookd-bench" -webhookd "$tmp/bin/webhookd" \
	-database-url "$WEBHOOKD_TEST_POSTGRES_URL" -redis-url "$WEBHOOKD_TEST_REDIS_URL" "$@"
