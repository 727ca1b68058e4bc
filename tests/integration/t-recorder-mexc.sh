#!/usr/bin/env bash
# MEXC spot through the venue interface, against the simulator's MEXC
# (binary protobuf pushes, JSON replies, REST /api/v3/depth): 35 pairs
# take two connections (30 streams each at most); the books are 400
# levels deep while the recorder keeps depth_limit 100; a gap, REST
# errors, a sweep deeper than the snapshot, and lifetime closes of every
# connection. The best 50 levels (half the depth: what a whole-book
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
script="2:gap:P01USDT:3,3:rest_error:2,3.2:gap:P02USDT:2"
script+=",4:sweep_bids:P03USDT:150,5:sweep_asks:P31USDT:60"
start_sim sim --exchange mexc --truth-dir "$TMP/truth" --pairs "$sim_pairs" \
	--depth 400 --rate 40 --seed 9 --lifetime 7 --script "$script"
write_config "$TMP/rec.yml" "$rec_pairs" "connector_name: mexc" \
	"snapshot_interval: 0" "snapshot_depth: 50" "stale_after: 5" \
	"ws_url: \"ws://127.0.0.1:$PORT/ws\"" \
	"rest_url: \"http://127.0.0.1:$PORT\""
start_rec rec "$TMP/rec.yml"
wait_healthy 15
conns=$(curl -sf --max-time 2 "http://127.0.0.1:$PORT/_sim/status" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["conns"])')
[ "$conns" -eq 2 ] || fail "35 pairs on $conns connections, want 2"
pass "35 pairs take two connections"
# Past the faults and at least one lifetime close of each connection.
sleep $((9 * MULT))
wait_healthy 15
wait_metric 'orderbook_collector_reconnections_total{exchange="mexc"}' 2 5
stop_rec
kill "$SIM_PID"
python3 "$CHECK" "$TMP/data" "$TMP/truth" mexc P01USDT P02USDT \
	--exact 50 --top-n 50 --min-checks 20 --expect-events gap,resync,snapshot ||
	fail "books with gaps differ from the truth"
python3 "$CHECK" "$TMP/data" "$TMP/truth" mexc P03USDT \
	--exact 50 --top-n 50 --min-checks 20 --expect-events resync ||
	fail "the swept book differs from the truth"
grep -q 'book shallower than half its snapshot' \
	"$TMP"/data/live/mexc/*/*/P03USDT.book_events.csv ||
	fail "the sweep below the snapshot did not resync"
python3 "$CHECK" "$TMP/data" "$TMP/truth" mexc "${pairs[@]:3}" \
	--exact 50 --top-n 50 --min-checks 10 --expect-events disconnect,reconnect ||
	fail "books differ from the truth"
pass "mexc: 35 books equal the truth through gaps, a deep sweep and lifetime closes"
