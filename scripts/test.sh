#!/usr/bin/env bash
# The one test command: `make test` runs this, and CI runs `make test`.
#
#   scripts/test.sh                          all checks, then go test -race ./...
#   scripts/test.sh -run TestFoo ./server/...  go test with these args only
#
# It installs what it needs from Debian if missing (PostgreSQL, Redis, gcc for
# -race, git, make), starts a throwaway PostgreSQL cluster and Redis server on
# free loopback ports in a temp dir, removed on exit, and exports for the tests:
#
#   WEBHOOKD_TEST_POSTGRES_URL   postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#   WEBHOOKD_TEST_REDIS_URL      redis://127.0.0.1:PORT/0
#   WEBHOOKD_TEST_REDIS_SERVER   path of redis-server, for tests that run their own
#   CI                           passed through (CI=true makes integration tests required)
#
# Static checks run first, each under its own heading, and the first failure
# stops the run: gofmt, go vet, buf lint, buf format, generated code is fresh,
# buf breaking against the previous commit. Given arguments, the script skips
# them and passes the arguments to go test, for a quick loop while developing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

buf=(go tool -modfile=tools/go.mod buf)

step() { printf '\n==> %s  [%ds]\n' "$*" "$SECONDS"; }
die() { printf '\ntest.sh: FAIL: %s\n' "$*" >&2; exit 1; }

# as_root runs a command as root: directly, through sudo, or not at all.
as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "not root and no sudo: cannot run: $*"
	fi
}

# pg_bin_dir prints the newest Debian PostgreSQL bin directory, or the one on
# PATH (another OS's packaging), or nothing.
pg_bin_dir() {
	local d
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
	if [[ -n $d && -x $d/initdb ]]; then
		echo "$d"
	elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
		dirname "$(command -v initdb)"
	fi
}

install_missing_packages() {
	local pkgs=()
	command -v git >/dev/null || pkgs+=(git)
	command -v make >/dev/null || pkgs+=(make)
	# -race needs cgo, and cgo needs a C compiler.
	command -v "$(go env CC)" >/dev/null || pkgs+=(gcc libc6-dev)
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null || pkgs+=(redis-server)
	[[ -n $(pg_bin_dir) ]] || pkgs+=(postgresql)
	# The payload and signature tests check our bodies and signatures against
	# Node.js, the guide's receiver runtime; npm installs the receiver's packages.
	command -v node >/dev/null || pkgs+=(nodejs)
	command -v npm >/dev/null || pkgs+=(npm)
	# Go reaches the module proxy over HTTPS.
	[[ -e /etc/ssl/certs/ca-certificates.crt ]] || pkgs+=(ca-certificates)
	if ((${#pkgs[@]} == 0)); then
		return
	fi
	step "install ${pkgs[*]}"
	command -v apt-get >/dev/null || die "missing ${pkgs[*]} and no apt-get to install them: install them by hand"
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
}

# free_port prints a loopback TCP port that nothing listens on. It picks below
# Linux's ephemeral range (32768+) so that outgoing connections, and the tests'
# own :0 listeners, never hold it.
free_port() {
	local port i
	for ((i = 0; i < 100; i++)); do
		port=$((15000 + RANDOM % 15000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	die "no free loopback port found"
}

tmp=''
pg_data=''
pg_bin=''
redis_pid=''
redis_port=''

cleanup() {
	local rc=$?
	set +e
	if [[ -n $pg_data && -f $pg_data/postmaster.pid ]]; then
		pg_as_owner "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1
	fi
	if [[ -n $redis_port ]]; then
		# Also stops a server that a test restarted on the same port.
		redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1
	fi
	if [[ -n $redis_pid ]]; then
		kill "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
	fi
	if [[ -n $tmp ]]; then
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pg_as_owner runs a PostgreSQL tool as the user owning the cluster: initdb and
# postgres refuse to run as root, so as root that is the postgres system user.
pg_as_owner() {
	if [[ $(id -u) -ne 0 ]]; then
		"$@"
	elif command -v runuser >/dev/null; then
		(cd "$tmp" && runuser -u postgres -- "$@")
	else
		(cd "$tmp" && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
	fi
}

start_postgres() {
	pg_bin=$(pg_bin_dir)
	[[ -n $pg_bin ]] || die "PostgreSQL binaries not found after install"
	local port dir="$tmp/postgres"
	port=$(free_port)
	pg_data=$dir/data
	mkdir -p "$dir"
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || die "running as root, but there is no postgres user to run PostgreSQL as"
		chown postgres: "$dir"
	fi
	step "start PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
	if ! pg_as_owner "$pg_bin/initdb" -D "$pg_data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	fi
	# Settings for a disposable test cluster: durability off, room for the
	# connection pools of test packages running in parallel.
	cat >>"$pg_data/postgresql.conf" <<-EOF
		port = $port
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$dir'
		max_connections = 300
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	EOF
	if ! pg_as_owner "$pg_bin/pg_ctl" -D "$pg_data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
		cat "$dir/server.log" >&2
		die "PostgreSQL did not start"
	fi
	local deadline=$((SECONDS + 30))
	until "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
		if ((SECONDS > deadline)); then
			cat "$dir/server.log" >&2
			die "PostgreSQL on 127.0.0.1:$port did not answer within 30s"
		fi
		sleep 0.2
	done
	export WEBHOOKD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

start_redis() {
	local port dir="$tmp/redis" server
	server=$(command -v redis-server)
	port=$(free_port)
	mkdir -p "$dir"
	step "start Redis $("$server" --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$port"
	"$server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
		--dir "$dir" --logfile "$dir/server.log" &
	redis_pid=$!
	redis_port=$port
	local deadline=$((SECONDS + 30))
	until [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; do
		if ! kill -0 "$redis_pid" 2>/dev/null || ((SECONDS > deadline)); then
			cat "$dir/server.log" >&2
			die "Redis on 127.0.0.1:$port did not answer within 30s"
		fi
		sleep 0.1
	done
	export WEBHOOKD_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
	export WEBHOOKD_TEST_REDIS_SERVER="$server"
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
		check_breaking
	else
		step "generated code, buf breaking: skipped, not a git work tree"
	fi
	set -- ./...
else
	step "static checks: skipped, go test arguments given"
fi

start_postgres
start_redis
export CI="${CI:-}"

step "go test -race -count=1 $*"
go test -race -count=1 "$@" || die "go test"
