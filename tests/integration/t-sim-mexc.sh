#!/usr/bin/env bash
# The simulator speaking MEXC spot v3 (--exchange mexc), driven by
# wsprobe: its protobuf encoder reproduces the real test vector; acks,
# the Blocked rejection (exact text), PONG; binary pushes decoded and
# checked against the truth (a REST snapshot equals the truth at its
# lastUpdateId, and the book rebuilt from it plus the pushes equals the
# truth after every push, through a gap fault); the REST error bodies
# and the 429 fault; the 30-stream limit, the 100 messages/s limit, the
# idle close without a subscription and the --lifetime close.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"

CHECK="python3 $ROOT/tests/sim/check_mexc.py"
VEC=$ROOT/tests/data/samples/mexc/encoded_ws_aggre_depth_BTCUSDC.bin
TOPIC=spot@public.aggre.depth.v3.api.pb

"$SIM" --check-vector "$VEC" || fail "the encoder differs from the vector"
pass "encoder reproduces encoded_ws_aggre_depth_BTCUSDC.bin"

# sub ID METHOD TOPIC...: a (un)subscription request.
sub() {
	local id=$1 method=$2 t list=
	shift 2
	for t in "$@"; do list="$list${list:+,}\"$t\""; done
	printf '{"method":"%s","params":[%s],"id":%s}' "$method" "$list" "$id"
}

# ---------------------------------------------------------------- stream
mkdir -p "$TMP/truth"
start_sim mexc --exchange mexc --truth-dir "$TMP/truth" --pairs BTCUSDT,ETHUSDT \
	--rate 300 --depth 40 --seed 5
URL=ws://127.0.0.1:$PORT/ws
HTTP=http://127.0.0.1:$PORT

"$PROBE" --url "$URL" --binary-hex --timeout $((4 * MULT)) \
	--send "$(sub 5 SUBSCRIPTION "$TOPIC@100ms@BTCUSDT" "$TOPIC@10ms@ETHUSDT" \
		"$TOPIC@100ms@NOPEUSDT" spot@public.increase.depth.v3.api@BTCUSDT)" \
	--send '{"method":"PING"}' >"$TMP/stream.out" &
probe=$!
sleep 0.7
curl -fsS "$HTTP/api/v3/depth?symbol=BTCUSDT&limit=5000" >"$TMP/btc.json" ||
	fail "REST depth BTCUSDT"
curl -fsS "$HTTP/api/v3/depth?symbol=ETHUSDT&limit=5000" >"$TMP/eth.json" ||
	fail "REST depth ETHUSDT"
sleep 0.5
curl -fsS "$HTTP/_sim/fault?kind=gap&pair=BTCUSDT&n=7" >/dev/null || fail "gap fault"
wait "$probe" || true

rej="Not Subscribed successfully! [$TOPIC@100ms@NOPEUSDT,spot@public.increase.depth.v3.api@BTCUSDT].  Reason： Blocked! "
grep -qxF "{\"id\":5,\"code\":0,\"msg\":\"$rej\"}" "$TMP/stream.out" ||
	fail "no exact Blocked rejection"
grep -qxF "{\"id\":5,\"code\":0,\"msg\":\"$TOPIC@100ms@BTCUSDT,$TOPIC@10ms@ETHUSDT\"}" \
	"$TMP/stream.out" || fail "no comma-joined ack"
grep -qxF '{"id":0,"code":0,"msg":"PONG"}' "$TMP/stream.out" || fail "no PONG"
pass "ack, rejection, pong"

first=$(grep -m1 '^#binary ' "$TMP/stream.out" | cut -d' ' -f2)
$CHECK decode "$first" >"$TMP/first.json" || fail "first push does not decode"
grep -q '"channel": "spot@public.aggre.depth.v3.api.pb@' "$TMP/first.json" ||
	fail "decoded push: $(cat "$TMP/first.json")"
pass "push decodes: $(cut -c1-100 "$TMP/first.json")..."

grep -q '^{"lastUpdateId":[0-9]*,"bids":\[\["' "$TMP/btc.json" ||
	fail "REST body: $(cut -c1-200 "$TMP/btc.json")"
$CHECK snapshot "$TMP/btc.json" "$TMP/truth/BTCUSDT.truth.csv" ||
	fail "REST snapshot is not the truth"
$CHECK snapshot "$TMP/eth.json" "$TMP/truth/ETHUSDT.truth.csv" ||
	fail "REST snapshot is not the truth"
pass "REST snapshots equal the truth at lastUpdateId"
$CHECK stream "$TMP/stream.out" BTCUSDT "$TMP/btc.json" \
	"$TMP/truth/BTCUSDT.truth.csv" --gaps 1 || fail "BTCUSDT stream"
$CHECK stream "$TMP/stream.out" ETHUSDT "$TMP/eth.json" \
	"$TMP/truth/ETHUSDT.truth.csv" --speed 10ms || fail "ETHUSDT stream"
pass "pushes rebuild the truth from the snapshot (one gap fault seen)"

