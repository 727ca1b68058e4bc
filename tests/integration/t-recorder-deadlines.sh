#!/usr/bin/env bash
# Replies and waits that go wrong: acks that echo no payload (matched by
# the request id), a frame that does not parse (reconnect), a refused
# resubscribe after a gap (the pair's deadline subscribes again), and on
# spot.order_book_update no REST snapshot for a pair its first full push
# already synced. Books equal the truth throughout.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

sim_get() {
	curl -sf --max-time 2 "http://127.0.0.1:$PORT$1"
}

events() {
	cat "$TMP"/data/live/gateio/*/*/"$1".book_events.csv
}

# --- spot.obu: bare acks, a torn frame, a refused resubscribe
mkdir -p "$TMP/truth"
start_sim sim-obu --truth-dir "$TMP/truth" --pairs BTC_USDT,ETH_USDT \
	--rate 200 --seed 5 --script "0:bare_ack:4"
write_config "$TMP/rec.yml" '"BTC-USDT", "ETH-USDT"' "channel: spot.obu" \
	"stale_after: 3"
start_rec rec-obu "$TMP/rec.yml"
wait_healthy 10
pass "acks without a payload echo are matched by their id"

sim_get "/_sim/fault?kind=badjson" >/dev/null
wait_metric 'orderbook_collector_reconnections_total{exchange="gateio"}' 1 10
wait_healthy 10
pass "an unparsable frame reconnects, and the books sync again"
sleep 1 # diffs after the full push, before the next fault

sim_get "/_sim/fault?kind=sub_error&n=1" >/dev/null
sim_get "/_sim/fault?kind=gap&pair=BTC_USDT&n=3" >/dev/null
wait_metric 'orderbook_collector_resyncs_total{exchange="gateio",symbol="BTC_USDT"}' 1 10
sleep 1
wait_healthy 15
sleep 2
stop_rec
kill "$SIM_PID"
events BTC_USDT | grep -q ',resync,,,,no subscribe ack in time$' ||
	fail "no resync event for the refused resubscribe: $(events BTC_USDT | grep resync)"
pass "a refused resubscribe is retried after the pair's deadline"
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio BTC_USDT \
	--min-checks 20 --expect-events gap,resync,reconnect ||
	fail "obu: recorded books differ from the truth"
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio ETH_USDT \
	--min-checks 20 --expect-events reconnect ||
	fail "obu: recorded books differ from the truth"
pass "obu: books equal the truth across every fault"

# --- spot.order_book_update: the first push is full, no REST needed
rm -rf "$TMP/data" "$TMP/truth"
mkdir -p "$TMP/truth"
start_sim sim-upd --truth-dir "$TMP/truth" --pairs BTC_USDT,ETH_USDT,SOL_USDT \
	--rate 200 --seed 6
write_config "$TMP/rec.yml" '"BTC-USDT", "ETH-USDT", "SOL-USDT"'
start_rec rec-upd "$TMP/rec.yml"
wait_healthy 10
sleep 2
calls=$(sim_get /_sim/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["rest_calls"])')
# Each pair's ack and full push arrive together; a tick between them
# could still start one fetch, never one per pair.
[ "$calls" -le 1 ] || fail "$calls REST snapshots fetched for pairs synced by full pushes"
pass "pairs synced by their first full push fetch no REST snapshot ($calls calls)"
stop_rec
kill "$SIM_PID"
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio BTC_USDT ETH_USDT SOL_USDT \
	--min-checks 10 || fail "order_book_update: recorded books differ from the truth"
pass "order_book_update: books equal the truth"
