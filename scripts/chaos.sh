#!/usr/bin/env bash
# `make chaos`: check that webhookd loses no delivery while the parts of an
# installation fail under load, and print the figures.
#
#   scripts/chaos.sh              the long form: 24,000 events, several minutes
#   scripts/chaos.sh -short       the short form CI runs (.ci/run): 3,000 events, about 2 minutes
#   scripts/chaos.sh -events 8000 -rate 80   arguments go to webhookd-chaos
#
# It builds webhookd and cmd/webhookd-chaos, starts a throwaway PostgreSQL
# (as crash-safe as production for acknowledged commits) and a Redis Cluster
# of three nodes on loopback, and runs webhookd-chaos on them: three webhookd
# processes, a signature-checking receiver, a steady publishing workload, and
# the faults — a hanging endpoint, a SIGKILLed worker, a killed Redis node, a
# killed PostgreSQL — each restarted. It exits non-zero when a delivery was
# lost (or a signature was wrong, or webhookd died on its own). See
# `go run ./cmd/webhookd-chaos -h`. It installs nothing that scripts/test.sh
# does not install, and runs as root too (PostgreSQL then runs as postgres).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

lib_name=chaos.sh
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

install_missing_packages chaos

tmp=$(mktemp -d "${TMPDIR:-/tmp}/webhookd-chaos.XXXXXX")
chmod 755 "$tmp" # the postgres user must reach its data dir inside it

step "machine: $(nproc) CPUs, $(go version | awk '{print $3, $4}')"
step "build webhookd and webhookd-chaos"
go build -o "$tmp/bin/" ./cmd/webhookd ./cmd/webhookd-chaos

start_postgres chaos
start_redis_cluster 3

step "webhookd-chaos $*"
mkdir -p "$tmp/chaos"
if ! "$tmp/bin/webhookd-chaos" -webhookd "$tmp/bin/webhookd" -work-dir "$tmp/chaos" \
	-database-url "$WEBHOOKD_TEST_POSTGRES_URL" \
	-redis-url "$WEBHOOKD_CHAOS_REDIS_CLUSTER_URL" -redis-cluster \
	-redis-server "$WEBHOOKD_TEST_REDIS_SERVER" -redis-node-conf "${redis_cluster_dirs[0]}/redis.conf" \
	-pg-ctl "$pg_bin/pg_ctl" -pg-data "$pg_data" "$@"; then
	for log in "$tmp"/chaos/webhookd-*.log; do
		[[ -s $log ]] || continue
		printf '\n--- last lines of %s\n' "${log##*/}"
		tail -n 20 "$log"
	done
	die "webhookd-chaos failed (figures and reasons above)"
fi