# ---------------------------------------------------------------- REST
code=$(curl -sS -o "$TMP/err.json" -w '%{http_code}' "$HTTP/api/v3/depth?symbol=NOPE")
{ [ "$code" = 400 ] && grep -qxF '{"code":-1121,"msg":"Invalid symbol."}' "$TMP/err.json"; } ||
	fail "invalid symbol: $code $(cat "$TMP/err.json")"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$HTTP/api/v3/depth?symbol=BTCUSDT&limit=5001")
[ "$code" = 400 ] || fail "limit 5001: $code"
n=$(curl -fsS "$HTTP/api/v3/depth?symbol=BTCUSDT" | python3 -c \
	'import json,sys; b=json.load(sys.stdin); print(min(len(b["bids"]), len(b["asks"])))')
{ [ "$n" -ge 2 ] && [ "$n" -le 40 ]; } || fail "default limit: $n levels"
curl -fsS "$HTTP/_sim/fault?kind=rest_429" >/dev/null || fail "429 fault"
curl -sS -D "$TMP/h" -o "$TMP/b" "$HTTP/api/v3/depth?symbol=BTCUSDT" || true
{ grep -qi '^HTTP/1.1 429' "$TMP/h" && grep -qi '^retry-after: 1' "$TMP/h"; } ||
	fail "429: $(cat "$TMP/h")"
pass "REST errors and 429 with Retry-After"

# ---------------------------------------------------------------- limits
pairs=
topics=()
for i in $(seq 1 31); do
	pairs="$pairs${pairs:+,}S${i}USDT"
	topics+=("$TOPIC@100ms@S${i}USDT")
done
start_sim limits --exchange mexc --pairs "$pairs" --rate 10 --idle-close 1 --lifetime 3
URL=ws://127.0.0.1:$PORT/ws
"$PROBE" --url "$URL" --timeout $((2 * MULT)) --count 3 \
	--send "$(sub 1 SUBSCRIPTION "${topics[@]}")" \
	--send "$(sub 2 SUBSCRIPTION "$TOPIC@10ms@S1USDT")" >"$TMP/limit.out" || true
grep -qF "{\"id\":1,\"code\":0,\"msg\":\"Not Subscribed successfully! [$TOPIC@100ms@S31USDT].  Reason" \
	"$TMP/limit.out" || fail "31st stream not refused"
grep -q "^{\"id\":1,\"code\":0,\"msg\":\"$TOPIC@100ms@S1USDT,.*S30USDT\"}$" "$TMP/limit.out" ||
	fail "30 streams not acked"
grep -qF "{\"id\":2,\"code\":0,\"msg\":\"Not Subscribed successfully! [$TOPIC@10ms@S1USDT]" \
	"$TMP/limit.out" || fail "a 31st stream in a later request not refused"
pass "30 streams a connection"

pings=()
for i in $(seq 1 110); do pings+=(--send '{"method":"PING"}'); done
"$PROBE" --url "$URL" --timeout $((2 * MULT)) "${pings[@]}" >"$TMP/rate.out" || true
grep -q '^#close 1008 rate limit' "$TMP/rate.out" || fail "110 messages in a second: $(tail -n 3 "$TMP/rate.out")"
[ "$(grep -c PONG "$TMP/rate.out")" -le 100 ] || fail "more than 100 PONGs"
pass "over 100 messages/s closes"

start=$(date +%s%N)
"$PROBE" --url "$URL" --timeout $((5 * MULT)) --send '{"method":"PING"}' >"$TMP/idle.out" || true
ms=$((($(date +%s%N) - start) / 1000000))
grep -q '^#closed' "$TMP/idle.out" || fail "no idle close: $(cat "$TMP/idle.out")"
{ [ "$ms" -ge 900 ] && [ "$ms" -lt $((4000 * MULT)) ]; } || fail "idle close after $ms ms"
pass "a socket without a subscription is closed ($ms ms; PING does not count)"

start=$(date +%s%N)
"$PROBE" --url "$URL" --timeout $((8 * MULT)) --binary-hex \
	--send "$(sub 3 SUBSCRIPTION "$TOPIC@100ms@S2USDT")" >"$TMP/life.out" &
probe=$!
sleep 1
curl -fsS "http://127.0.0.1:$PORT/_sim/fault?kind=badjson" >/dev/null || fail "badjson fault"
wait "$probe" || true
ms=$((($(date +%s%N) - start) / 1000000))
grep -q '^#close 1001 server closing' "$TMP/life.out" ||
	fail "no lifetime close: $(tail -n 3 "$TMP/life.out")"
{ [ "$ms" -ge 2900 ] && [ "$ms" -lt $((6000 * MULT)) ]; } || fail "lifetime close after $ms ms"
grep -q '^#binary 0a2f' "$TMP/life.out" || fail "no push before the lifetime close"
grep -qx '#binary 0a2f73706f74' "$TMP/life.out" || fail "no truncated push (badjson)"
pass "--lifetime 3 closes a subscribed connection with 1001 ($ms ms); badjson"
