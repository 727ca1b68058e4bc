#!/usr/bin/env bash
# Binance spot through the venue interface, against the simulator's
# Binance (JSON depthUpdate pushes, live SUBSCRIBE with ids, REST
# /api/v3/depth, 5 inbound messages/s per connection, serverShutdown
# before each lifetime close): 35 pairs on one connection (1024 streams
# each), books 400 levels deep while the recorder keeps depth_limit 100;
# a gap, REST errors, a stale snapshot, a sweep deeper than the snapshot,
# and lifetime closes announced by serverShutdown. The best 50 levels (half the depth: what a whole-book
# stream guarantees, see the README) rebuilt from the CSV, and every
# book_snapshot_50 row, equal the truth after every message.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

pairs=()
norm=()
for i in $(seq -w 1 35); do
	pairs+=("P${i}USDT")
	norm+=("\"P${i}-USDT\"")
done
sim_pairs=$(IFS=,; echo "${pairs[*]}")
rec_pairs=$(IFS=,; echo "${norm[*]}")

mkdir -p "$TMP/truth"
script="2:gap:P01USDT:3,3:rest_error:2,3.2:gap:P02USDT:2,3.5:rest_429:1"
script+=",4:sweep_bids:P03USDT:150,5:sweep_asks:P31USDT:60"
start_sim sim --exchange binance --truth-dir "$TMP/truth" --pairs "$sim_pairs" \
	--depth 400 --rate 40 --seed 9 --lifetime 7 --script "$script"
write_config "$TMP/rec.yml" "$rec_pairs" "connector_name: binance" \
	"snapshot_interval: 0" "snapshot_depth: 50" "stale_after: 5" \
	"ws_url: \"ws://127.0.0.1:$PORT/ws\"" \
	"rest_url: \"http://127.0.0.1:$PORT\""
start_rec rec "$TMP/rec.yml"
wait_healthy 15
conns=$(curl -sf --max-time 2 "http://127.0.0.1:$PORT/_sim/status" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["conns"])')
[ "$conns" -eq 1 ] || fail "35 pairs on $conns connections, want 1"
pass "35 pairs take one connection"
# Past the faults and at least one lifetime close of each connection.
sleep $((9 * MULT))
wait_healthy 15
wait_metric 'orderbook_collector_reconnections_total{exchange="binance"}' 1 5
grep -q "the exchange announced a close" "$TMP/rec.log" ||
	fail "serverShutdown did not make the recorder reconnect"
stop_rec
kill "$SIM_PID"
python3 "$CHECK" "$TMP/data" "$TMP/truth" binance P01USDT P02USDT \
	--exact 50 --top-n 50 --min-checks 20 --expect-events gap,resync,snapshot ||
	fail "books with gaps differ from the truth"
python3 "$CHECK" "$TMP/data" "$TMP/truth" binance P03USDT \
	--exact 50 --top-n 50 --min-checks 20 --expect-events resync ||
	fail "the swept book differs from the truth"
grep -q 'book shallower than half its snapshot' \
	"$TMP"/data/live/binance/*/*/P03USDT.book_events.csv ||
	fail "the sweep below the snapshot did not resync"
python3 "$CHECK" "$TMP/data" "$TMP/truth" binance "${pairs[@]:3}" \
	--exact 50 --top-n 50 --min-checks 10 --expect-events disconnect,reconnect ||
	fail "books differ from the truth"
pass "binance: 35 books equal the truth through gaps, a deep sweep and lifetime closes"
