#!/usr/bin/env bash
# Simulator keepalive: protocol PINGs every --ping-interval seconds, and a
# socket with no subscription and no spot.ping closed after --idle-close.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"

start_sim sim --ping-interval 1 --idle-close 3 --duration 20
python3 "$ROOT/tests/sim/ws_ping_check.py" "$PORT" $((6 * MULT)) \
	>"$TMP/ping.out" || fail "ping client"
cat "$TMP/ping.out"
n=$(grep -c '^ping' "$TMP/ping.out")
[ "$n" -ge 2 ] || fail "only $n protocol PINGs"
grep -q '^eof' "$TMP/ping.out" || fail "idle socket not closed"
pass "$n protocol PINGs, idle socket closed"
