#!/usr/bin/env bash
# A burst must never stop the recorder (issue 8 §2, short version of
# `make soak`): spot.obu pushes flooded over TLS as fast as TCP allows to
# a recorder whose disk is slowed, so its writer queue fills and it stops
# reading. /metrics keeps answering within 1 s, the CPU falls back when
# the flood ends, SIGTERM exits 0 within 2 s and the books equal the
# truth. Before the fix the event loop spun inside lws and never
# answered again.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"
# shellcheck source=SCRIPTDIR/lib-burst.sh
. "$(dirname "$0")/lib-burst.sh"

run_burst "${BURST_PUSHES:-20000}" 4000000 BTC_USDT ETH_USDT SOL_USDT DOGE_USDT
[ "${BURST_PAUSES:-0}" -ge 1 ] 2>/dev/null ||
	fail "the writer queue never filled enough to pause reading (${BURST_PAUSES:-none})"
pass "flood of $BURST_MSGS pushes over TLS with a slow disk: $BURST_PAUSES read pauses," \
	"/metrics at worst ${BURST_WORST} s, $BURST_IDLE_CPU CPU after," \
	"$BURST_DROPPED dropped events, books equal the truth"
