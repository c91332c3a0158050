#!/usr/bin/env bash
# Shared by scripts/test.sh and scripts/bench.sh; source it, do not run it.
#
# It defines the helpers both need: install_missing_packages, free_port, and
# start_postgres / start_redis, which start a throwaway PostgreSQL cluster and
# Redis server on free loopback ports under $tmp and export
# WEBHOOKD_TEST_POSTGRES_URL, WEBHOOKD_TEST_REDIS_URL and
# WEBHOOKD_TEST_REDIS_SERVER. Sourcing it installs an EXIT trap (cleanup) that
# stops both and removes $tmp; the caller sets tmp before starting them.
#
# The caller sets lib_name (for messages) before sourcing.

step() { printf '\n==> %s  [%ds]\n' "$*" "$SECONDS"; }
die() { printf '\n%s: FAIL: %s\n' "${lib_name:-${0##*/}}" "$*" >&2; exit 1; }

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

# install_missing_packages [test|bench]: bench needs no Node.js.
install_missing_packages() {
	local mode=${1:-test} pkgs=()
	command -v git >/dev/null || pkgs+=(git)
	command -v make >/dev/null || pkgs+=(make)
	# -race needs cgo, and cgo needs a C compiler.
	command -v "$(go env CC)" >/dev/null || pkgs+=(gcc libc6-dev)
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null || pkgs+=(redis-server)
	[[ -n $(pg_bin_dir) ]] || pkgs+=(postgresql)
	# The payload and signature tests check our bodies and signatures against
	# Node.js, the guide's receiver runtime; npm installs the receiver's packages.
	if [[ $mode == test ]]; then
		command -v node >/dev/null || pkgs+=(nodejs)
		command -v npm >/dev/null || pkgs+=(npm)
	fi
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

# start_postgres [test|bench]: test (the default) turns durability off; bench
# keeps fsync on, as a production cluster would.
start_postgres() {
	local mode=${1:-test}
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
	# Room for the connection pools of test packages running in parallel.
	cat >>"$pg_data/postgresql.conf" <<-EOF
		port = $port
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$dir'
		max_connections = 300
	EOF
	if [[ $mode == bench ]]; then
		# Durable like the embedded SQLite (WAL, synchronous=NORMAL): a crash
		# may lose the last commits but never corrupts; fsync stays on.
		echo "synchronous_commit = off" >>"$pg_data/postgresql.conf"
	else
		# A disposable test cluster: durability off.
		cat >>"$pg_data/postgresql.conf" <<-EOF
			fsync = off
			synchronous_commit = off
			full_page_writes = off
		EOF
	fi
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

