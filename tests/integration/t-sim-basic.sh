#!/usr/bin/env bash
# The simulator over TLS: ack and error forms, ping/pong, REST snapshot
# shape and errors, the documented sync reproducing the truth on both
# channels, the 429 fault, loopback-only binding, and a rogue cert that
# the client rejects.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"

bash "$ROOT/tests/sim/make-certs.sh" "$TMP/certs"
C=$TMP/certs
start_sim sim --tls-cert "$C/server.pem" --tls-key "$C/server.key" \
	--truth-dir "$TMP" --pairs BTC_USDT,ETH_USDT --rate 300 --duration 25
MAIN_PID=$SIM_PID
URL=wss://127.0.0.1:$PORT/ws/v4/
REST=https://127.0.0.1:$PORT
CURL=(curl -sS --cacert "$C/ca.pem" --max-time 5)

ss -ltn | grep -q "127.0.0.1:$PORT " || fail "not listening on 127.0.0.1"
if ss -ltn | grep -E "(\*|0\.0\.0\.0|\[::\]):$PORT " >/dev/null; then
	fail "listening beyond loopback"
fi
pass "listens on 127.0.0.1:$PORT only"

# One connection: control requests first, then the streams.
"$PROBE" --url "$URL" --ca-file "$C/ca.pem" --timeout $((3 * MULT)) \
	--send "$(sub_upd 7 BTC_USDT 100ms)" \
	--send '{"time":1,"channel":"spot.ping"}' \
	--send "$(sub_upd 8 NOPE_USDT 100ms)" \
	--send '{"time":1,"channel":' \
	--send "$(sub_upd 9 BTC_USDT 5ms)" \
	--send "$(sub_obu 10 ob.ETH_USDT.50)" \
	--send "$(sub_obu 11 ob.ETH_USDT.50)" \
	>"$TMP/frames" 2>"$TMP/probe.log" &
probe=$!
sleep $((MULT)).2
"${CURL[@]}" "$REST/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true" \
	>"$TMP/snap.json" || fail "REST snapshot"
wait "$probe" || fail "wsprobe failed"

python3 - "$TMP/frames" <<'PY' || fail "ack forms"
import json, re, sys
frames = [json.loads(l) for l in open(sys.argv[1]) if not l.startswith("#")]
acks = [f for f in frames if f.get("event") in ("subscribe", "")]
by_id = {f.get("id"): f for f in acks}
hexre = lambda n: re.compile("^[0-9a-f]{%d}$" % n)
a = by_id[7]
assert list(a) == ["time", "time_ms", "id", "conn_id", "trace_id", "channel",
                   "event", "payload", "result", "requestId"], list(a)
assert hexre(16).match(a["conn_id"]) and hexre(32).match(a["trace_id"])
assert a["requestId"] == a["trace_id"]
assert a["payload"] == ["BTC_USDT", "100ms"] and a["result"] == {"status": "success"}
assert "error" not in a and a["time_ms"] // 1000 == a["time"]
e = by_id[8]
assert e["error"] == {"code": 2, "message": "unknown currency pair: NOPE_USDT"}, e
assert e["result"] == {"status": "fail"}
bad = [f for f in acks if f.get("error", {}).get("code") == 1]
assert len(bad) == 1 and bad[0]["error"]["message"] == "invalid request body format"
assert by_id[9]["error"]["code"] == 2 and "5ms" in by_id[9]["error"]["message"]
assert by_id[10]["result"] == {"status": "success"}
assert by_id[11]["error"] == {"code": 2, "message": "Alert sub ob.ETH_USDT.50"}
pong = [f for f in acks if f["channel"] == "spot.pong"]
assert len(pong) == 1 and pong[0]["event"] == "" and pong[0]["result"] is None
pushes = [f for f in frames if f.get("event") == "update"]
assert pushes and pushes[0]["result"].get("full") is True
r = pushes[1]["result"]
assert list(r) == ["t", "l", "e", "E", "s", "U", "u", "b", "a"], list(r)
assert r["l"] == "100" and r["e"] == "depthUpdate" and r["s"] == "BTC_USDT"
obu = [f for f in frames if f.get("channel") == "spot.obu" and "result" in f
       and "s" in f["result"]]
