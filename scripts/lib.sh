#!/usr/bin/env bash
# Shared by scripts/test.sh, scripts/bench.sh and scripts/chaos.sh; source it,
# do not run it.
#
# It defines the helpers they need: install_missing_packages, free_port, and
# start_postgres / start_redis, which start a throwaway PostgreSQL cluster and
# Redis server on free loopback ports under $tmp and export
# WEBHOOKD_TEST_POSTGRES_URL, WEBHOOKD_TEST_REDIS_URL and
# WEBHOOKD_TEST_REDIS_SERVER; start_redis_cluster starts a Redis Cluster
# instead. Sourcing it installs an EXIT trap (cleanup) that stops them all and
# removes $tmp; the caller sets tmp before starting them.
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

# install_missing_packages [test|bench|chaos]: only test needs Node.js and Chromium.
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
	# The dashboard is built with npm and tested in Debian's Chromium
	# (web/e2e_test.go); no browser is ever downloaded.
	if [[ $mode == test ]]; then
		command -v node >/dev/null || pkgs+=(nodejs)
		command -v npm >/dev/null || pkgs+=(npm)
		[[ -x /usr/bin/chromium ]] || pkgs+=(chromium)
	fi
	# The Python SDK: make generate runs Debian's protoc (with the well-known
	# protos of libprotobuf-dev) and grpc_python_plugin, and its contract test
	# runs on Debian's grpcio and protobuf under /usr/bin/python3.
	if [[ $mode == test ]]; then
		command -v protoc >/dev/null && [[ -f /usr/include/google/protobuf/timestamp.proto ]] || pkgs+=(protobuf-compiler libprotobuf-dev)
		command -v grpc_python_plugin >/dev/null || pkgs+=(protobuf-compiler-grpc)
		/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || pkgs+=(python3-grpcio python3-protobuf)
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
redis_cluster_dirs=()

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
	local node pid
	for node in "${redis_cluster_dirs[@]}"; do
		# Cluster nodes run daemonized (chaos restarts them): stop whichever
		# process serves the node's port now; a clean shutdown removes the
		# pid file, so one left behind names a server that did not stop.
		redis-cli -h 127.0.0.1 -p "${node##*/}" shutdown nosave >/dev/null 2>&1
		pid=$(cat "$node/redis.pid" 2>/dev/null)
		if [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server ]]; then
			kill -9 "$pid"
		fi
	done
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

# start_postgres [test|bench|chaos]: test (the default) turns durability off;
# bench keeps fsync on, as a production cluster would; chaos keeps every
# acknowledged commit across a crash of PostgreSQL (synchronous_commit on),
# though not of the machine (fsync off).
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
	if [[ $mode == chaos ]]; then
		cat >>"$pg_data/postgresql.conf" <<-EOF
			fsync = off
			full_page_writes = off
		EOF
	elif [[ $mode == bench ]]; then
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
	# Outage tests run (and stop) clusters of their own with these binaries.
	export WEBHOOKD_TEST_POSTGRES_BIN="$pg_bin"
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


# start_redis_cluster [N]: a Redis Cluster of N masters (default 3), no
# replicas, on free loopback ports. Each node has its own directory
# $tmp/redis-cluster/<port> holding redis.conf, so that it can be killed
# (kill -9 of its redis.pid) and started again as it was with
# `redis-server <dir>/redis.conf`: it rejoins with its nodes.conf, empty
# (nothing is saved). It exports WEBHOOKD_CHAOS_REDIS_CLUSTER_URL, the seed URL
# in go-redis's cluster form (redis://host:port?addr=host:port&addr=…), and
# sets redis_cluster_dirs.
start_redis_cluster() {
	local n=${1:-3} i port bus dir addrs=()
	local server
	server=$(command -v redis-server)
	step "start a Redis Cluster of $n nodes ($("$server" --version | sed 's/.*v=\([^ ]*\).*/\1/'))"
	for ((i = 0; i < n; i++)); do
		port=$(free_port)
		bus=$(free_port)
		dir=$tmp/redis-cluster/$port
		mkdir -p "$dir"
		# A short node timeout lets the cluster notice a dead node, and
		# recover from it, within seconds.
		cat >"$dir/redis.conf" <<-EOF
			port $port
			cluster-port $bus
			bind 127.0.0.1
			cluster-enabled yes
			cluster-config-file $dir/nodes.conf
			cluster-node-timeout 3000
			save ""
			appendonly no
			daemonize yes
			pidfile $dir/redis.pid
			dir $dir
			logfile $dir/server.log
		EOF
		redis_cluster_dirs+=("$dir")
		"$server" "$dir/redis.conf" || die "redis-server $dir/redis.conf did not start"
		local deadline=$((SECONDS + 30))
		until [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; do
			if ((SECONDS > deadline)); then
				cat "$dir/server.log" >&2
				die "Redis Cluster node on 127.0.0.1:$port did not answer within 30s"
			fi
			sleep 0.1
		done
		addrs+=("127.0.0.1:$port")
	done
	if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$tmp/redis-cluster/create.log" 2>&1; then
		cat "$tmp/redis-cluster/create.log" >&2
		die "redis-cli --cluster create failed"
	fi
	local addr deadline=$((SECONDS + 30))
	for addr in "${addrs[@]}"; do
		until redis-cli -h 127.0.0.1 -p "${addr##*:}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; do
			((SECONDS <= deadline)) || die "the Redis Cluster did not reach cluster_state:ok within 30s"
			sleep 0.2
		done
	done
	local url="redis://${addrs[0]}" sep='?'
	for addr in "${addrs[@]:1}"; do
		url+="${sep}addr=$addr"
		sep='&'
	done
	echo "nodes: ${addrs[*]}"
	export WEBHOOKD_CHAOS_REDIS_CLUSTER_URL=$url
	export WEBHOOKD_TEST_REDIS_SERVER="$server"
}
