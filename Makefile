# Targets for developers and CI. `make help` lists them; CI runs `make test`.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# buf and the protoc plugins are pinned in tools/go.mod, apart from the
# service's own dependencies.
BUF := go tool -modfile=tools/go.mod buf

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# MIGRATION names the migration file that `make generate` writes when ent/schema
# changed: make generate MIGRATION=add_endpoint_labels.
MIGRATION ?= schema_change

.PHONY: generate
generate: web/node_modules/.package-lock.json ## Regenerate gen/ from proto/ (buf), ent/ from ent/schema (entc) with its migrations (MIGRATION=name), the dashboard's API types and the CLI reference in docs/cli
	@# buf.gen.yaml cannot use "clean" (gen/openapiv2/openapiv2.go is hand-written),
	@# so generated files are removed here: a deleted proto leaves nothing stale.
	find gen server/gateway -type f \( -name '*.pb.go' -o -name '*.pb.gw.go' -o -name '*.swagger.json' -o -name '*.openapi.json' \) -delete
	$(BUF) generate
	go generate ./ent/...
	@# A new versioned migration when ent/schema differs from what the files
	@# in ent/migrate/migrations make (none when it does not); it replays them
	@# on an in-memory SQLite and on a throwaway PostgreSQL cluster.
	go run ./ent/migrate/gen -name $(MIGRATION)
	go generate ./internal/cli/...
	@# The dashboard's typed client: openapi-typescript over the OpenAPI 3.1 document.
	cd web && npm run --silent generate
	@# The TypeScript SDK: protoc-gen-es (pinned by sdk/typescript/package-lock.json)
	@# over proto/, then openapi-typescript over the OpenAPI 3.1 document.
	$(BUF) generate --template sdk/typescript/buf.gen.yaml
	cd sdk/typescript && npm run --silent generate
	@# The Python SDK's stubs: Debian's protoc and grpc_python_plugin, versions checked.
	sdk/python/generate.sh

# The TypeScript SDK's npm packages, pinned by sdk/typescript/package-lock.json;
# protoc-gen-es runs from its node_modules.
generate: sdk/typescript/node_modules/.package-lock.json
sdk/typescript/node_modules/.package-lock.json: sdk/typescript/package-lock.json sdk/typescript/package.json
	cd sdk/typescript && npm ci

# The dashboard's npm packages, pinned by web/package-lock.json.
web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && npm ci

.PHONY: web
web: web/node_modules/.package-lock.json ## Build the dashboard into web/dist (committed, embedded in webhookd)
	cd web && npm run --silent build

.PHONY: lint
lint: ## Check formatting (gofmt, buf format), go vet and buf lint
	@files=$$(find . \( -name .git -o -name node_modules -o -name testdata -o -name vendor \) -prune -o -name '*.go' -type f -print0 | xargs -0 -r "$$(go env GOROOT)/bin/gofmt" -l); \
	if [[ -n $$files ]]; then echo "not gofmt'd:"; echo "$$files"; exit 1; fi
	go vet ./...
	cd gen && go vet ./...
	cd sdk/go && go vet ./...
	$(BUF) lint
	$(BUF) format --diff --exit-code

.PHONY: test
test: ## Run every check and the tests against throwaway PostgreSQL and Redis (what CI runs)
	scripts/test.sh

.PHONY: bench
bench: ## Measure throughput, latency, retry lateness, CPU and memory (SQLite, then PostgreSQL + Redis) against a net/http baseline
	scripts/bench.sh

.PHONY: bench-short
bench-short: ## make bench's smoke test (CI): every figure measured once on a few hundred events, no speed asserted
	scripts/bench.sh -short

.PHONY: bench-dashboard
bench-dashboard: ## Time the dashboard's history and health calls on 100,000 deliveries (SQLite, PostgreSQL) and its first load
	scripts/bench-dashboard.sh

.PHONY: chaos
chaos: ## Kill a worker, a Redis Cluster node and PostgreSQL under load; fail if a delivery is lost (CHAOS_ARGS=-short: CI's short form)
	scripts/chaos.sh $(CHAOS_ARGS)

# VERSION is what `webhookd --version` prints and deliveries send as
# User-Agent: webhookd/$(VERSION): the release tag when HEAD is one, else the
# VERSION file's release as a pre-release of the commit (0.1.0-dev+1889067).
# Empty (no git), the binaries fall back to the module version Go records.
VERSION ?= $(shell git describe --tags --exact-match --dirty 2>/dev/null || \
	{ c=$$(git describe --always --dirty 2>/dev/null) && echo "$$(cat VERSION)-dev+$$c"; })

.PHONY: build
build: ## Build the binaries into bin/, stamped with VERSION (default: the release tag, or VERSION-dev+commit)
	go build -ldflags '-X github.com/webhookd/webhookd/internal/version.stamped=$(VERSION)' -o bin/ ./cmd/...

.PHONY: run
run: ## Run webhookd with its embedded defaults (SQLite, in-process Redis)
	go run ./cmd/webhookd

.PHONY: tools
tools: ## Build the pinned code generators (buf, protoc plugins) into the Go cache
	go build -modfile=tools/go.mod -o /dev/null tool
