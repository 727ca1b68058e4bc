#!/usr/bin/env bash
# OKX v5 through the venue interface, against the simulator's OKX (books
# channel: a 400-level window, seqId chain with jumps, heartbeats, a
# maintenance reset; acks per arg, text ping/pong, 64008 before each
# lifetime close): 35 instruments take two connections (fewer than 30
# books channels each), the books are 450 levels deep, a gap resubscribes
# its instrument, an unknown instrument is refused (60018) while the
# others record, lifetime closes are announced and rolled over. Then the legacy feed with
# real checksums, and the snapshot-less channel bootstrapped from REST
# (with REST errors). The best 400 levels rebuilt from the CSV, and every
# book_snapshot_N row, equal the truth after every message.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

pairs=()
norm=()
for i in $(seq -w 1 35); do
	pairs+=("P$i-USDT")
	norm+=("\"P$i-USDT\"")
done
sim_pairs=$(IFS=,; echo "${pairs[*]}")
rec_pairs=$(IFS=,; echo "${norm[*]}"),\"NOPE-USDT\"

mkdir -p "$TMP/truth"
start_sim sim --exchange okx --truth-dir "$TMP/truth" --pairs "$sim_pairs" \
	--depth 450 --rate 40 --seed 9 --lifetime 7 --heartbeat 2 --seq-reset 4 \
	--script "2:gap:P01-USDT:3,3.2:gap:P02-USDT:2,4:sweep_bids:P03-USDT:150"
write_config "$TMP/rec.yml" "$rec_pairs" "connector_name: okx" \
	"snapshot_interval: 0" "snapshot_depth: 50" "stale_after: 5" "depth_limit: 400" \
	"ws_url: \"ws://127.0.0.1:$PORT/ws/v5/public\"" \
	"rest_url: \"http://127.0.0.1:$PORT\""
start_rec rec "$TMP/rec.yml"
sleep $((3 * MULT))
conns=$(curl -sf --max-time 2 "http://127.0.0.1:$PORT/_sim/status" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["conns"])')
[ "$conns" -eq 2 ] || fail "36 instruments on $conns connections, want 2"
pass "36 instruments take two connections"
grep -q 'code 60018' "$TMP/rec.log" || fail "the unknown instrument was not refused"
# Past the faults, the reset and at least one lifetime close of each.
sleep $((7 * MULT))
# Each close is announced (64008): the recorder rolls the connection
# over to a new one first (issue 12), so no close is a hole.
wait_metric 'orderbook_collector_rollovers_total{exchange="okx"}' 35 5
grep -q "the exchange will close it" "$TMP/rec.log" ||
	fail "the 64008 notice did not start a rollover"
stop_rec
kill "$SIM_PID"
python3 "$CHECK" "$TMP/data" "$TMP/truth" okx P01-USDT P02-USDT --okx-seq \
	--window 400 --top-n 50 --min-checks 20 --expect-events gap,resync,full_refresh ||
	fail "books with gaps differ from the truth"
python3 "$CHECK" "$TMP/data" "$TMP/truth" okx "${pairs[@]:2}" --okx-seq \
	--window 400 --top-n 50 --min-checks 10 --expect-events rollover,full_refresh \
	--forbid-events gap ||
	fail "books differ from the truth"
pass "okx: 35 books equal the truth through gaps, a reset, heartbeats, a sweep and lifetime closes"

# The legacy feed: every push carries its book's CRC32, verified.
stop_all() { stop_rec; kill "$SIM_PID" 2>/dev/null || true; }
rm -rf "$TMP/data" "$TMP/truth"
mkdir -p "$TMP/truth"
start_sim ck --exchange okx --truth-dir "$TMP/truth" --pairs BTC-USDT,ETH-USDT \
	--depth 60 --rate 50 --checksum
write_config "$TMP/ck.yml" '"BTC-USDT","ETH-USDT"' "connector_name: okx" \
	"snapshot_interval: 0" "snapshot_depth: 25" "stale_after: 5" "depth_limit: 400" \
	"ws_url: \"ws://127.0.0.1:$PORT/ws\"" "rest_url: \"http://127.0.0.1:$PORT\""
start_rec ck "$TMP/ck.yml"
sleep $((4 * MULT))
stop_all
grep -q 'checksum mismatch' "$TMP"/data/live/okx/*/*/*.book_events.csv &&
	fail "a checksum mismatch on a correct feed"
python3 "$CHECK" "$TMP/data" "$TMP/truth" okx BTC-USDT ETH-USDT --okx-seq \
	--window 400 --top-n 25 --min-checks 20 --forbid-events gap,resync ||
	fail "legacy feed books differ from the truth"
pass "okx --checksum: every CRC32 verified, books equal the truth"

# The snapshot-less channel: REST market/books (seqId) and the buffered
# updates, through a REST error and a 429.
rm -rf "$TMP/data" "$TMP/truth"
mkdir -p "$TMP/truth"
start_sim ns --exchange okx --truth-dir "$TMP/truth" --pairs BTC-USDT,ETH-USDT \
	--depth 450 --rate 50 --no-snapshot --script "0.5:rest_error:1,0.6:rest_429:1,3:gap:BTC-USDT:2"
write_config "$TMP/ns.yml" '"BTC-USDT","ETH-USDT"' "connector_name: okx" \
	"snapshot_interval: 0" "snapshot_depth: 25" "stale_after: 5" "depth_limit: 400" \
	"ws_url: \"ws://127.0.0.1:$PORT/ws\"" "rest_url: \"http://127.0.0.1:$PORT\""
start_rec ns "$TMP/ns.yml"
sleep $((9 * MULT))
stop_all
python3 "$CHECK" "$TMP/data" "$TMP/truth" okx BTC-USDT --okx-seq \
	--window 400 --top-n 25 --min-checks 10 --expect-events snapshot,gap ||
	fail "REST-bootstrapped books differ from the truth"
python3 "$CHECK" "$TMP/data" "$TMP/truth" okx ETH-USDT --okx-seq \
	--window 400 --top-n 25 --min-checks 10 --expect-events snapshot --forbid-events gap ||
	fail "REST-bootstrapped books differ from the truth"
pass "okx --no-snapshot: books bootstrapped from REST equal the truth"
