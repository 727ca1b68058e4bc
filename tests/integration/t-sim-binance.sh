#!/usr/bin/env bash
# The simulator speaking Binance spot (--exchange binance), driven by
# wsprobe: live SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS acks with ids,
# the silent accept of an unknown symbol, error replies (invalid stream,
# bad id, unknown method); depthUpdate pushes checked against the truth
# (a REST snapshot equals the truth at its lastUpdateId, and the book
# rebuilt from it plus the pushes equals the truth after every push,
# through a gap fault); REST errors, limit clipping and the 429 fault;
# the 1024-stream limit, the 5 messages/s limit and the --lifetime close
# announced by serverShutdown.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"

CHECK="python3 $ROOT/tests/sim/check_binance.py"

# sub ID METHOD STREAM...: a request.
sub() {
	local id=$1 method=$2 t list=
	shift 2
	for t in "$@"; do list="$list${list:+,}\"$t\""; done
	printf '{"method":"%s","params":[%s],"id":%s}' "$method" "$list" "$id"
}

# ---------------------------------------------------------------- stream
mkdir -p "$TMP/truth"
start_sim bn --exchange binance --truth-dir "$TMP/truth" --pairs BTCUSDT,ETHUSDT \
	--rate 300 --depth 40 --seed 5
URL=ws://127.0.0.1:$PORT/ws
HTTP=http://127.0.0.1:$PORT

"$PROBE" --url "$URL" --timeout $((4 * MULT)) \
	--send "$(sub 5 SUBSCRIBE btcusdt@depth@100ms ethusdt@depth nopeusdt@depth@100ms)" \
	--send "$(sub 6 SUBSCRIBE BTCUSDT@depth@100ms)" \
	--send '{"method":"LIST_SUBSCRIPTIONS","id":7}' \
	--send '{"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":"x"}' >"$TMP/stream.out" &
probe=$!
# The snapshot must come after the stream began (Binance's recipe
# buffers first): wait for a first BTCUSDT push, however slow the start.
for _ in $(seq 1 $((50 * MULT))); do
	grep -q '"s":"BTCUSDT"' "$TMP/stream.out" 2>/dev/null && break
	sleep 0.1
done
curl -fsS "$HTTP/api/v3/depth?symbol=BTCUSDT&limit=5000" >"$TMP/btc.json" ||
	fail "REST depth BTCUSDT"
# A push or two bridge the snapshot before the gap is made.
sleep 0.4
curl -fsS "$HTTP/_sim/fault?kind=gap&pair=BTCUSDT&n=7" >/dev/null || fail "gap fault"
sleep 0.3
wait "$probe" || true

grep -qxF '{"result":null,"id":5}' "$TMP/stream.out" || fail "no ack for id 5"
grep -qxF '{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":6}' \
	"$TMP/stream.out" || fail "an uppercase stream name was not refused"
grep -qxF '{"result":["btcusdt@depth@100ms","ethusdt@depth"],"id":7}' \
	"$TMP/stream.out" || grep -qxF '{"result":["ethusdt@depth","btcusdt@depth@100ms"],"id":7}' \
	"$TMP/stream.out" || fail "LIST_SUBSCRIPTIONS: $(grep '"id":7' "$TMP/stream.out")"
grep -qF '"msg":"Invalid request: request ID must be an unsigned integer"},"id":null}' \
	"$TMP/stream.out" || fail "a string id was not refused"
grep -q '"s":"NOPEUSDT"' "$TMP/stream.out" && fail "data for an unknown symbol"
pass "acks with ids, LIST_SUBSCRIPTIONS, errors, unknown symbol accepted without data"

$CHECK snapshot "$TMP/btc.json" "$TMP/truth/BTCUSDT.truth.csv" ||
	fail "REST snapshot is not the truth"
$CHECK stream "$TMP/stream.out" BTCUSDT "$TMP/btc.json" \
	"$TMP/truth/BTCUSDT.truth.csv" --gaps 1 || fail "BTCUSDT stream"
