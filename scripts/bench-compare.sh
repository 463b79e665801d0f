#!/usr/bin/env bash
# bench-compare.sh — Kefu (sync and async durability) against the
# goroutine-per-connection gorilla/websocket baseline hub, on this machine,
# with the same kefu-bench scenarios, one server after another:
#
#   idle       19,000 idle WebSocket connections: server RSS per connection
#   connect    10,000 connections as fast as they go: connect rate
#   relay-max  1,000 visitor/agent pairs, closed loop: msgs/s at saturation
#   relay-10k  1,000 pairs at 10,000 msg/s offered: p50/p99 latency
#
# and Kefu's MQTT broker against mochi-mqtt (kefu-bench baseline-mochi) and
# Debian's mosquitto (skipped when it is not installed):
#
#   mqtt-idle       19,000 idle MQTT 3.1.1 connections: RSS per connection
#   mqtt-qos1-max   1,000 QoS 1 publisher/subscriber pairs, closed loop
#   mqtt-qos1-rate  1,000 pairs at 10,000 msg/s offered: p50/p99 latency
#
# and writes the markdown tables (with Kefu ÷ baseline ratios) to
# docs/benchmarks-compare.md: the median of REPEAT runs of each WebSocket
# case and MQTT_REPEAT runs of each MQTT case, with the range. Only Go is
# needed (mosquitto optional). Bounded: about 12 minutes here with the
# defaults, 15 at most (every bench run has its own duration and timeouts,
# and no new run starts after MAX_SECONDS).
#
# Every bench run dials from its own range of source addresses
# (127.N.M.1-127.N.M.16), so the TIME_WAIT sockets of one run never
# collide with the next. Each process may hold 20,000 descriptors here:
# 19,000 connections fit in one bench process and in each server.
#
# Environment (defaults): GO=go OUT=docs/benchmarks-compare.md REPEAT=3
# MQTT_REPEAT=1 IDLE_CONNS=19000 CONNECT_CONNS=10000 PAIRS=1000 RATE=10000
# MQTT_CONNS=$IDLE_CONNS MQTT_PAIRS=$PAIRS MQTT_RATE=$RATE DURATION=10s
# KEFU_PORT=17000 KEFU_HTTP_PORT=17080 HUB_PORT=17100 MOCHI_PORT=17200
# MOSQUITTO_PORT=17300 MOSQUITTO=(mosquitto in PATH or /usr/sbin; "none"
# skips it) MAX_SECONDS=840 RESULTS_DIR=(unset; a directory to keep every
# run's JSON and the commands in, for `kefu-bench compare --dir` later)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
OUT=${OUT:-docs/benchmarks-compare.md}
IDLE_CONNS=${IDLE_CONNS:-19000}
CONNECT_CONNS=${CONNECT_CONNS:-10000}
PAIRS=${PAIRS:-1000}
RATE=${RATE:-10000}
DURATION=${DURATION:-10s}
KEFU_PORT=${KEFU_PORT:-17000}
KEFU_HTTP_PORT=${KEFU_HTTP_PORT:-17080}
HUB_PORT=${HUB_PORT:-17100}
MOCHI_PORT=${MOCHI_PORT:-17200}
MOSQUITTO_PORT=${MOSQUITTO_PORT:-17300}
MAX_SECONDS=${MAX_SECONDS:-840}
REPEAT=${REPEAT:-3}
MQTT_REPEAT=${MQTT_REPEAT:-1}
MQTT_CONNS=${MQTT_CONNS:-$IDLE_CONNS}
MQTT_PAIRS=${MQTT_PAIRS:-$PAIRS}
MQTT_RATE=${MQTT_RATE:-$RATE}
if [[ -z "${MOSQUITTO:-}" ]]; then
	MOSQUITTO=$(command -v mosquitto || true)
	[[ -z "$MOSQUITTO" && -x /usr/sbin/mosquitto ]] && MOSQUITTO=/usr/sbin/mosquitto
fi
[[ "${MOSQUITTO:-}" == none ]] && MOSQUITTO=""

TMP=$(mktemp -d -t kefu-bench-compare.XXXXXX)
RES=$TMP/results
CMDS=$TMP/commands.txt
mkdir -p "$RES"
SERVER_PID=""
START=$SECONDS

