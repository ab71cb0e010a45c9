#!/usr/bin/env bash
# A real local Kafka broker (KRaft, single node, jars from Maven Central) and PostgreSQL 15, without
# Docker. Each instance has its own ports and state folder, so `make run` (dev) and the integration
# tests (test) can run side by side.
#
#   deploy/local/stack.sh start|stop|status|env|wipe [instance]     (instance: dev by default)
#
#   start   fetch the jars if missing, start both, wait until both answer, create the topics
#           declared in deploy/topics.tsv and check them; idempotent (a running part is kept)
#   stop    stop the broker (SIGTERM, SIGKILL after 30 s) and PostgreSQL (fast); idempotent
#   status  tell whether each answers; exit 0 only when both do
#   env     print `export` lines: eval "$(deploy/local/stack.sh env test)"
#   wipe    stop, then delete the instance's state folder
#
# Ports, folders and variables: deploy/local/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)
readonly SCRIPT_DIR REPO_ROOT
readonly KAFKA_HOME=$SCRIPT_DIR/kafka
readonly POM=$KAFKA_HOME/pom.xml
readonly LIB_DIR=$KAFKA_HOME/lib
readonly LIB_STAMP=$LIB_DIR/.complete        # holds the sha256 of pom.xml the jars came from
readonly LOG4J_CONFIG=$SCRIPT_DIR/log4j2.properties
readonly TOPICS_FILE=$REPO_ROOT/deploy/topics.tsv
readonly PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
readonly PG_OS_USER=${PG_OS_USER:-postgres}  # runs initdb/postgres when this script runs as root
readonly START_TIMEOUT=${ERPSYNC_START_TIMEOUT:-90}
readonly STOP_TIMEOUT=30

INSTANCE=""
FETCH_MS=0
KAFKA_LOGS=()
PG_LOG_OFF=0

log() { printf 'stack %s: %s\n' "$INSTANCE" "$*"; }
die() { printf 'stack %s: error: %s\n' "$INSTANCE" "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed (make deps installs it)"; }

