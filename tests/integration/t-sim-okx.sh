#!/usr/bin/env bash
# The simulator speaking OKX v5 (--exchange okx), driven by wsprobe:
# acks per arg with the echoed id and connId, 60018 for an unknown
# instrument or channel, 60012 for a bad request, text ping/pong; the
# books channel checked against the truth (a 400-level window on a
# deeper book: snapshot push, updates chained by prevSeqId == seqId with
# jumping ids, heartbeats, a maintenance reset, a gap fault), the legacy
# checksum mode (every CRC32 verified), the snapshot-less mode bootstrapped
# from REST market/books with seqId; REST errors; the 30-channel limit
# (4008), 3 connections a second, and the 64008 notice before a
# --lifetime close.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"

CHECK="python3 $ROOT/tests/sim/check_okx.py"

# sub ID OP INST...: a books (un)subscribe request.
sub() {
	local id=$1 op=$2 t list=
	shift 2
	for t in "$@"; do list="$list${list:+,}{\"channel\":\"books\",\"instId\":\"$t\"}"; done
	printf '{"id":"%s","op":"%s","args":[%s]}' "$id" "$op" "$list"
}

# ---------------------------------------------------------------- stream
mkdir -p "$TMP/truth"
start_sim ok --exchange okx --truth-dir "$TMP/truth" --pairs BTC-USDT,ETH-USDT \
	--rate 300 --depth 450 --seed 5 --heartbeat 1 --seq-reset 2.5 \
	--script "1.5:gap:BTC-USDT:7"
URL=ws://127.0.0.1:$PORT/ws/v5/public
HTTP=http://127.0.0.1:$PORT
"$PROBE" --url "$URL" --timeout $((4 * MULT)) \
	--send "$(sub 1512 subscribe BTC-USDT ETH-USDT NOPE-USDT)" \
	--send '{"id":"7","op":"subscribe","args":[{"channel":"books5","instId":"BTC-USDT"}]}' \
	--send '{"op":"subscribe","argss":[]}' --send ping >"$TMP/stream.out" || true

grep -q '^{"id":"1512","event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"[0-9a-f]*"}$' \
	"$TMP/stream.out" || fail "no ack for BTC-USDT"
grep -q '^{"id":"1512","event":"subscribe","arg":{"channel":"books","instId":"ETH-USDT"}' \
	"$TMP/stream.out" || fail "no ack for ETH-USDT"
grep -q '^{"id":"1512","event":"error","code":"60018","msg":"Wrong URL or channel:books,instId:NOPE-USDT doesn.t exist' \
	"$TMP/stream.out" || fail "no 60018 for NOPE-USDT"
grep -q '^{"id":"7","event":"error","code":"60018"' "$TMP/stream.out" || fail "no 60018 for books5"
grep -q '"event":"error","code":"60012"' "$TMP/stream.out" || fail "no 60012"
grep -qx pong "$TMP/stream.out" || fail "no pong"
pass "acks per arg, 60018, 60012, pong"
$CHECK stream "$TMP/stream.out" BTC-USDT "$TMP/truth/BTC-USDT.truth.csv" \
	--gaps 1 --resets 1 || fail "BTC-USDT stream"
$CHECK stream "$TMP/stream.out" ETH-USDT "$TMP/truth/ETH-USDT.truth.csv" \
	--resets 1 || fail "ETH-USDT stream"
pass "books: a 400-level window of a 450-level book, chained, a reset, a gap"

# Heartbeats: an instrument whose window does not change.
mkdir -p "$TMP/t2"
start_sim hb --exchange okx --truth-dir "$TMP/t2" --pairs QUIET-USDT --rate 0.01 \
	--heartbeat 0.5
"$PROBE" --url "ws://127.0.0.1:$PORT/ws" --timeout $((3 * MULT)) \
	--send "$(sub 1 subscribe QUIET-USDT)" >"$TMP/hb.out" || true
$CHECK stream "$TMP/hb.out" QUIET-USDT "$TMP/t2/QUIET-USDT.truth.csv" \
	--heartbeats 3 || fail "heartbeats"
pass "idle heartbeats: seqId == prevSeqId, no levels"

# ---------------------------------------------------------------- modes
mkdir -p "$TMP/t3"
start_sim ck --exchange okx --truth-dir "$TMP/t3" --pairs BTC-USDT --rate 200 \
	--depth 60 --checksum