assert sorted(obu[0]) == ["channel", "result", "time_ms"]
assert obu[0]["result"]["full"] is True and "U" not in obu[0]["result"]
assert obu[0]["result"]["s"] == "ob.ETH_USDT.50" and "U" in obu[1]["result"]
PY
pass "acks, errors (codes 1 and 2, Alert sub), pong and push forms"

python3 - "$TMP/snap.json" <<'PY' || fail "REST shape"
import json, sys
from decimal import Decimal as D
s = json.load(open(sys.argv[1]))
assert list(s) == ["id", "current", "update", "asks", "bids"], list(s)
asks = [D(p) for p, _ in s["asks"]]
bids = [D(p) for p, _ in s["bids"]]
assert asks == sorted(asks) and bids == sorted(bids, reverse=True)
assert bids[0] < asks[0] and len(asks) > 10
PY
"${CURL[@]}" "$REST/api/v4/spot/order_book?currency_pair=ETH_USDT&limit=3" |
	python3 -c 'import json,sys; s=json.load(sys.stdin); assert "id" not in s and len(s["asks"]) == 3 == len(s["bids"])' ||
	fail "REST limit / with_id"
code=$("${CURL[@]}" -o "$TMP/err.json" -w '%{http_code}' \
	"$REST/api/v4/spot/order_book?currency_pair=NOPE_USDT&with_id=true")
if [ "$code" != 400 ] ||
	! grep -q '"label":"INVALID_CURRENCY_PAIR"' "$TMP/err.json"; then
	fail "REST unknown pair: $code $(cat "$TMP/err.json")"
fi
pass "REST snapshot shape, limit, with_id, unknown pair 400"

python3 "$ROOT/tests/sim/check_truth.py" --truth "$TMP/BTC_USDT.truth.csv" \
	--frames "$TMP/frames" --pair BTC_USDT --snapshot "$TMP/snap.json" ||
	fail "REST sync does not reproduce the truth"
python3 "$ROOT/tests/sim/check_truth.py" --truth "$TMP/BTC_USDT.truth.csv" \
	--frames "$TMP/frames" --pair BTC_USDT || fail "full-push sync"
python3 "$ROOT/tests/sim/check_truth.py" --truth "$TMP/ETH_USDT.truth.csv" \
	--frames "$TMP/frames" --pair ETH_USDT --channel spot.obu \
	--min-applied 50 || fail "obu sync does not reproduce the truth"
pass "snapshot + pushes and obu pushes reproduce the truth"

"${CURL[@]}" "$REST/_sim/fault?kind=rest_429&n=2" | grep -qx ok || fail "fault endpoint"
for i in 1 2; do
	"${CURL[@]}" -D "$TMP/h$i" -o /dev/null \
		"$REST/api/v4/spot/order_book?currency_pair=BTC_USDT&with_id=true"
	head -n 1 "$TMP/h$i" | grep -q ' 429' || fail "429 #$i: $(head -n 1 "$TMP/h$i")"
	grep -qi '^retry-after: 1' "$TMP/h$i" || fail "no Retry-After"
done
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' \
	"$REST/api/v4/spot/order_book?currency_pair=BTC_USDT&with_id=true")
[ "$code" = 200 ] || fail "after 429s: $code"
pass "rest_429 fault: two 429 with Retry-After, then 200"

start_sim rogue --tls-cert "$C/rogue.pem" --tls-key "$C/rogue.key" --duration 10
if "$PROBE" --url "wss://127.0.0.1:$PORT/ws/v4/" --ca-file "$C/ca.pem" \
	--count 1 --timeout 3 >"$TMP/rogue.out" 2>"$TMP/rogue.err"; then
	fail "rogue certificate accepted"
fi
grep -q '^#error' "$TMP/rogue.out" || fail "rogue: no connection error"
"$PROBE" --url "wss://127.0.0.1:$PORT/ws/v4/" --ca-file "$C/rogue.pem" \
	--count 1 --timeout 3 --send '{"time":1,"channel":"spot.ping"}' \
	>/dev/null 2>&1 || fail "rogue server unreachable with its own CA"
pass "rogue certificate rejected by a client trusting the test CA"

kill -TERM "$MAIN_PID"
wait "$MAIN_PID" || fail "SIGTERM exit status $?"
pass "SIGTERM exits 0"
