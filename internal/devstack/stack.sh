#!/usr/bin/env bash
# stack.sh starts and stops the real services ticketflow runs against, without Docker:
# PostgreSQL, a six-node Redis Cluster and the Temporal dev server (built from source).
#
#   internal/devstack/stack.sh <deps|up|down|env|status|clean> [dev|test|bench|faults]
#   internal/devstack/stack.sh <stop-postgres|start-postgres|kill-redis-master|start-redis|
#                               stop-temporal|start-temporal> <profile>
#
# Each profile has its own ports and keeps its data in <repo>/.data/<profile>/, so the stacks
# can run at the same time. `up` and `down` are idempotent. The second group stops or starts one
# service of a running stack: the fault suite (internal/faults) takes a dependency away from a
# running system with them, and gives it back.
#
# The profiles' ports and the search attributes that the workflows set are defined in Go, by
# package internal/devstack: this script reads them from its command, cmd/devstack.
set -euo pipefail

readonly TEMPORAL_VERSION=v1.5.1

REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
readonly REPO
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
# The Temporal CLI takes ~10 minutes to build, so it lives outside the checkout, keyed by
# version: a fresh clone (CI) reuses it.
readonly CACHE=${TICKETFLOW_CACHE:-$HOME/.cache/ticketflow}
readonly TEMPORAL_BIN=$CACHE/temporal-$TEMPORAL_VERSION/temporal

say() { printf '%s\n' "$*"; }
die() {
	printf 'stack.sh: %s\n' "$*" >&2
	exit 1
}

usage() {
	cat >&2 <<'EOF'
usage: internal/devstack/stack.sh <command> [dev|test|bench|faults]

  deps      install what is missing (Debian packages, the Temporal CLI v1.5.1)
  up        start PostgreSQL, the Redis Cluster and Temporal; wait until they are ready
  down      stop them, keeping the data
  env       print the export lines of the profile (test: TEST_ prefixed names)
  status    one line per service; exit status 0 only when all are up
  clean     down, then delete the profile's data

one service of a running stack (the fault suite, internal/faults, uses these on its own profile):
  stop-postgres      stop PostgreSQL at once, as a crash would (pg_ctl -m immediate)
  start-postgres     start it again and wait until it accepts connections
  kill-redis-master  SIGKILL one Redis master, chosen at random, and wait until its replica
                     has taken over; prints the port of the killed node
  start-redis        start the nodes that are not running; wait until every node is in the
                     cluster again and every replica has synced
  stop-temporal      stop the Temporal dev server (its database file is kept)
  start-temporal     start it again and wait until it serves
EOF
	exit 2
}

# load_profile sets the ports, addresses and paths of a profile, and SEARCH_ATTRIBUTES (Name=Type),
# from `devstack shell <profile>`: PG_PORT, REDIS_PORTS, TEMPORAL_PORT, TEMPORAL_UI_PORT (empty:
# headless), TEMPORAL_HTTP_PORT, TEMPORAL_METRICS_PORT, PG_DSN, REDIS_SEEDS, TEMPORAL_ADDR.
load_profile() {
	PROFILE=${1:-dev}
	local vars
	devstack_bin
	vars=$("$DEVSTACK_BIN" shell "$PROFILE" 2>&1) || die "$vars"
	eval "$vars"
	DATA=$REPO/.data/$PROFILE
}