"$PROBE" --url "ws://127.0.0.1:$PORT/ws" --timeout $((2 * MULT)) \
	--send "$(sub 1 subscribe BTC-USDT)" >"$TMP/ck.out" || true
$CHECK stream "$TMP/ck.out" BTC-USDT "$TMP/t3/BTC-USDT.truth.csv" --checksums ||
	fail "legacy checksums"
pass "--checksum: every push carries the CRC32 of its book"

mkdir -p "$TMP/t4"
start_sim ns --exchange okx --truth-dir "$TMP/t4" --pairs BTC-USDT --rate 200 \
	--depth 450 --no-snapshot
HTTP=http://127.0.0.1:$PORT
"$PROBE" --url "ws://127.0.0.1:$PORT/ws" --timeout $((3 * MULT)) \
	--send "$(sub 1 subscribe BTC-USDT)" >"$TMP/ns.out" &
probe=$!
sleep 0.8
curl -fsS "$HTTP/api/v5/market/books?instId=BTC-USDT&sz=400" >"$TMP/rest.json" || fail "REST books"
wait "$probe" || true
grep -q '"action":"snapshot"' "$TMP/ns.out" && fail "a snapshot push in snapshot-less mode"
grep -q '"seqId":[0-9]*}]}$' "$TMP/rest.json" || fail "REST without seqId: $(head -c 200 "$TMP/rest.json")"
$CHECK stream "$TMP/ns.out" BTC-USDT "$TMP/t4/BTC-USDT.truth.csv" \
	--rest "$TMP/rest.json" || fail "REST bootstrap"
pass "--no-snapshot: REST market/books with seqId bridges the updates"

body=$(curl -fsS "$HTTP/api/v5/market/books?instId=NOPE-USDT")
[ "$body" = '{"code":"51001","msg":"Instrument ID, Instrument ID code or Spread ID doesn'"'"'t exist.","data":[]}' ] ||
	fail "unknown instrument: $body"
curl -fsS "$HTTP/_sim/fault?kind=rest_429" >/dev/null || fail "429 fault"
code=$(curl -sS -o "$TMP/b" -w '%{http_code}' "$HTTP/api/v5/market/books?instId=BTC-USDT")
{ [ "$code" = 429 ] && grep -q '"code":"50011"' "$TMP/b"; } || fail "429: $code $(cat "$TMP/b")"
pass "REST 51001 and 429"

# ---------------------------------------------------------------- limits
pairs=
insts=()
for i in $(seq 1 31); do
	pairs="$pairs${pairs:+,}S$i-USDT"
	insts+=("S$i-USDT")
done
start_sim limits --exchange okx --pairs "$pairs" --rate 5 --lifetime 3
URL=ws://127.0.0.1:$PORT/ws
"$PROBE" --url "$URL" --timeout $((2 * MULT)) \
	--send "$(sub 1 subscribe "${insts[@]}")" >"$TMP/limit.out" || true
[ "$(grep -c '"event":"subscribe"' "$TMP/limit.out")" -eq 30 ] || fail "30 channels not acked"
grep -q '^#close 4008' "$TMP/limit.out" || fail "the 31st channel did not close with 4008: $(tail -n 2 "$TMP/limit.out")"
pass "30 books channels a connection, the 31st closes with 4008"

probes=()
for i in 1 2 3 4; do
	"$PROBE" --url "$URL" --timeout 1 >"$TMP/conn$i.out" 2>&1 &
	probes+=($!)
done
wait "${probes[@]}" || true
[ "$(grep -l '^#close 1008' "$TMP"/conn*.out | wc -l)" -ge 1 ] ||
	fail "4 connections in a second all accepted"
pass "over 3 connections a second: 1008"

sleep 1.1
start=$(date +%s%N)
"$PROBE" --url "$URL" --timeout $((8 * MULT)) --send "$(sub 3 subscribe S2-USDT)" >"$TMP/life.out" || true
ms=$((($(date +%s%N) - start) / 1000000))
grep -q '^{"event":"notice","code":"64008","msg":"The connection will soon be closed' "$TMP/life.out" ||
	fail "no 64008 notice"
grep -q '^#close 1001 server closing' "$TMP/life.out" || fail "no close after the notice"
{ [ "$ms" -ge 2900 ] && [ "$ms" -lt $((6000 * MULT)) ]; } || fail "lifetime close after $ms ms"
pass "--lifetime 3: the 64008 notice, then 1001 ($ms ms)"
