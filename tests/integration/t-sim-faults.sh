#!/usr/bin/env bash
# Simulator faults, each on its own pair so one run covers them all: gap
# (scripted), dup, reorder and full (control endpoint) keep the truth
# reproducible; badjson, oversize, stall, drop and close act on the
# connection; rest_error and stale_snapshot act on REST.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"

PAIRS=BTC_USDT,ETH_USDT,SOL_USDT,GT_USDT,DOGE_USDT,XRP_USDT,OMG_USDT,NEO_BTC
start_sim sim --truth-dir "$TMP" --pairs "$PAIRS" --rate 200 \
	--script "$((2 * MULT)).0:gap:SOL_USDT:5" --duration 25
MAIN_PID=$SIM_PID
URL=ws://127.0.0.1:$PORT/ws/v4/
REST=http://127.0.0.1:$PORT
CURL=(curl -sS --max-time 5)
fault() { "${CURL[@]}" "$REST/_sim/fault?$1" | grep -qx ok || fail "fault $1"; }
T=$((3 * MULT))

PROBES=()
probe() { # NAME TIMEOUT ARGS...
	local name=$1 t=$2
	shift 2
	"$PROBE" --url "$URL" --timeout "$t" "$@" >"$TMP/$name.out" \
		2>"$TMP/$name.err" &
	PROBES+=($!)
}

probe book "$T" --send "$(sub_upd 1 SOL_USDT 100ms)" \
	--send "$(sub_upd 2 BTC_USDT 100ms)" --send "$(sub_upd 3 ETH_USDT 100ms)" \
	--send "$(sub_obu 4 ob.NEO_BTC.400)"
probe bad "$T" --send "$(sub_upd 1 DOGE_USDT 100ms)"
probe drop "$T" --send "$(sub_upd 1 XRP_USDT 100ms)"
probe close "$T" --send "$(sub_upd 1 GT_USDT 100ms)"
probe stall $((4 * MULT)) --send "$(sub_upd 1 OMG_USDT 100ms)"
# Faults act on live subscriptions: wait for every probe's first push.
for name in book bad drop close stall; do
	for i in $(seq 1 $((50 * MULT))); do
		[ "$(grep -c '"update"' "$TMP/$name.out")" -ge 1 ] && break
		[ "$i" -lt $((50 * MULT)) ] || fail "$name: no push"
		sleep 0.05
	done
done
sleep 0.3
fault "kind=dup&pair=BTC_USDT"
fault "kind=reorder&pair=ETH_USDT"
fault "kind=full&pair=NEO_BTC"
fault "kind=badjson&pair=DOGE_USDT"
fault "kind=oversize&pair=DOGE_USDT&n=100000"
fault "kind=drop&pair=XRP_USDT"
fault "kind=close&pair=GT_USDT&n=1"
fault "kind=stall&pair=OMG_USDT&n=2"
wait "${PROBES[@]}" || true

check() { # PAIR ARGS...
	local pair=$1
	shift
	python3 "$ROOT/tests/sim/check_truth.py" --truth "$TMP/$pair.truth.csv" \
		--frames "$TMP/book.out" --pair "$pair" "$@" >"$TMP/check.txt" ||
		fail "$pair: $(cat "$TMP/check.txt")"
	cat "$TMP/check.txt"
}
check SOL_USDT --gaps 1 --gap-size 5
pass "scripted gap skips 5 ids; the truth still has them"
check BTC_USDT --stale 1
pass "dup resends the last push (seen as stale)"
check ETH_USDT --gaps 1 --stale 1
pass "reorder swaps two pushes (a gap, then a stale push)"
check NEO_BTC --channel spot.obu >/dev/null
grep -q '2 full' "$TMP/check.txt" || fail "obu full fault: $(cat "$TMP/check.txt")"
pass "full fault sends a full obu push mid-stream"

grep -q '^{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":$' \
	"$TMP/bad.out" || fail "no malformed frame"
grep -qx '#frame 100000 bytes' "$TMP/bad.out" || fail "no oversize frame"
grep -q '^#timeout' "$TMP/bad.out" || fail "badjson/oversize closed the socket"
pass "badjson and oversize frames"

grep -q '^#closed' "$TMP/drop.out" || fail "drop: socket not closed"
grep -q '^#close ' "$TMP/drop.out" && fail "drop sent a close frame"
pass "drop closes TCP without a close frame"

grep -qx '#close 1001 server closing' "$TMP/close.out" ||
	fail "close: $(grep '^#' "$TMP/close.out")"
n=$(grep -c '"event":"update"' "$TMP/close.out")
[ "$n" -ge 10 ] || fail "close came too early ($n pushes)"
pass "close after 1 s sends a 1001 close frame ($n pushes before)"

grep -q '^#timeout' "$TMP/stall.out" || fail "stall closed the socket"
# At 200 changes/s a push covers ~20 ids; the first after a 2 s stall ~400.
n=$(python3 -c 'import json, sys
print(max(r["u"] - r["U"] + 1 for r in (json.loads(l)["result"]
      for l in open(sys.argv[1]) if "\"update\"" in l) if not r.get("full")))' \
	"$TMP/stall.out")
[ "$n" -ge 200 ] || fail "stall: largest push covers only $n ids"
check OMG_USDT --frames "$TMP/stall.out"
pass "stall pauses the feed for 2 s (then a push of $n ids), nothing lost"

fault "kind=rest_error&n=1"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' \
	"$REST/api/v4/spot/order_book?currency_pair=BTC_USDT&with_id=true")
[ "$code" = 500 ] || fail "rest_error: $code"
fault "kind=stale_snapshot&n=50"
"${CURL[@]}" "$REST/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true" \
	>"$TMP/stale.json"
"${CURL[@]}" "$REST/_sim/status" >"$TMP/status.json"
python3 - "$TMP/stale.json" "$TMP/status.json" <<'PY' || fail "stale id"
import json, sys
snap, st = (json.load(open(f)) for f in sys.argv[1:])
assert st["pairs"]["BTC_USDT"]["last_id"] - snap["id"] >= 50, (snap["id"], st)
PY
: >"$TMP/none"
python3 "$ROOT/tests/sim/check_truth.py" --truth "$TMP/BTC_USDT.truth.csv" \
	--frames "$TMP/none" --pair BTC_USDT --snapshot "$TMP/stale.json" \
	--min-applied 0 >/dev/null || fail "stale snapshot is not the truth at its id"
pass "rest_error gives 500; stale_snapshot serves the true book 50 ids back"

kill -TERM "$MAIN_PID"
wait "$MAIN_PID" || fail "SIGTERM exit status"
