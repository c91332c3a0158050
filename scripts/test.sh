#!/usr/bin/env bash
# The one test command: `make test` runs this, and CI runs `make test`.
#
#   scripts/test.sh                          all checks, go test -race ./..., scripts/bench.sh -short
#   scripts/test.sh -run TestFoo ./server/...  go test with these args only
#
# It installs what it needs from Debian if missing (PostgreSQL, Redis, gcc for
# -race, git, make), starts a throwaway PostgreSQL cluster and Redis server on
# free loopback ports in a temp dir, removed on exit, and exports for the tests:
#
#   WEBHOOKD_TEST_POSTGRES_URL   postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#   WEBHOOKD_TEST_POSTGRES_BIN   PostgreSQL's bin directory, for tests that run their own cluster
#   WEBHOOKD_TEST_REDIS_URL      redis://127.0.0.1:PORT/0
#   WEBHOOKD_TEST_REDIS_SERVER   path of redis-server, for tests that run their own
#   CI                           passed through (CI=true makes integration tests required)
#
# Static checks run first, each under its own heading, and the first failure
# stops the run: gofmt, go vet, buf lint, buf format, generated code is fresh,
# the dashboard build (web/dist) is fresh, buf breaking against the previous
# commit. Given arguments, the script skips them and passes the arguments to
# go test, for a quick loop while developing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

buf=(go tool -modfile=tools/go.mod buf)

lib_name=test.sh
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# Go modules nested in this repository, each with its own go.mod: `go vet
# ./...` and `go test ./...` at the root do not descend into them, so they are
# vetted and tested one by one (gen/: the generated API code; sdk/go: the Go SDK).
nested_modules=(gen sdk/go)

check_nested_modules() {
	local mod
	for mod in "${nested_modules[@]}"; do
		step "go vet, go mod tidy -diff ($mod)"
		(cd "$mod" && go vet ./... && go mod tidy -diff) || die "$mod: go vet or go mod tidy"
	done
}

check_gofmt() {
	step "gofmt"
	local files
	# Generated code is gofmt'd too, so every Go file is checked.
	files=$(find . \( -name .git -o -name node_modules -o -name testdata -o -name vendor \) -prune -o \
		-name '*.go' -type f -print0 | xargs -0 -r "$(go env GOROOT)/bin/gofmt" -l)
	if [[ -n $files ]]; then
		printf '%s\n' "$files"
		die "files above are not gofmt'd: run gofmt -w on them"
	fi
}

# tree_snapshot prints the id of a git tree holding the work tree as it is,
# tracked and untracked files alike, without touching the real index.
tree_snapshot() {
	local index="$tmp/snapshot.index"
	cp "$(git rev-parse --git-path index)" "$index" 2>/dev/null || rm -f "$index"
	GIT_INDEX_FILE=$index git add -A
	GIT_INDEX_FILE=$index git write-tree
}

check_generated() {
	step "generated code is fresh (make generate)"
	local before after
	before=$(tree_snapshot)
	make --no-print-directory generate || die "make generate"
	after=$(tree_snapshot)
	if [[ $before != "$after" ]]; then
		git status --porcelain
		git diff --stat "$before" "$after"
		die "make generate changed the files above: run it and commit the result"
	fi
}

# check_web rebuilds the dashboard (web/dist, embedded in webhookd) from
# web/src with the packages of web/package-lock.json; like gen/, the
# committed build must be exactly what the sources give.
check_web() {
	step "dashboard build is fresh (make web)"
	local before after
	before=$(tree_snapshot)
	make --no-print-directory web || die "make web"
	after=$(tree_snapshot)
	if [[ $before != "$after" ]]; then
		git status --porcelain
		git diff --stat "$before" "$after"
		die "make web changed the files above: run it and commit the result"
	fi
}

check_breaking() {
	step "buf breaking against the previous commit"
	local prev
	if ! prev=$(git rev-parse -q --verify 'HEAD~1^{commit}'); then
		echo "skipped: no previous commit (shallow clone or first commit)"
		return
	fi
	if ! git cat-file -e "$prev:proto" 2>/dev/null || ! git cat-file -e "$prev:buf.yaml" 2>/dev/null; then
		echo "skipped: ${prev:0:12} has no proto/ or buf.yaml"
		return
	fi
	"${buf[@]}" breaking --against ".git#ref=$prev" || die "proto/ breaks compatibility with ${prev:0:12}"
}

install_missing_packages

tmp=$(mktemp -d "${TMPDIR:-/tmp}/webhookd-test.XXXXXX")
chmod 755 "$tmp" # the postgres user must reach its data dir inside it

if (($# == 0)); then
	check_gofmt
	step "go vet"
	go vet ./... || die "go vet"
	check_nested_modules
	if [[ -f buf.yaml ]]; then
		step "buf lint"
		"${buf[@]}" lint || die "buf lint"
		step "buf format"
		"${buf[@]}" format --diff --exit-code || die "buf format: run '${buf[*]} format -w'"
	else
		step "buf lint, buf format: skipped, no buf.yaml"
	fi
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		check_generated
		check_web
		check_breaking
	else
		step "generated code, buf breaking: skipped, not a git work tree"
	fi
	set -- ./...
	run_nested_tests=1
else
	step "static checks: skipped, go test arguments given"
fi

start_postgres
start_redis
export CI="${CI:-}"

step "go test -race -count=1 $*"
go test -race -count=1 "$@" || die "go test"

# The full run tests the nested modules too (sdk/go's contract tests build
# and start webhookd themselves).
if [[ ${run_nested_tests:-} == 1 ]]; then
	for mod in "${nested_modules[@]}"; do
		step "go test -race -count=1 ./... ($mod)"
		(cd "$mod" && go test -race -count=1 ./...) || die "go test ($mod)"
	done
fi

# The full run also smoke-tests make bench (under a minute): every figure
# must be measured, however slow; speed is never asserted.
if [[ ${run_nested_tests:-} == 1 ]]; then
	step "make bench's smoke test (scripts/bench.sh -short)"
	scripts/bench.sh -short || die "scripts/bench.sh -short"
fi