# devstack_bin sets DEVSTACK_BIN to a build of internal/devstack/cmd/devstack. It is built once
# for each version of its sources (a hash of them names it), so that a call of this script costs
# an exec, not a go build. When the sources do not build, e.g. in the middle of an edit of
# workflows/, the last build is used, so that the stacks can still be stopped.
devstack_bin() {
	local dir=$REPO/.data/devstack f srcs=() sum tmp old
	# The packages whose code makes its output, and the module's versions. (Test files do not.)
	for f in "$REPO"/go.mod "$REPO"/go.sum "$REPO"/internal/devstack/*.go "$REPO"/internal/devstack/cmd/devstack/*.go "$REPO"/workflows/*.go; do
		[[ $f == *_test.go ]] || srcs+=("$f")
	done
	sum=$(sha256sum -- "${srcs[@]}" | sha256sum | cut -c1-16)
	DEVSTACK_BIN=$dir/devstack-$sum
	[[ -x $DEVSTACK_BIN ]] && return
	command -v go >/dev/null || die "go is needed to build internal/devstack/cmd/devstack"
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.build.XXXXXX")
	if (cd "$REPO" && go build -o "$tmp/devstack" ./internal/devstack/cmd/devstack); then
		for old in "$dir"/devstack-*; do [[ $old == "$DEVSTACK_BIN" ]] || rm -f "$old"; done
		mv -f "$tmp/devstack" "$DEVSTACK_BIN"
		rm -rf "$tmp"
		return
	fi
	rm -rf "$tmp"
	for old in "$dir"/devstack-*; do
		[[ -x $old ]] || continue
		say "stack.sh: internal/devstack/cmd/devstack does not build (above); using its last build" >&2
		DEVSTACK_BIN=$old
		return
	done
	die "internal/devstack/cmd/devstack does not build"
}

# lock serialises up/down/clean of one profile, e.g. `make stop` racing the trap of `make run`.
# Every daemon is started with 9>&- so that it does not inherit (and hold) this lock.
lock() {
	mkdir -p "$REPO/.data"
	exec 9>"$REPO/.data/.lock-$PROFILE"
	flock 9
}

# wait_for polls a command until it succeeds or the timeout (seconds) passes.
wait_for() {
	local timeout=$1 what=$2
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || {
			say "timed out after ${timeout}s waiting for $what" >&2
			return 1
		}
		sleep 0.3
	done
}

# pid_alive <pidfile> <word>: the process of the pid file runs, and it is ours (its command line
# has <word>; a stale pid file may name a pid that was reused).
pid_alive() {
	local pid cmdline
	pid=$(cat "$1" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null && cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) && [[ $cmdline == *"$2"* ]]
}
pid_gone() { ! pid_alive "$@"; }

# stop_pid <pidfile> <word> <seconds>: SIGTERM, wait, then SIGKILL.
stop_pid() {
	local pidfile=$1 word=$2 timeout=$3 pid
	if pid_alive "$pidfile" "$word"; then
		pid=$(cat "$pidfile")
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_for "$timeout" "$word to stop" pid_gone "$pidfile" "$word"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# deps

cmd_deps() {
	deps_packages
	deps_temporal
}

pg_bin() {
	local dirs=(/usr/lib/postgresql/*/bin)
	[[ -x ${dirs[-1]}/initdb ]] || die "PostgreSQL is not installed: run internal/devstack/stack.sh deps"
	say "${dirs[-1]}" # the glob sorts; the last is the newest major that is installed
}

