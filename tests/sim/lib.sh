# shellcheck shell=bash disable=SC2034
# Shared helpers for the t-sim-*.sh integration scripts (sourced).
# Sets ROOT, BUILD, SIM, PROBE, TMP, MULT; cleans up on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SIM=${SIM:-$BUILD/booktape-sim}
PROBE=$BUILD/helpers/wsprobe
MULT=${BOOKTAPE_TIMEOUT_MULTIPLIER:-1}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/t-sim.XXXXXX")
SIM_PIDS=()

sim_cleanup() {
	local p
	for p in "${SIM_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap sim_cleanup EXIT

fail() {
	local f
	echo "FAIL: $*"
	for f in "$TMP"/*.log; do
		[ -e "$f" ] || continue
		echo "--- $f"
		tail -n 20 "$f"
	done
	exit 1
}

pass() {
	echo "PASS: $*"
}

# start_sim NAME ARGS...: run the sim in the background on a free port;
# sets PORT and SIM_PID once it listens. Logs go to $TMP/NAME.log.
start_sim() {
	local name=$1 i
	shift
	rm -f "$TMP/$name.port"
	"$SIM" --port-file "$TMP/$name.port" "$@" 2>"$TMP/$name.log" &
	SIM_PID=$!
	SIM_PIDS+=("$SIM_PID")
	for i in $(seq 1 $((100 * MULT))); do
		[ -s "$TMP/$name.port" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || fail "sim $name exited early"
		sleep 0.05
		[ "$i" -lt $((100 * MULT)) ] || fail "sim $name did not listen"
	done
	PORT=$(cat "$TMP/$name.port")
}

# Subscribe request for spot.order_book_update.
sub_upd() {
	printf '{"time":%s,"id":%s,"channel":"spot.order_book_update","event":"%s","payload":["%s","%s"]}' \
		"$(date +%s)" "$1" "${4:-subscribe}" "$2" "$3"
}

# Subscribe request for spot.obu.
sub_obu() {
	printf '{"time":%s,"id":%s,"channel":"spot.obu","event":"%s","payload":["%s"]}' \
		"$(date +%s)" "$1" "${3:-subscribe}" "$2"
}
