#!/usr/bin/env bash
# Simulator modes: flood (pre-paced 5-level pushes written as fast as the
# client reads, then a normal close; plain and TLS) and replay (the real
# Gate.io captures, which sync gap-free and uncrossed).
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"

N=20000
start_sim flood --flood "$N" --pairs BTC_USDT --truth-dir "$TMP" --duration 20
"$PROBE" --url "ws://127.0.0.1:$PORT/ws/v4/" --timeout $((10 * MULT)) \
	--send "$(sub_upd 1 BTC_USDT 100ms)" >"$TMP/flood.out" ||
	fail "flood probe"
grep -qx '#close 1000 flood done' "$TMP/flood.out" || fail "no normal close"
n=$(grep -c '"event":"update"' "$TMP/flood.out")
[ "$n" = $((N + 1)) ] || fail "flood sent $n pushes, want $((N + 1))"
python3 - "$TMP/flood.out" <<'PY' || fail "flood push shape"
import json, sys
ups = [json.loads(l)["result"] for l in open(sys.argv[1]) if '"update"' in l]
assert ups[0]["full"] is True
assert all(r["u"] - r["U"] == 4 for r in ups[1:])
assert all(len(r["b"]) + len(r["a"]) <= 5 for r in ups[1:])
PY
python3 "$ROOT/tests/sim/check_truth.py" --truth "$TMP/BTC_USDT.truth.csv" \
	--frames "$TMP/flood.out" --pair BTC_USDT --min-applied "$N" ||
	fail "flood does not reproduce the truth"
pass "flood: $N five-id pushes after a full one, then close 1000; truth matches"

bash "$ROOT/tests/sim/make-certs.sh" "$TMP/certs"
start_sim tflood --flood 50000 --pairs BTC_USDT,ETH_USDT --duration 20 \
	--tls-cert "$TMP/certs/server.pem" --tls-key "$TMP/certs/server.key"
"$PROBE" --url "wss://127.0.0.1:$PORT/" --ca-file "$TMP/certs/ca.pem" \
	--quiet --timeout $((10 * MULT)) --send "$(sub_upd 1 BTC_USDT 100ms)" \
	--send "$(sub_upd 2 ETH_USDT 100ms)" >"$TMP/tflood.out" ||
	fail "TLS flood probe"
grep -q '^#frames 100004 ' "$TMP/tflood.out" ||
	fail "TLS flood: $(tail -n 1 "$TMP/tflood.out")"
pass "TLS flood, two pairs: $(tail -n 1 "$TMP/tflood.out")"

DATA=$ROOT/tests/data/samples/gateio
start_sim replay --replay "$DATA" --duration 20
REST=http://127.0.0.1:$PORT/api/v4/spot/order_book
"$PROBE" --url "ws://127.0.0.1:$PORT/ws/v4/" --timeout $((10 * MULT)) \
	--count 92 --send "$(sub_upd 1 NEO_BTC 20ms)" \
	--send "$(sub_upd 2 OMG_USDT 20ms)" >"$TMP/replay.out" ||
	fail "replay probe"
for pair in NEO_BTC OMG_USDT; do
	curl -sS --max-time 5 "$REST?currency_pair=$pair&limit=100&with_id=true" \
		>"$TMP/$pair.snap" || fail "replay REST"
	cmp -s "$TMP/$pair.snap" "$DATA/extracted_${pair}_rest_snapshot_with_id.json" ||
		fail "$pair snapshot not served verbatim"
	grep "\"s\":\"$pair\"" "$TMP/replay.out" >"$TMP/$pair.frames"
	cmp -s "$TMP/$pair.frames" "$DATA/extracted_${pair}_ws_order_book_update.jsonl" ||
		fail "$pair frames not replayed in order"
	python3 "$ROOT/tests/sim/check_truth.py" --frames "$TMP/replay.out" \
		--pair "$pair" --snapshot "$TMP/$pair.snap" --min-applied 36 ||
		fail "$pair replay does not sync"
done
pass "replay: captured snapshots and frames served verbatim, gap-free sync"
