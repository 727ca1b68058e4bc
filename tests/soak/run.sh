#!/usr/bin/env bash
# `make soak` (minutes; issue 8 §2): the recorder under floods of spot.obu
# pushes over TLS (4 pairs, SOAK_PUSHES each, 100000 by default) with its
# disk throttled, then stalled for longer than the pause limit, then
# SIGTERM in the middle of a flood. Throughout: /metrics answers within
# 1 s; after each flood the CPU falls back; SIGTERM exits 0 within 2 s;
# the books equal the simulator's truth (the checker would name a hole
# only through 'dropped' events and the snapshot block after them).
# t-recorder-burst.sh runs a short version in `make check`.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/../integration/lib-recorder.sh
. "$(dirname "$0")/../integration/lib-recorder.sh"
# shellcheck source=SCRIPTDIR/../integration/lib-burst.sh
. "$(dirname "$0")/../integration/lib-burst.sh"

N=${SOAK_PUSHES:-100000}
PAIRS=(BTC_USDT ETH_USDT SOL_USDT DOGE_USDT)
passed=0
s0=$(date +%s)

report() {
	passed=$((passed + 1))
	pass "$1: $BURST_MSGS pushes, $BURST_PAUSES read pauses," \
		"/metrics at worst $BURST_WORST s, ${BURST_IDLE_CPU:-n/a} CPU after," \
		"$BURST_DROPPED dropped events, books equal the truth"
}

run_burst "$N" 3000000 "${PAIRS[@]}"
report "throttled disk (3 MB/s)"

BURST_STALLS="1:6 12:4" run_burst "$N" 0 "${PAIRS[@]}"
report "stalled disk (6 s, then 4 s)"

BURST_IDLE_CPU=
BURST_STALLS="0.5:30" BURST_TERM_AT=5 run_burst "$N" 0 "${PAIRS[@]}"
report "SIGTERM mid-flood, exit 0 within 2 s"

echo "soak: $passed passed, 0 failed ($(($(date +%s) - s0)) s)"
