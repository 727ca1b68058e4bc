#!/usr/bin/env bash
# With several pairs and thousands of updates, the book rebuilt from the
# recorded incremental_book_L2 files equals the simulator's truth at every
# message and at the end, on both Gate.io channels, with irregular full
# pushes in the stream.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

PAIRS=BTC_USDT,ETH_USDT,SOL_USDT
for channel in spot.order_book_update spot.obu; do
	rm -rf "$TMP/data" "$TMP/truth"
	mkdir -p "$TMP/truth"
	start_sim "sim-$channel" --truth-dir "$TMP/truth" --pairs "$PAIRS" \
		--rate 300 --full-every 2 --seed 7
	write_config "$TMP/rec.yml" '"BTC-USDT", "ETH-USDT", "SOL-USDT"' \
		"channel: $channel"
	start_rec "rec-$channel" "$TMP/rec.yml"
	wait_healthy 10
	wait_metric 'orderbook_collector_messages_received_total{exchange="gateio",symbol="SOL_USDT"}' 40 20
	stop_rec
	kill "$SIM_PID"
	python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio BTC_USDT ETH_USDT SOL_USDT \
		--min-checks 30 || fail "$channel: recorded books differ from the truth"
	pass "$channel: recorded books equal the truth"
done
