#!/usr/bin/env bash
# `make bench-dashboard`: the dashboard's speed figures on this machine.
#
#   scripts/bench-dashboard.sh              300 calls of each kind
#   scripts/bench-dashboard.sh 1000x        another -benchtime
#
# It starts a throwaway PostgreSQL like scripts/test.sh does and runs
# BenchmarkDashboardHistory (web/bench_test.go): an endpoint with 100,000
# deliveries, on SQLite and on PostgreSQL; the first page of its delivery
# history and the endpoint with its health figures, over REST, each call
# timed (median and p99 against 100 ms); and the dashboard's first load,
# JS + CSS gzipped, against 150 KiB. The targets are printed, never
# enforced: the exit status says only whether the benchmark could run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

lib_name=bench-dashboard.sh
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

install_missing_packages bench

tmp=$(mktemp -d "${TMPDIR:-/tmp}/webhookd-bench-dashboard.XXXXXX")
chmod 755 "$tmp" # the postgres user must reach its data dir inside it

step "machine: $(nproc) CPUs, $(go version | awk '{print $3, $4}')"
start_postgres bench

step "BenchmarkDashboardHistory"
go test -run '^$' -bench 'BenchmarkDashboardHistory' -benchtime "${1:-300x}" -count 1 -v ./web |
	grep -E 'first load|seeded|median|^Benchmark|^ok|FAIL|Error'