deps_packages() {
	local missing=()
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
	command -v redis-server >/dev/null || missing+=(redis-server)
	command -v redis-cli >/dev/null || missing+=(redis-tools)
	# No Docker engine runs here: docker-compose only validates docker-compose.yml in the tests.
	command -v docker-compose >/dev/null || missing+=(docker-compose)
	# Headless Chromium renders the API's docs pages in the browser test.
	command -v chromium >/dev/null || missing+=(chromium)
	# npm packs the pinned Swagger UI and ReDoc files that the API embeds (internal/httpapi/docs).
	command -v npm >/dev/null || missing+=(npm)
	((${#missing[@]} == 0)) && return
	if ((EUID != 0)) || ! command -v apt-get >/dev/null; then
		say "missing: ${missing[*]}. Install them, e.g.: sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	say "installing ${missing[*]} ..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q "${missing[@]}"
}

deps_temporal() {
	temporal_ok && return
	command -v go >/dev/null || die "go is needed to build the Temporal CLI"
	mkdir -p "$(dirname "$TEMPORAL_BIN")"
	# Two `deps` at once (two terminals, make -j) must not build twice: the second waits.
	exec 8>"$CACHE/temporal-$TEMPORAL_VERSION.lock"
	if ! flock -n 8; then
		say "another stack.sh is building the Temporal CLI; waiting for it ..."
		flock 8
	fi
	if ! temporal_ok; then
		rm -rf "$CACHE"/.temporal-build.* # left by a killed build; we hold the lock
		build_temporal
	fi
	exec 8>&-
}

temporal_ok() { [[ -x $TEMPORAL_BIN ]] && "$TEMPORAL_BIN" --version >/dev/null 2>&1; }

# build_temporal builds into a temporary directory next to the target and renames it into
# place, so an interrupted build never leaves a half-written binary behind.
build_temporal() {
	local tmp pid start=$SECONDS next=30
	tmp=$(mktemp -d "$CACHE/.temporal-build.XXXXXX")
	# cd into the temp dir so that no go.mod or go.work around us takes part; GOFLAGS is
	# cleared because flags like -mod=vendor are refused with pkg@version.
	(cd "$tmp" && exec env GOBIN="$tmp" GOFLAGS= GOWORK=off \
		go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_VERSION") >"$tmp/build.log" 2>&1 &
	pid=$!
	trap 'kill -INT '"$pid"' 2>/dev/null; rm -rf '"'$tmp'"'; exit 130' INT TERM
	say "building the Temporal CLI $TEMPORAL_VERSION (first time only, ~10 min) into $(dirname "$TEMPORAL_BIN")"
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if ((SECONDS - start >= next)); then
			say "building the Temporal CLI $TEMPORAL_VERSION (first time only, ~10 min)... $((SECONDS - start))s"
			next=$((next + 30))
		fi
	done
	if ! wait "$pid"; then
		tail -n 30 "$tmp/build.log" >&2
		rm -rf "$tmp"
		die "building the Temporal CLI failed"
	fi
	trap - INT TERM
	mv -f "$tmp/temporal" "$TEMPORAL_BIN"
	rm -rf "$tmp"
	say "built $TEMPORAL_BIN in $((SECONDS - start))s"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# as_pg runs a PostgreSQL tool: as the postgres OS user when we are root (the server refuses
# to run as root), as ourselves otherwise. cd / keeps it from complaining about a cwd it cannot read.
as_pg() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# pg_dir is the cluster's data directory: .data/<profile>/postgres, unless we are root and the
# postgres user cannot reach into the checkout (e.g. a clone under /root, mode 700) or the
# socket path would pass the 107-byte limit of unix sockets. Then it is
# /var/tmp/ticketflow-<hash of the repo path>-<profile>, one per checkout and profile.
pg_dir() {
	local dir=$DATA/postgres
	if { ((EUID == 0)) && id postgres >/dev/null 2>&1 && ! (cd / && runuser -u postgres -- test -x "$REPO"); } ||
		((${#dir} + 20 > 107)); then
		dir=/var/tmp/ticketflow-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)-$PROFILE
	fi
	say "$dir"
}

pg_running() { [[ -f $PG_DIR/PG_VERSION ]] && as_pg "$(pg_bin)/pg_ctl" status -D "$PG_DIR" >/dev/null 2>&1; }

pg_up() {
	if pg_running; then
		say "postgres: already running on 127.0.0.1:$PG_PORT"
	else
		[[ -f $PG_DIR/PG_VERSION ]] || pg_init
		pg_write_conf
		say "postgres: starting on 127.0.0.1:$PG_PORT"
		as_pg "$(pg_bin)/pg_ctl" start -w -t 60 -D "$PG_DIR" -l "$PG_DIR/postgres.log" >/dev/null 9>&- || {
			tail -n 20 "$PG_DIR/postgres.log" >&2
			die "postgres did not start; its log is $PG_DIR/postgres.log"
		}
	fi
	pg_bootstrap
}

pg_init() {
	say "postgres: creating a cluster in $PG_DIR"
	mkdir -p "$PG_DIR"
	chmod 700 "$PG_DIR"
	((EUID == 0)) && chown postgres:postgres "$PG_DIR"
	local nosync=()
	[[ $PROFILE == test || $PROFILE == faults ]] && nosync=(--no-sync)
	# Local (socket) connections trust the OS user: only the owner of the data dir reaches the
	# socket. TCP connections need a password.
	as_pg "$(pg_bin)/initdb" -D "$PG_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 "${nosync[@]}" >"$DATA/initdb.log" 2>&1 || {
		cat "$DATA/initdb.log" >&2
		die "initdb failed"
	}
	# Our settings live in a file of their own that every `up` rewrites, so a changed port or
	# setting in this script reaches an existing cluster too.
	say "include_if_exists = 'ticketflow.conf'" >>"$PG_DIR/postgresql.conf"
}

pg_write_conf() {
	{
		say "# written by internal/devstack/stack.sh on every up; edits are lost"
		say "listen_addresses = '127.0.0.1'"
		say "port = $PG_PORT"
		say "unix_socket_directories = '${PG_DIR//\'/\'\'}'"
		if [[ $PROFILE == test ]]; then
			say "# test data is thrown away: trade durability for speed"
			say "fsync = off"
			say "synchronous_commit = off"
			say "full_page_writes = off"
		fi
		# faults keeps the durable defaults: it stops the server as a crash would, and what
		# was committed before must survive that, as in production.
	} >"$PG_DIR/ticketflow.conf"
	((EUID == 0)) && chown postgres:postgres "$PG_DIR/ticketflow.conf"
	return 0
}

pg_psql() { as_pg "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres; }

# pg_bootstrap creates the role and the database, idempotently.
pg_bootstrap() {
	local createdb=
	# Tests create a fresh database per package.
	[[ $PROFILE == test ]] && createdb='ALTER ROLE ticketflow CREATEDB;'
	pg_psql >/dev/null <<SQL
SELECT 'CREATE ROLE ticketflow' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ticketflow')\gexec
ALTER ROLE ticketflow WITH LOGIN PASSWORD 'ticketflow';
$createdb
SELECT 'CREATE DATABASE ticketflow OWNER ticketflow'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ticketflow')\gexec
SQL
}

pg_down() {
	pg_running || return 0
	say "postgres: stopping"
	as_pg "$(pg_bin)/pg_ctl" stop -D "$PG_DIR" -m fast -w -t 60 >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Redis Cluster

redis_dir() { say "$DATA/redis/$1"; }
redis_running() { pid_alive "$(redis_dir "$1")/redis.pid" redis-server; }
redis_ping() { [[ $(redis-cli -p "$1" ping 2>/dev/null) == PONG ]]; }
redis_info() { redis-cli -p "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }
redis_cluster_ok() { [[ $(redis_info "$1" cluster_state) == ok ]]; }

redis_all_ok() {
	local p
	for p in "${REDIS_PORTS[@]}"; do redis_cluster_ok "$p" || return 1; done
}

redis_start_node() {
	local port=$1 dir
	dir=$(redis_dir "$port")
	mkdir -p "$dir"
	local persistence=(--appendonly yes)
	# faults: a killed master restarts empty and resyncs from the replica that took over.
	[[ $PROFILE == test || $PROFILE == faults ]] && persistence=(--appendonly no --save '')
	# nodes-<port>.conf (in --dir) is the node's identity and view of the cluster; keeping it
	# is what lets a restarted stack come back as the same cluster.
	redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
		--cluster-config-file "nodes-$port.conf" --dir "$dir" --daemonize yes \
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "${persistence[@]}" 9>&-
}

redis_up() {
	local p started=0
	for p in "${REDIS_PORTS[@]}"; do
		redis_running "$p" && continue
		port_open "$p" && die "port $p is taken by another process"
		redis_start_node "$p"
		started=$((started + 1))
	done
	((started == 0)) && say "redis: already running on 127.0.0.1:${REDIS_PORTS[0]}-${REDIS_PORTS[-1]}"
	((started > 0)) && say "redis: started $started node(s) on 127.0.0.1:${REDIS_PORTS[0]}-${REDIS_PORTS[-1]}"
	for p in "${REDIS_PORTS[@]}"; do
		wait_for 30 "redis on port $p" redis_ping "$p" || die "redis on $p is not answering; see $(redis_dir "$p")/redis.log"
	done
	redis_fresh && redis_create_cluster
	wait_for 60 "cluster_state:ok on all redis nodes" redis_all_ok ||
		die "the redis cluster did not become ok (to start over: stack.sh clean $PROFILE)"
}

# redis_fresh: no node knows any other node or owns a slot, i.e. the cluster was never formed.
redis_fresh() {
	local p
	for p in "${REDIS_PORTS[@]}"; do
		[[ $(redis_info "$p" cluster_known_nodes) == 1 && $(redis_info "$p" cluster_slots_assigned) == 0 ]] || return 1
	done
}

redis_create_cluster() {
	say "redis: forming the cluster (3 masters, 3 replicas)"
	local nodes=() p
	for p in "${REDIS_PORTS[@]}"; do nodes+=("127.0.0.1:$p"); done
	redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
		>"$DATA/redis/cluster-create.log" 2>&1 </dev/null || {
		cat "$DATA/redis/cluster-create.log" >&2
		die "redis-cli --cluster create failed"
	}
}

redis_down() {
	local p dir stopped=0
	for p in "${REDIS_PORTS[@]}"; do
		redis_running "$p" || continue
		dir=$(redis_dir "$p")
		# SHUTDOWN writes the AOF/RDB (dev) and nodes.conf before the process exits.
		redis-cli -p "$p" shutdown >/dev/null 2>&1 || true
		stop_pid "$dir/redis.pid" redis-server 20
		stopped=$((stopped + 1))
	done
	((stopped > 0)) && say "redis: stopped $stopped node(s)"
	return 0
}

# ---------------------------------------------------------------------------------------------
# Temporal

temporal_running() { pid_alive "$DATA/temporal.pid" temporal; }
# (Outputs are captured, not piped into grep -q: with pipefail, grep quitting early fails the pipe.)
temporal_healthy() {
	local out
	out=$("$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT" 2>/dev/null) && [[ $out == *SERVING* ]]
}

# temporal_search_attributes registers the search attributes that the db file lacks: start-dev
# registers its --search-attribute flags only when it creates the namespace, so one added to
# workflows.SearchAttributes later would be missing from an existing .data/<profile>/temporal.db.
temporal_search_attributes() {
	local have sa
	have=$("$TEMPORAL_BIN" operator search-attribute list --address "127.0.0.1:$TEMPORAL_PORT" --namespace default) ||
		die "temporal: cannot list the search attributes"
	for sa in "${SEARCH_ATTRIBUTES[@]}"; do
		[[ $have =~ (^|[[:space:]])${sa%%=*}[[:space:]] ]] && continue
		say "temporal: registering search attribute $sa"
		"$TEMPORAL_BIN" operator search-attribute create --address "127.0.0.1:$TEMPORAL_PORT" --namespace default \
			--name "${sa%%=*}" --type "${sa#*=}" >/dev/null
	done
}

temporal_up() {
	temporal_ok || die "the Temporal CLI is missing: run internal/devstack/stack.sh deps"
	if temporal_running; then
		say "temporal: already running on 127.0.0.1:$TEMPORAL_PORT"
	else
		port_open "$TEMPORAL_PORT" && die "port $TEMPORAL_PORT is taken by another process"
		temporal_start
	fi
	local deadline=$((SECONDS + 120))
	until temporal_healthy; do
		temporal_running || {
			tail -n 30 "$DATA/temporal.log" >&2
			die "temporal exited; its log is $DATA/temporal.log"
		}
		((SECONDS < deadline)) || die "temporal is not ready after 120s; see $DATA/temporal.log"
		sleep 0.5
	done
	temporal_search_attributes
}

temporal_start() {
	local args=(server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT"
		--http-port "$TEMPORAL_HTTP_PORT" --metrics-port "$TEMPORAL_METRICS_PORT"
		--db-filename "$DATA/temporal.db" --namespace default --log-level warn)
	local sa
	for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
	if [[ -n $TEMPORAL_UI_PORT ]]; then args+=(--ui-port "$TEMPORAL_UI_PORT"); else args+=(--headless); fi
	if [[ $PROFILE == bench ]]; then
		# start-dev makes every read of the search attributes go to its database, so that one
		# registered a moment ago is seen at once; a production server caches them. Under load
		# that is several database reads per change that sets a search attribute, which the
		# bench would count against ticketflow. Its search attributes are registered with the
		# namespace, before the server serves (start-dev --search-attribute).
		args+=(--dynamic-config-value system.forceSearchAttributesCacheRefreshOnRead=false)
	fi
	mkdir -p "$DATA"
	rm -f "$DATA/temporal.pid"
	say "temporal: starting on 127.0.0.1:$TEMPORAL_PORT"
	# setsid: a session of its own, so a Ctrl-C in the terminal of `make run` does not kill it
	# behind the back of the trap that stops things in order. The inner bash writes its own
	# pid and execs, so the pid file names the server itself.
	# shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
	setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$DATA/temporal.pid" "$TEMPORAL_BIN" "${args[@]}" \
		>>"$DATA/temporal.log" 2>&1 </dev/null 9>&- &
	wait_for 10 "the temporal pid file" test -s "$DATA/temporal.pid" || die "temporal did not start"
}

temporal_down() {
	temporal_running || {
		rm -f "$DATA/temporal.pid"
		return 0
	}
	say "temporal: stopping"
	stop_pid "$DATA/temporal.pid" temporal 30
}

# ---------------------------------------------------------------------------------------------
# one service at a time: what the fault suite (internal/faults) takes away and gives back

cmd_stop_postgres() {
	lock
	PG_DIR=$(pg_dir)
	pg_running || {
		say "postgres: not running"
		return 0
	}
	# immediate: the server quits without a checkpoint and recovers from its WAL on the next
	# start, as after a crash; every client connection breaks at once.
	say "postgres: stopping at once (-m immediate)"
	as_pg "$(pg_bin)/pg_ctl" stop -D "$PG_DIR" -m immediate -w -t 60 >/dev/null
}

cmd_start_postgres() {
	need_tools
	lock
	PG_DIR=$(pg_dir)
	pg_up
}

# redis_masters prints the ports of the masters that hold slots, as the first running node sees
# them, leaving out any already marked failed.
redis_masters() {
	local p
	for p in "${REDIS_PORTS[@]}"; do
		redis_running "$p" || continue
		# <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
		redis-cli -p "$p" cluster nodes 2>/dev/null | tr -d '\r' |
			awk 'NF > 8 && ("," $3 ",") ~ /,master,/ && $3 !~ /fail/ { split($2, a, "[:@]"); print a[2] }'
		return 0
	done
}

# redis_took_over <port>: every other running node sees the cluster as ok, the node on <port>
# as failed (not merely suspected: "fail?"), and no slot left on it.
redis_took_over() {
	local dead=$1 p line f
	for p in "${REDIS_PORTS[@]}"; do
		if ((p == dead)) || ! redis_running "$p"; then continue; fi
		redis_cluster_ok "$p" || return 1
		line=$(redis-cli -p "$p" cluster nodes 2>/dev/null | tr -d '\r' | grep -F " 127.0.0.1:$dead@") || return 1
		read -r -a f <<<"$line"
		[[ ,${f[2]}, == *,fail,* ]] || return 1
		((${#f[@]} <= 8)) || return 1 # no slots left on it
	done
}

# redis_replicas_synced: every running replica has a live link to its master.
redis_replicas_synced() {
	local p info
	for p in "${REDIS_PORTS[@]}"; do
		redis_running "$p" || continue
		info=$(redis-cli -p "$p" info replication 2>/dev/null | tr -d '\r') || return 1
		[[ $info == *role:master* || $info == *master_link_status:up* ]] || return 1
	done
}

# cmd_kill_redis_master prints only the killed node's port on stdout, for the caller to read;
# what it does goes to stderr.
cmd_kill_redis_master() {
	lock
	local masters port dir
	# A replica that has not finished its first sync never takes over ("disconnected from master
	# for longer than allowed"): right after `up` the kill must wait for that.
	wait_for 60 "every replica to sync with its master" redis_replicas_synced ||
		die "redis: a replica is not in sync, so its master cannot be taken over"
	mapfile -t masters < <(redis_masters)
	((${#masters[@]} > 0)) || die "redis: no healthy master to kill"
	port=${masters[RANDOM % ${#masters[@]}]}
	dir=$(redis_dir "$port")
	redis_running "$port" || die "redis: the master on port $port is not one of ours"
	kill -KILL "$(cat "$dir/redis.pid")"
	say "redis: killed the master on port $port; waiting for its replica to take over" >&2
	# A replica takes over once the others have missed the master for cluster-node-timeout
	# (15 s by default) and elected it: about 16-20 s.
	wait_for 120 "a replica to take over from port $port" redis_took_over "$port" ||
		die "redis: no replica took over from port $port"
	say "redis: a replica took over from port $port" >&2
	say "$port"
}

cmd_start_redis() {
	need_tools
	lock
	redis_up
	wait_for 60 "every replica to sync with its master" redis_replicas_synced ||
		die "redis: a replica did not sync with its master"
}

cmd_stop_temporal() {
	lock
	temporal_down
}

cmd_start_temporal() {
	need_tools
	lock
	mkdir -p "$DATA"
	temporal_up
}

# ---------------------------------------------------------------------------------------------
# commands

# need_tools fails early, with the fix, when `deps` has not run.
need_tools() {
	if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || ! command -v redis-server >/dev/null ||
		! command -v redis-cli >/dev/null || ! temporal_ok; then
		die "missing tools: run internal/devstack/stack.sh deps first"
	fi
}

cmd_up() {
	need_tools
	lock
	mkdir -p "$DATA"
	# The postgres user must be able to traverse to its data dir, whatever our umask was.
	chmod 755 "$REPO/.data" "$DATA"
	PG_DIR=$(pg_dir)
	pg_up
	redis_up
	temporal_up
	print_summary
}

cmd_down() {
	lock
	PG_DIR=$(pg_dir)
	temporal_down
	redis_down
	pg_down
	say "$PROFILE stack: down (data kept in $DATA)"
}

cmd_clean() {
	cmd_down
	rm -rf "$DATA"
	[[ $PG_DIR == "$DATA"/* ]] || rm -rf "$PG_DIR"
	say "$PROFILE stack: data removed"
}

cmd_env() {
	local prefix=
	[[ $PROFILE == test ]] && prefix=TEST_
	# Single quotes: the DSN has a '?' that an unquoted eval would glob.
	printf "export %sDATABASE_DSN='%s'\n" "$prefix" "$PG_DSN"
	printf "export %sREDIS_ADDRS='%s'\n" "$prefix" "$REDIS_SEEDS"
	printf "export %sTEMPORAL_ADDRESS='%s'\n" "$prefix" "$TEMPORAL_ADDR"
}

cmd_status() {
	PG_DIR=$(pg_dir)
	local all=0 up p
	if pg_running; then up=up; else up=down all=1; fi
	printf '%-9s %-5s %s\n' postgres "$up" "127.0.0.1:$PG_PORT (data: $PG_DIR)"

	local n=0
	for p in "${REDIS_PORTS[@]}"; do redis_running "$p" && n=$((n + 1)); done
	if ((n == 6)) && redis_all_ok; then up=up; else up=down all=1; fi
	printf '%-9s %-5s %s\n' redis "$up" "127.0.0.1:${REDIS_PORTS[0]}-${REDIS_PORTS[-1]} ($n/6 nodes running, cluster_state:$(redis_info "${REDIS_PORTS[0]}" cluster_state))"

	if temporal_running && temporal_healthy; then up=up; else up=down all=1; fi
	printf '%-9s %-5s %s\n' temporal "$up" "127.0.0.1:$TEMPORAL_PORT${TEMPORAL_UI_PORT:+ (UI http://localhost:$TEMPORAL_UI_PORT)}"
	return $all
}

print_summary() {
	say ""
	say "ticketflow $PROFILE stack is up:"
	if [[ $PROFILE == dev ]]; then
		say "  API (make run)  http://localhost:8000"
		say "  Temporal UI     http://localhost:$TEMPORAL_UI_PORT"
	fi
	say "  Temporal        $TEMPORAL_ADDR (namespace default)"
	say "  PostgreSQL      $PG_DSN"
	say "  Redis seeds     $REDIS_SEEDS"
	say "  data and logs   $DATA${PG_DIR:+ (postgres: $PG_DIR)}"
	say "  environment     eval \"\$(internal/devstack/stack.sh env $PROFILE)\""
	say "  stop            internal/devstack/stack.sh down $PROFILE"
}

main() {
	(($# >= 1 && $# <= 2)) || usage
	local cmd=$1
	case $cmd in
	# Taking a service away is never done to a stack by default: the profile must be named.
	stop-* | start-* | kill-*) (($# == 2)) || usage ;;
	esac
	# deps needs no profile: it runs first, and must not wait for (or fail with) the Go build.
	[[ $cmd == deps ]] || load_profile "${2:-dev}"
	case $cmd in
	deps) cmd_deps ;;
	up) cmd_up ;;
	down) cmd_down ;;
	env) cmd_env ;;
	status) cmd_status ;;
	clean) cmd_clean ;;
	stop-postgres) cmd_stop_postgres ;;
	start-postgres) cmd_start_postgres ;;
	kill-redis-master) cmd_kill_redis_master ;;
	start-redis) cmd_start_redis ;;
	stop-temporal) cmd_stop_temporal ;;
	start-temporal) cmd_start_temporal ;;
	*) usage ;;
	esac
}

main "$@"
