#!/usr/bin/env bash
# Deep books and sweeps: the simulator keeps ~750 levels a side and its
# streams are windows (a level is sent when it changes inside the window,
# enters it or leaves it), as Gate.io's are. Sweeps delete more top
# levels at once than any depth_limit tested keeps, so levels that were
# deep in the window become the top. Five recorders, depth_limit 5, 20,
# 50, 100 and 400, record each channel side by side; for every one the
# book rebuilt from its CSV (best W levels, the stream's window) and its
# book_snapshot_N rows must equal the truth after every message.
# spot.order_book_update runs with silent window exits (a level pushed
# out of the window is not deleted: the reader's trim must do it),
# spot.obu with explicit deletes.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

PAIRS=BTC_USDT,ETH_USDT
SWEEPS="2.5:sweep_bids:BTC_USDT:150,3.5:sweep_asks:ETH_USDT:150"
SWEEPS="$SWEEPS,4.5:sweep_asks:BTC_USDT:450,5.5:sweep_bids:ETH_USDT:450"
SWEEPS="$SWEEPS,6.5:sweep_bids:BTC_USDT:60,6.5:sweep_asks:ETH_USDT:25"
DEPTHS="5 20 50 100 400"

# window CHANNEL DEPTH_LIMIT: levels per side of the stream subscribed.
window() {
	case $1 in
	spot.obu) if [ "$2" -gt 50 ]; then echo 400; else echo 50; fi ;;
	*) if [ "$2" -gt 20 ]; then echo 100; else echo 20; fi ;;
	esac
}

for channel in spot.order_book_update spot.obu; do
	leave=zero
	[ "$channel" = spot.order_book_update ] && leave=silent
	rm -rf "$TMP/truth" "$TMP"/data-*
	mkdir -p "$TMP/truth"
	start_sim "sim-$channel" --truth-dir "$TMP/truth" --pairs "$PAIRS" \
		--depth 1000 --rate 400 --full-every 3 --seed 11 \
		--window-leave "$leave" --script "$SWEEPS"
	pids=()
	mports=()
	for d in $DEPTHS; do
		n=$d # book_snapshot_N as deep as the config lets it be
		write_config "$TMP/rec-$d.yml" '"BTC-USDT", "ETH-USDT"' \
			"channel: $channel" "depth_limit: $d" \
			"snapshot_depth: $n" "snapshot_interval: 0" \
			"data_dir: \"$TMP/data-$d\""
		start_rec "rec-$channel-$d" "$TMP/rec-$d.yml"
		pids+=("$REC_PID")
		mports+=("$MPORT")
	done
	for i in "${!pids[@]}"; do
		MPORT=${mports[$i]}
		wait_healthy 10
	done
	# The last sweep is at 6.5 s; give the streams a second after it.
	sleep 5.5
	for i in "${!pids[@]}"; do
		REC_PID=${pids[$i]}
		stop_rec
	done
	kill "$SIM_PID"
	for d in $DEPTHS; do
		w=$(window "$channel" "$d")
		n=$d
		python3 "$CHECK" "$TMP/data-$d" "$TMP/truth" gateio BTC_USDT \
			ETH_USDT --window "$w" --top-n "$n" --min-checks 10 \
			--forbid-events gap ||
			fail "$channel depth_limit $d (window $w): recorded books differ from the truth"
		grep -q "sweep" "$TMP/sim-$channel.log" ||
			fail "$channel: the simulator logged no sweep"
		pass "$channel depth_limit $d: window $w and book_snapshot_$n equal the truth through every sweep"
	done
done