# Milliseconds since the epoch, without a subprocess ($EPOCHREALTIME is bash 5).
ms_now() { local t=${EPOCHREALTIME/[.,]/}; printf '%d' $((10#$t / 1000)); }
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

usage() {
	{
		echo "usage:"
		sed -n '6,13p' "${BASH_SOURCE[0]}" | sed 's/^#//'
	} >&2
	exit 2
}

# ---- instance ----------------------------------------------------------------------------------

set_instance() {
	INSTANCE=$1
	[[ $INSTANCE =~ ^[a-z][a-z0-9_-]*$ ]] || die "bad instance name '$INSTANCE'"
	local kp="" cp="" pp=""
	case $INSTANCE in
	dev) kp=19092 cp=19093 pp=15432 ;;
	test) kp=29092 cp=29093 pp=25432 ;;
	*) ;; # any other instance: all three ports from the environment
	esac
	KAFKA_PORT=${KAFKA_PORT:-$kp}
	KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$cp}
	PG_PORT=${PG_PORT:-$pp}
	local p
	for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$PG_PORT"; do
		if ! [[ $p =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then
			die "instance '$INSTANCE' needs KAFKA_PORT, KAFKA_CONTROLLER_PORT and PG_PORT (got '$p')"
		fi
	done
	[[ $KAFKA_PORT != "$KAFKA_CONTROLLER_PORT" && $KAFKA_PORT != "$PG_PORT" &&
		$KAFKA_CONTROLLER_PORT != "$PG_PORT" ]] || die "KAFKA_PORT, KAFKA_CONTROLLER_PORT and PG_PORT must differ"

	STATE_DIR=${ERPSYNC_STATE_DIR:-$REPO_ROOT/.local/$INSTANCE}
	[[ $STATE_DIR == /* ]] || STATE_DIR=$PWD/$STATE_DIR
	STATE_DIR=${STATE_DIR%/}
	KAFKA_DIR=$STATE_DIR/kafka
	KAFKA_DATA=$KAFKA_DIR/data
	KAFKA_LOG_DIR=$KAFKA_DIR/log
	KAFKA_OUT=$KAFKA_LOG_DIR/kafka.out
	KAFKA_SERVER_LOG=$KAFKA_LOG_DIR/server.log # named in log4j2.properties
	KAFKA_PROPS=$KAFKA_DIR/server.properties
	KAFKA_PIDFILE=$KAFKA_DIR/kafka.pid
	PG_DIR=$(pg_dir_for "$STATE_DIR")
	PG_DATA=$PG_DIR/data
	PG_RUN=$PG_DIR/run
	PG_LOG=$PG_DIR/postgres.log
	if ((EUID == 0)); then PG_SUPERUSER=$PG_OS_USER; else PG_SUPERUSER=$(id -un); fi
	BOOTSTRAP=127.0.0.1:$KAFKA_PORT

	# $ERPSYNC_STATE_DIR exported by `env test` must not make `start dev` use the test folder.
	local owner=""
	[[ -f $STATE_DIR/instance ]] && owner=$(<"$STATE_DIR/instance")
	[[ -z $owner || $owner == "$INSTANCE" ]] ||
		die "state folder $STATE_DIR belongs to instance '$owner' (unset ERPSYNC_STATE_DIR?)"
}

# PostgreSQL refuses to run as root, so as root its data belongs to $PG_OS_USER, who must reach it.
# A checkout under a private folder (/root is 0700 on Debian) cannot be reached: the data then lives
# in /var/lib/erpsync/pg/<instance>-<hash of the state folder>, one folder per checkout and instance,
# and `wipe` deletes it with the rest. ERPSYNC_PG_DIR chooses the folder outright.
pg_dir_for() {
	local state=$1 probe=$1
	if [[ -n ${ERPSYNC_PG_DIR:-} ]]; then
		printf '%s' "$ERPSYNC_PG_DIR"
		return
	fi
	if ((EUID != 0)); then
		printf '%s/pg' "$state"
		return
	fi
	while [[ ! -e $probe && $probe == /* && $probe != / ]]; do probe=$(dirname -- "$probe"); done
	if runuser -u "$PG_OS_USER" -- test -x "$probe" 2>/dev/null; then
		printf '%s/pg' "$state"
	else
		printf '/var/lib/erpsync/pg/%s-%s' "$INSTANCE" "$(printf '%s' "$state" | cksum | cut -d' ' -f1)"
	fi
}

# Something (ours or not) accepts connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Runs a PostgreSQL server program as the unprivileged user when we are root (initdb refuses root).
as_pg() {
	# from /: the postgres user may not be able to enter the current folder (a checkout in /root)
	if ((EUID == 0)); then (cd / && runuser -u "$PG_OS_USER" -- "$@"); else "$@"; fi
}

# Prints the end of each log FILE[:BYTE_OFFSET] to stderr, from the offset on when one is given (so
# only what this start wrote is shown).
tail_log() {
	local arg f off size
	for arg in "$@"; do
		f=${arg%:*} off=${arg##*:}
		[[ $arg == *:* && $off =~ ^[0-9]+$ ]] || { f=$arg off=0; }
		[[ -s $f ]] || continue
		size=$(stat -c %s "$f")
		((size >= off)) || off=0 # rolled over since
		((size > off)) || continue
		printf -- '---- %s (last lines)\n' "$f" >&2
		tail -c +$((off + 1)) "$f" | tail -n 30 >&2
	done
}

log_size() { if [[ -f $1 ]]; then stat -c %s "$1"; else echo 0; fi; }

# ---- Kafka -------------------------------------------------------------------------------------

check_java() {
	if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then JAVA=$JAVA_HOME/bin/java; else
		need java
		JAVA=$(command -v java)
	fi
	local v major
	v=$("$JAVA" -version 2>&1 | awk -F'"' '/ version "/ { print $2; exit }')
	major=${v#1.}          # 1.8.0_392 -> 8.0_392
	major=${major%%[!0-9]*}
	[[ -n $major ]] || die "cannot tell the version of $JAVA"
	((major >= 17)) || die "Kafka 4.1 needs Java 17 or later; $JAVA is $v (set JAVA_HOME)"
}

# Copies the broker's jars into deploy/local/kafka/lib once; instant when the stamp matches pom.xml.
fetch_jars() {
	local want have="" lock t0
	want=$(sha256sum "$POM")
	want=${want%% *}
	[[ -f $LIB_STAMP ]] && have=$(<"$LIB_STAMP")
	[[ $have == "$want" ]] && return 0
	need mvn
	mkdir -p "$KAFKA_HOME/target"
	exec {lock}>"$KAFKA_HOME/target/fetch.lock"
	flock "$lock" # dev and test may start at the same time
	[[ -f $LIB_STAMP ]] && have=$(<"$LIB_STAMP")
	if [[ $have != "$want" ]]; then
		log "fetching the Kafka jars with Maven (first run only; log: $KAFKA_HOME/target/mvn.log)"
		t0=$(ms_now)
		rm -rf "$LIB_DIR"
		if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
			-DincludeScope=runtime -DoutputDirectory="$LIB_DIR" >"$KAFKA_HOME/target/mvn.log" 2>&1; then
			tail_log "$KAFKA_HOME/target/mvn.log"
			die "Maven could not fetch the Kafka jars"
		fi
		compgen -G "$LIB_DIR/kafka_2.13-*.jar" >/dev/null || die "no kafka_2.13 jar in $LIB_DIR"
		printf '%s\n' "$want" >"$LIB_STAMP"
		FETCH_MS=$(($(ms_now) - t0))
		log "jars fetched in $(secs "$FETCH_MS") s"
	fi
	exec {lock}>&-
}

# True when pid $1 is this instance's broker (a reused pid or a zombie is not).
is_our_broker() {
	local -a args
	mapfile -d '' -t args 2>/dev/null <"/proc/$1/cmdline" || return 1
	[[ " ${args[*]} " == *" kafka.Kafka $KAFKA_PROPS "* ]]
}

# Prints the broker's pid; falls back to scanning /proc when the pid file is missing or stale.
kafka_pid() {
	local pid="" p
	[[ -f $KAFKA_PIDFILE ]] && pid=$(<"$KAFKA_PIDFILE")
	if [[ $pid =~ ^[0-9]+$ ]] && is_our_broker "$pid"; then
		printf '%s\n' "$pid"
		return 0
	fi
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		if is_our_broker "$p"; then
			[[ -d $KAFKA_DIR ]] && printf '%s\n' "$p" >"$KAFKA_PIDFILE"
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

kafka_answers() { kcat -b "$BOOTSTRAP" -L -m 2 -q >/dev/null 2>&1; }

java_opts() {
	# The broker's JIT stops at the quick compiler (C1). With the optimising one (C2) the compiler
	# thread of a broker a few minutes old was its largest CPU user, 30 CPU-s in its first three
	# minutes and still half a core when serving 1,000 records/s (top -H during make bench), taken
	# from the services it serves on a two-core machine. KAFKA_JIT_OPTS="" gives the JVM's default.
	# shellcheck disable=SC2206 # word splitting of the heap and JIT options is intended
	JAVA_OPTS=(${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m} ${KAFKA_JIT_OPTS--XX:TieredStopAtLevel=1}
		-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
		-XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
		"-Dlog4j2.configurationFile=$LOG4J_CONFIG" "-Dkafka.logs.dir=$KAFKA_LOG_DIR"
		-cp "$LIB_DIR/*")
}

write_kafka_config() {
	cat >"$KAFKA_PROPS" <<EOF
# Written by deploy/local/stack.sh at every start of instance '$INSTANCE': edit the script instead.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than the default 50: the first consumer group and the first
# transactional producer come up faster.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
# Topics are declared in deploy/topics.tsv, never created by a typo.
auto.create.topics.enable=false
num.partitions=1
EOF
}

format_kafka_storage() {
	[[ -f $KAFKA_DATA/meta.properties ]] && return 0
	local id_file=$KAFKA_DIR/cluster.id id
	if [[ ! -s $id_file ]]; then
		# What `StorageTool random-uuid` prints: 16 random bytes, base64url, no padding.
		id=-
		while [[ $id == -* ]]; do
			id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
		done
		printf '%s\n' "$id" >"$id_file"
	fi
	id=$(<"$id_file")
	"$JAVA" "${JAVA_OPTS[@]}" kafka.tools.StorageTool format -t "$id" -c "$KAFKA_PROPS" \
		--ignore-formatted >>"$KAFKA_OUT" 2>&1 || {
		tail_log "$KAFKA_OUT"
		die "formatting the Kafka storage in $KAFKA_DATA failed"
	}
}

# Launches the broker in the background (its own session: it outlives this script).
start_kafka() {
	if KAFKA_RUNNING_PID=$(kafka_pid); then
		log "kafka already running (pid $KAFKA_RUNNING_PID)"
		KAFKA_LOGS=("$KAFKA_OUT" "$KAFKA_SERVER_LOG")
		return 0
	fi
	local p
	for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
		! port_open "$p" || die "port $p is taken by another program (override KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
	done
	mkdir -p "$KAFKA_DATA" "$KAFKA_LOG_DIR"
	java_opts
	write_kafka_config
	format_kafka_storage
	printf '==== %(%F %T)T start\n' -1 >>"$KAFKA_OUT"
	KAFKA_LOGS=("$KAFKA_OUT:$(log_size "$KAFKA_OUT")" "$KAFKA_SERVER_LOG:$(log_size "$KAFKA_SERVER_LOG")")
	KAFKA_LAUNCH_MS=$(ms_now)
	setsid "$JAVA" "${JAVA_OPTS[@]}" kafka.Kafka "$KAFKA_PROPS" </dev/null >>"$KAFKA_OUT" 2>&1 &
	printf '%s\n' "$!" >"$KAFKA_PIDFILE"
	KAFKA_RUNNING_PID=$!
}

stop_kafka() {
	local pid i
	if ! pid=$(kafka_pid); then
		rm -f "$KAFKA_PIDFILE"
		log "kafka not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		is_our_broker "$pid" || break
		sleep 0.1
	done
	if is_our_broker "$pid"; then
		log "kafka (pid $pid) still running after ${STOP_TIMEOUT} s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			is_our_broker "$pid" || break
			sleep 0.1
		done
	fi
	rm -f "$KAFKA_PIDFILE"
	log "kafka stopped (pid $pid)"
}

# ---- PostgreSQL --------------------------------------------------------------------------------

pg_running() { [[ -f $PG_DATA/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }
pg_answers() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

pg_init() {
	if [[ $PG_DIR != "$STATE_DIR"/* ]]; then
		log "PostgreSQL data in $PG_DIR (outside the checkout: user $PG_OS_USER cannot reach $STATE_DIR)"
		mkdir -p "$(dirname -- "$PG_DIR")"
		chmod 755 "$(dirname -- "$PG_DIR")"
	fi
	mkdir -p "$PG_DATA" "$PG_RUN"
	if ((EUID == 0)); then
		chown -R "$PG_OS_USER:" "$PG_DIR"
		as_pg test -w "$PG_DIR" ||
			die "user $PG_OS_USER cannot reach $PG_DIR: every parent folder needs o+x"
	fi
	chmod 700 "$PG_DATA"
	if [[ ! -f $PG_DATA/PG_VERSION ]]; then
		log "initdb $PG_DATA"
		as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --auth=trust --encoding=UTF8 \
			--no-locale --no-instructions >"$PG_DIR/initdb.log" 2>&1 || {
			tail_log "$PG_DIR/initdb.log"
			die "initdb failed"
		}
		# Only TCP from 127.0.0.1, trusted: a throwaway local cluster, never reachable from outside.
		as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# erpsync local instance (deploy/local/stack.sh): TCP from this machine only, no password.
# TYPE  DATABASE  USER  ADDRESS        METHOD
host    all       all   127.0.0.1/32   trust
EOF
		printf "\ninclude_if_exists = 'erpsync.conf'\n" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
	fi
	# Rewritten at every start, so port overrides and a moved state folder take effect.
	as_pg tee "$PG_DATA/erpsync.conf" >/dev/null <<EOF
# Written by deploy/local/stack.sh at every start of instance '$INSTANCE'.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
EOF
}

start_pg() {
	if pg_running; then
		log "postgres already running"
		return 0
	fi
	! port_open "$PG_PORT" || die "port $PG_PORT is taken by another program (override PG_PORT)"
	pg_init
	PG_LOG_OFF=$(log_size "$PG_LOG")
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$START_TIMEOUT" start >/dev/null || {
		tail_log "$PG_LOG:$PG_LOG_OFF"
		die "postgres did not start"
	}
}

# Role and database `erpsync`, owned by it; idempotent.
pg_bootstrap() {
	PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
		-U "$PG_SUPERUSER" -d postgres >/dev/null <<'SQL' || die "creating role/database erpsync failed"
SELECT 'CREATE ROLE erpsync LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'erpsync')\gexec
SELECT 'CREATE DATABASE erpsync OWNER erpsync' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'erpsync')\gexec
SQL
}

stop_pg() {
	if ! pg_running; then
		log "postgres not running"
		return 0
	fi
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null
	log "postgres stopped"
}

# ---- topics ------------------------------------------------------------------------------------

# Prints the path of an erpsyncctl at least as new as its sources: $ERPSYNCCTL, the Makefile's
# build/bin/erpsyncctl, or one built here with gcc into build/local/ (it needs librdkafka only).
erpsyncctl_bin() {
	local src made=$REPO_ROOT/build/bin/erpsyncctl own=$REPO_ROOT/build/local/erpsyncctl
	src=$(ls -t "$REPO_ROOT"/tools/erpsyncctl/*.[ch] | head -n 1)
	if [[ -n ${ERPSYNCCTL:-} ]]; then
		printf '%s\n' "$ERPSYNCCTL"
	elif [[ -x $made && ! $made -ot $src ]]; then
		printf '%s\n' "$made"
	else
		if [[ ! -x $own || $own -ot $src ]]; then
			need gcc
			mkdir -p "${own%/*}"
			gcc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -I"$REPO_ROOT/common/kafka" -o "$own.$$" \
				"$REPO_ROOT"/tools/erpsyncctl/*.c -lrdkafka >&2 || die "building $own failed"
			mv -f "$own.$$" "$own"
		fi
		printf '%s\n' "$own"
	fi
}

create_topics() {
	local ctl out=$KAFKA_LOG_DIR/topics.log
	ctl=$(erpsyncctl_bin)
	if ! "$ctl" topics create -b "$BOOTSTRAP" -f "$TOPICS_FILE" >"$out" 2>&1; then
		cat "$out" >&2
		die "creating the topics of $TOPICS_FILE failed"
	fi
	TOPICS_SUMMARY=$(tail -n 1 "$out")
	if ! "$ctl" topics check -b "$BOOTSTRAP" -f "$TOPICS_FILE" >>"$out" 2>&1; then
		grep -E '^(MISSING|MISMATCH|ERROR)|erpsyncctl:' "$out" >&2 || true
		die "the topics differ from $TOPICS_FILE (an older declaration?): 'stack.sh wipe $INSTANCE' starts afresh"
	fi
}

# ---- commands ----------------------------------------------------------------------------------

# Waits until the broker answers metadata and PostgreSQL accepts connections.
wait_ready() {
	local deadline=$((SECONDS + START_TIMEOUT)) k_ok=0 p_ok=0
	while :; do
		if ((!k_ok)); then
			if kafka_answers; then
				k_ok=1
				KAFKA_READY_MS=$(ms_now)
			elif ! is_our_broker "$KAFKA_RUNNING_PID"; then
				tail_log "${KAFKA_LOGS[@]}"
				die "the Kafka broker exited during start"
			fi
		fi
		if ((!p_ok)) && pg_answers; then p_ok=1; fi
		((k_ok && p_ok)) && return 0
		if ((SECONDS >= deadline)); then
			((k_ok)) || tail_log "${KAFKA_LOGS[@]}"
			((p_ok)) || tail_log "$PG_LOG:$PG_LOG_OFF"
			die "not ready after ${START_TIMEOUT} s:$( ((k_ok)) || printf ' kafka %s' "$BOOTSTRAP")$( ((p_ok)) || printf ' postgres 127.0.0.1:%s' "$PG_PORT")"
		fi
		sleep 0.2
	done
}

cmd_start() {
	local t0 broker
	t0=$(ms_now)
	# shellcheck disable=SC2016 # expanded when the trap runs
	trap 'rc=$?; ((rc == 0)) || printf "stack %s: start failed; whatever did start still runs (%s stop %s)\n" "$INSTANCE" "$0" "$INSTANCE" >&2' EXIT
	need kcat
	[[ -x $PG_BIN/pg_ctl ]] || die "no PostgreSQL 15 in $PG_BIN (make deps installs it)"
	check_java
	mkdir -p "$STATE_DIR"
	chmod 755 "$STATE_DIR"
	printf '%s\n' "$INSTANCE" >"$STATE_DIR/instance"
	fetch_jars
	KAFKA_LAUNCH_MS=""
	start_kafka # in the background: PostgreSQL starts meanwhile
	start_pg
	wait_ready
	pg_bootstrap
	create_topics
	local total=$(($(ms_now) - t0))
	if [[ -n $KAFKA_LAUNCH_MS ]]; then
		broker="broker start $(secs $((KAFKA_READY_MS - KAFKA_LAUNCH_MS))) s"
	else
		broker="broker was running"
	fi
	log "kafka $BOOTSTRAP up ($broker, pid $KAFKA_RUNNING_PID); postgres 127.0.0.1:$PG_PORT up"
	log "$TOPICS_SUMMARY; all match $TOPICS_FILE"
	log "started in $(secs "$total") s$( ((FETCH_MS)) && printf ' (jar fetch %s s included)' "$(secs "$FETCH_MS")"); state: $STATE_DIR"
}

cmd_stop() {
	if [[ ! -d $STATE_DIR ]]; then
		log "nothing to stop (no $STATE_DIR)"
		return 0
	fi
	# Both at once: the broker's controlled shutdown takes a few seconds.
	stop_kafka &
	local kpid=$!
	stop_pg
	wait "$kpid"
}

cmd_status() {
	local rc=0 pid
	if kafka_answers; then
		log "kafka    up    $BOOTSTRAP$(pid=$(kafka_pid) && printf ' (pid %s)' "$pid")"
	elif pid=$(kafka_pid); then
		log "kafka    DOWN  $BOOTSTRAP: pid $pid runs but does not answer (log: $KAFKA_LOG_DIR)"
		rc=1
	else
		log "kafka    down  $BOOTSTRAP"
		rc=1
	fi
	if pg_answers; then
		log "postgres up    127.0.0.1:$PG_PORT"
	elif pg_running; then
		log "postgres DOWN  127.0.0.1:$PG_PORT: running but does not answer (log: $PG_LOG)"
		rc=1
	else
		log "postgres down  127.0.0.1:$PG_PORT"
		rc=1
	fi
	return "$rc"
}

cmd_env() {
	printf 'export ERPSYNC_INSTANCE=%s\n' "$(shquote "$INSTANCE")"
	printf 'export ERPSYNC_STATE_DIR=%s\n' "$(shquote "$STATE_DIR")"
	printf 'export ERPSYNC_PG_DATA=%s\n' "$(shquote "$PG_DATA")"   # not always under the state folder
	printf 'export KAFKA_BOOTSTRAP_SERVERS=%s\n' "$(shquote "$BOOTSTRAP")"
	printf 'export PG_DSN=%s\n' "$(shquote "host=127.0.0.1 port=$PG_PORT user=erpsync dbname=erpsync")"
}

cmd_wipe() {
	cmd_stop
	[[ -d $STATE_DIR ]] || return 0
	# Refuse to delete a folder this script did not make (ERPSYNC_STATE_DIR may point anywhere).
	[[ -f $STATE_DIR/instance && $STATE_DIR != "/" && $STATE_DIR != "$REPO_ROOT" ]] ||
		die "$STATE_DIR has no 'instance' marker: not deleting it"
	rm -rf -- "$STATE_DIR"
	log "wiped $STATE_DIR"
	if [[ $PG_DIR == /var/lib/erpsync/pg/* && -d $PG_DIR ]]; then
		rm -rf -- "$PG_DIR"
		log "wiped $PG_DIR"
	fi
}

main() {
	[[ $# -ge 1 && $# -le 2 ]] || usage
	local cmd=$1
	set_instance "${2:-dev}"
	case $cmd in
	start) cmd_start ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	env) cmd_env ;;
	wipe) cmd_wipe ;;
	*) usage ;;
	esac
}

main "$@"