n=$(grep -c '"s":"ETHUSDT"' "$TMP/stream.out" || true)
{ [ "$n" -ge 2 ] && [ "$n" -le 6 ]; } || fail "ETHUSDT@depth (1000 ms): $n pushes in ~4 s"
pass "pushes rebuild the truth from the snapshot (one gap fault seen); @depth is 1 s"

# ---------------------------------------------------------------- REST
code=$(curl -sS -o "$TMP/err.json" -w '%{http_code}' "$HTTP/api/v3/depth?symbol=NOPE")
{ [ "$code" = 400 ] && grep -qxF '{"code":-1121,"msg":"Invalid symbol."}' "$TMP/err.json"; } ||
	fail "invalid symbol: $code $(cat "$TMP/err.json")"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$HTTP/api/v3/depth?symbol=BTCUSDT&limit=9000")
[ "$code" = 200 ] || fail "limit 9000 (clipped to 5000): $code"
curl -fsS "$HTTP/_sim/fault?kind=rest_429" >/dev/null || fail "429 fault"
curl -sS -D "$TMP/h" -o "$TMP/b" "$HTTP/api/v3/depth?symbol=BTCUSDT" || true
{ grep -qi '^HTTP/1.1 429' "$TMP/h" && grep -qi '^retry-after: 1' "$TMP/h" &&
	grep -q '"code":-1003' "$TMP/b"; } || fail "429: $(cat "$TMP/h" "$TMP/b")"
pass "REST errors, limit clipping, 429 with Retry-After"

# ---------------------------------------------------------------- limits
start_sim limits --exchange binance --pairs BTCUSDT --rate 10 --lifetime 3
URL=ws://127.0.0.1:$PORT/ws
streams=()
for i in $(seq 1 1024); do streams+=("s${i}usdt@depth@100ms"); done
"$PROBE" --url "$URL" --timeout $((3 * MULT)) --count 2 \
	--send "$(sub 1 SUBSCRIBE "${streams[@]}")" \
	--send-at "1:$(sub 2 SUBSCRIBE btcusdt@depth@100ms)" >"$TMP/limit.out" ||
	fail "limit probe: $(head -c 300 "$TMP/limit.out")"
grep -qxF '{"result":null,"id":1}' "$TMP/limit.out" || fail "1024 streams not acked"
grep -qxF '{"error":{"code":2,"msg":"Invalid request: too many streams"},"id":2}' \
	"$TMP/limit.out" || fail "the 1025th stream not refused"
pass "1024 streams a connection"

msgs=()
for i in $(seq 1 6); do msgs+=(--send "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":$i}"); done
"$PROBE" --url "$URL" --timeout $((2 * MULT)) "${msgs[@]}" >"$TMP/rate.out" || true
grep -q '^#close 1008 rate limit' "$TMP/rate.out" ||
	fail "6 messages in a second: $(tail -n 3 "$TMP/rate.out")"
[ "$(grep -c '"result"' "$TMP/rate.out")" -le 5 ] || fail "more than 5 replies"
pass "over 5 messages/s closes"

start=$(date +%s%N)
"$PROBE" --url "$URL" --timeout $((8 * MULT)) \
	--send "$(sub 3 SUBSCRIBE btcusdt@depth@100ms)" >"$TMP/life.out" &
probe=$!
sleep 1
curl -fsS "http://127.0.0.1:$PORT/_sim/fault?kind=badjson" >/dev/null || fail "badjson fault"
wait "$probe" || true
ms=$((($(date +%s%N) - start) / 1000000))
grep -q '^{"e":"serverShutdown","E":[0-9]*}$' "$TMP/life.out" ||
	fail "no serverShutdown before the lifetime close"
grep -q '^#close 1001 server closing' "$TMP/life.out" ||
	fail "no lifetime close: $(tail -n 3 "$TMP/life.out")"
{ [ "$ms" -ge 2900 ] && [ "$ms" -lt $((6000 * MULT)) ]; } || fail "lifetime close after $ms ms"
grep -qxF '{"e":"depthUpdate","E":1,"s":"' "$TMP/life.out" || fail "no truncated push (badjson)"
pass "--lifetime 3: serverShutdown, then 1001 ($ms ms); badjson"