cleanup() {
	stop_server
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "bench-compare: interrupted" >&2; exit 130' INT TERM

log() { echo "bench-compare [$((SECONDS - START))s]: $*" >&2; }

stop_server() {
	if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=""
}

wait_port() { # host port: wait until something listens (bash /dev/tcp, no curl needed)
	for _ in $(seq 200); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	log "nothing listens on $1:$2"
	return 1
}

log "building into $TMP"
$GO build -trimpath -o "$TMP/kefu" ./cmd/kefu
$GO build -trimpath -o "$TMP/kefu-bench" ./cmd/kefu-bench
BENCH=$TMP/kefu-bench

SECRET="bench-compare-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export KEFU_SITE_DEMO_SECRET=$SECRET

# Source ranges 127.N.M.1-16: a fresh one for every bench run.
NET=1.10
NET_NEXT() {
	local n=${NET%.*} m=${NET#*.}
	m=$((m + 1))
	if ((m > 250)); then n=$((n + 1)) m=10; fi
	NET=$n.$m
}
run_bench() { # target case rep bench-args...
	local target=$1 case=$2 rep=$3
	shift 3
	if ((SECONDS - START > MAX_SECONDS)); then
		log "time budget spent, skipping $target $case"
		return 0
	fi
	local src="127.$NET.1-127.$NET.16"
	NET_NEXT
	echo "kefu-bench $* --src 127.N.M.1-127.N.M.16 --json" | sed -e "s/--server-pid [0-9]*/--server-pid \$PID/" \
		-e "s/--secret [^ ]*/--secret \$SECRET/" -e "s/--addr [^ ]*/--addr \$ADDR/" >>"$CMDS"
	log "run $rep: $target $case: kefu-bench $1 …"
	# The secret goes only where it is given (--secret): the baselines get
	# no MQTT passwords.
	if ! env -u KEFU_SITE_DEMO_SECRET "$BENCH" "$@" --src "$src" --json >"$RES/${target}_${case}.$rep.json"; then
		log "$target $case failed (the table shows what it measured)"
	fi
}

run_cases() { # target addr pid rep
	local target=$1 addr=$2 pid=$3 rep=$4
	run_bench "$target" idle "$rep" conn --addr "$addr" --conns "$IDLE_CONNS" --hold 5s --setup-timeout 60s --server-pid "$pid"
	run_bench "$target" connect "$rep" conn --addr "$addr" --conns "$CONNECT_CONNS" --hold 1s --setup-timeout 60s --server-pid "$pid"
	run_bench "$target" relay-max "$rep" relay --addr "$addr" --pairs "$PAIRS" --rate 0 --window 1 --warmup 2s \
		--duration "$DURATION" --drain 3s --secret "$SECRET" --server-pid "$pid"
	run_bench "$target" relay-10k "$rep" relay --addr "$addr" --pairs "$PAIRS" --rate "$RATE" --warmup 2s \
		--duration "$DURATION" --drain 3s --secret "$SECRET" --server-pid "$pid"
}

run_mqtt_cases() { # target addr pid rep [--secret S]
	local target=$1 addr=$2 pid=$3 rep=$4
	shift 4
	run_bench "$target" mqtt-idle "$rep" conn --proto mqtt --addr "$addr" --conns "$MQTT_CONNS" --hold 5s \
		--setup-timeout 60s --server-pid "$pid" "$@"
	run_bench "$target" mqtt-qos1-max "$rep" mqtt --addr "$addr" --pairs "$MQTT_PAIRS" --qos 1 --rate 0 --window 1 \
		--warmup 2s --duration "$DURATION" --drain 3s --server-pid "$pid" "$@"
	run_bench "$target" mqtt-qos1-rate "$rep" mqtt --addr "$addr" --pairs "$MQTT_PAIRS" --qos 1 --rate "$MQTT_RATE" \
		--warmup 2s --duration "$DURATION" --drain 3s --server-pid "$pid" "$@"
}

start_kefu() { # durability
	local dir=$TMP/kefu-$1
	rm -rf "$dir"
	mkdir -p "$dir"
	cat >"$dir/kefu.yaml" <<YAML
log_level: warn
drain_timeout: 3s
http:
  addr: "127.0.0.1:$KEFU_HTTP_PORT"
gateway:
  listeners:
    - addr: "127.0.0.1:$KEFU_PORT"
      protocol: auto
      max_conns: 100000
storage:
  durability: $1
YAML
	"$TMP/kefu" --config "$dir/kefu.yaml" --data "$dir/data" >"$dir/kefu.log" 2>&1 &
	SERVER_PID=$!
	wait_port 127.0.0.1 "$KEFU_PORT"
}

start_hub() {
	"$BENCH" baseline-hub --addr "127.0.0.1:$HUB_PORT" >"$TMP/hub.log" 2>&1 &
	SERVER_PID=$!
	wait_port 127.0.0.1 "$HUB_PORT"
}

start_mochi() {
	"$BENCH" baseline-mochi --addr "127.0.0.1:$MOCHI_PORT" >"$TMP/mochi.log" 2>&1 &
	SERVER_PID=$!
	wait_port 127.0.0.1 "$MOCHI_PORT"
}

start_mosquitto() {
	cat >"$TMP/mosquitto.conf" <<CONF
listener $MOSQUITTO_PORT 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
CONF
	"$MOSQUITTO" -c "$TMP/mosquitto.conf" >"$TMP/mosquitto.log" 2>&1 &
	SERVER_PID=$!
	wait_port 127.0.0.1 "$MOSQUITTO_PORT"
}

MQTT_TARGETS="kefu-sync kefu-async mochi"
if [[ -n "$MOSQUITTO" ]]; then
	MQTT_TARGETS="$MQTT_TARGETS mosquitto"
else
	log "mosquitto is not installed: the MQTT table has no mosquitto column (apt-get install mosquitto)"
fi

# Repetitions interleave the servers, so that a burst of other work on the
# machine does not land on one of them only; each run gets a fresh server
# (and a fresh data directory), so that memory is measured from scratch.
# The MQTT cases come right after the first WebSocket round, so that the
# time budget cannot squeeze them out.
for rep in $(seq "$REPEAT"); do
	for target in kefu-sync kefu-async gorilla; do
		log "run $rep/$REPEAT: starting $target"
		case $target in
		kefu-sync) start_kefu sync; addr=127.0.0.1:$KEFU_PORT ;;
		kefu-async) start_kefu async; addr=127.0.0.1:$KEFU_PORT ;;
		gorilla) start_hub; addr=127.0.0.1:$HUB_PORT ;;
		esac
		run_cases "$target" "$addr" "$SERVER_PID" "$rep"
		stop_server
	done
	if ((rep > MQTT_REPEAT)); then
		continue
	fi
	for target in $MQTT_TARGETS; do
		log "MQTT run $rep/$MQTT_REPEAT: starting $target"
		secret=()
		case $target in
		kefu-sync) start_kefu sync; addr=127.0.0.1:$KEFU_PORT secret=(--secret "$SECRET") ;;
		kefu-async) start_kefu async; addr=127.0.0.1:$KEFU_PORT secret=(--secret "$SECRET") ;;
		mochi) start_mochi; addr=127.0.0.1:$MOCHI_PORT ;;
		mosquitto) start_mosquitto; addr=127.0.0.1:$MOSQUITTO_PORT ;;
		esac
		run_mqtt_cases "$target" "$addr" "$SERVER_PID" "$rep" "${secret[@]}"
		stop_server
	done
done

{
	echo "# kefu: kefu --config kefu.yaml --data DIR   (durability: sync, then async; KEFU_SITE_DEMO_SECRET=\$SECRET)"
	echo "# baseline: kefu-bench baseline-hub --addr 127.0.0.1:$HUB_PORT"
	echo "# MQTT baselines: kefu-bench baseline-mochi --addr 127.0.0.1:$MOCHI_PORT; mosquitto -c mosquitto.conf (listener, allow_anonymous true,"
	echo "#   persistence false, max_connections -1, set_tcp_nodelay true)"
	echo "# then, against each (ADDR, PID = the server's; fresh source addresses N.M for every run):"
	awk '!seen[$0]++' "$CMDS"
} >"$TMP/commands.sorted"
if [[ -n "${RESULTS_DIR:-}" ]]; then
	mkdir -p "$RESULTS_DIR"
	cp "$RES"/*.json "$TMP/commands.sorted" "$RESULTS_DIR"/
	log "kept the results in $RESULTS_DIR"
fi
"$BENCH" compare --dir "$RES" --out "$OUT" --commands "$TMP/commands.sorted"
log "wrote $OUT"
cat "$OUT"
