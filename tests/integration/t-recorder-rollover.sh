#!/usr/bin/env bash
# Planned reconnects without a gap (issue 12). The simulator closes every
# connection 20 s after it opened (--lifetime 20, the 24 h limit
# compressed) and writes the frames of every other connection 300 ms
# late (--conn-lag-ms), so a successor runs behind or ahead of the
# connection it replaces; the recorder (connection_lifetime: 20,
# rollover_margin: 8) rolls each connection over 12 s in. Gate.io on
# both channels, MEXC, Binance (whose simulator also announces each close
# with serverShutdown) and OKX, side by side for ROLL_SECONDS (45 by default;
# make soak sets more): no gap, resync or disconnect event, the update
# ids in book_events continuous across every switch, every book equal
# to the truth. The first rollover of each run loses its new connection
# (the sim's drop_new fault): abandoned, retried 2 s later. A later one
# loses its old connection without a close frame halfway through
# (drop_old), which must lose nothing either. A control run without
# rollover shows what the closes cost otherwise.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

SECS=${ROLL_SECONDS:-45}
LAG=300
declare -A MP RP

# run NAME EXCHANGE SIMPAIRS RECPAIRS ROLLOVER [config lines...]
run() {
	local name=$1 ex=$2 sp=$3 rp=$4 roll=$5 urls
	shift 5
	mkdir -p "$TMP/$name/truth"
	start_sim "sim-$name" --exchange "$ex" --truth-dir "$TMP/$name/truth" \
		--pairs "$sp" --rate 40 --seed 5 --lifetime 20 \
		--conn-lag-ms "$LAG" --script "1:drop_new:1,16:drop_old:10"
	case $ex in
	mexc | binance)
		urls=("connector_name: $ex" "ws_url: \"ws://127.0.0.1:$PORT/ws\""
			"rest_url: \"http://127.0.0.1:$PORT\"") ;;
	okx)
		urls=("connector_name: okx"
			"ws_url: \"ws://127.0.0.1:$PORT/ws/v5/public\""
			"rest_url: \"http://127.0.0.1:$PORT\"") ;;
	*) urls=("connector_name: gate_io") ;;
	esac
	write_config "$TMP/$name/rec.yml" "$rp" "${urls[@]}" \
		"data_dir: \"$TMP/$name/data\"" "stale_after: 5" \
		"rollover: $roll" "connection_lifetime: 20" \
		"rollover_margin: 8" "$@"
	MP[$name]=$MPORT
	start_rec "rec-$name" "$TMP/$name/rec.yml"
	RP[$name]=$REC_PID
}

G_SIM=BTC_USDT,ETH_USDT,SOL_USDT
G_REC='"BTC-USDT", "ETH-USDT", "SOL-USDT"'
M_SIM=BTCUSDT,ETHUSDT,SOLUSDT
M_REC='"BTC-USDT", "ETH-USDT", "SOL-USDT"'
run upd gateio "$G_SIM" "$G_REC" true
run obu gateio "$G_SIM" "$G_REC" true "channel: spot.obu"
run mexc mexc "$M_SIM" "$M_REC" true "snapshot_depth: 50"
run bin binance "$M_SIM" "$M_REC" true "snapshot_depth: 50"
run okx okx BTC-USDT,ETH-USDT,SOL-USDT "$M_REC" true "snapshot_depth: 50"
run off mexc "$M_SIM" "$M_REC" false "snapshot_depth: 50"
sleep $((SECS * MULT))

for name in upd obu mexc bin okx off; do
	MPORT=${MP[$name]}
	REC_PID=${RP[$name]}
	if [ "$name" != off ]; then
		case $name in
		mexc | okx) ex=$name ;;
		bin) ex=binance ;;
		*) ex=gateio ;;
		esac
		n=$(metric "orderbook_collector_rollovers_total{exchange=\"$ex\"}")
		[ "${n:-0}" -ge 6 ] || fail "$name: ${n:-no} pair rollovers, want >= 6"
	fi
	stop_rec
done
for p in "${SIM_PIDS[@]}"; do
	kill "$p" 2>/dev/null || true
done

# A rollover every ~12 s a pair, the first ~12 s in.
min=$(((SECS - 8) / 13))
python3 "$CHECK" "$TMP/upd/data" "$TMP/upd/truth" gateio BTC_USDT ETH_USDT \
	SOL_USDT --min-checks 100 --continuous-ids --min-rollovers "$min" ||
	fail "spot.order_book_update: a gap or a wrong book across rollovers"
pass "gateio spot.order_book_update: $min+ rollovers a pair, no gap"
python3 "$CHECK" "$TMP/obu/data" "$TMP/obu/truth" gateio BTC_USDT ETH_USDT \
	SOL_USDT --min-checks 100 --continuous-ids --min-rollovers "$min" ||
	fail "spot.obu: a gap or a wrong book across rollovers"
pass "gateio spot.obu: $min+ rollovers a pair, no gap"
python3 "$CHECK" "$TMP/mexc/data" "$TMP/mexc/truth" mexc BTCUSDT ETHUSDT \
	SOLUSDT --exact 50 --min-checks 100 --continuous-ids \
	--min-rollovers "$min" || fail "mexc: a gap or a wrong book across rollovers"
pass "mexc: $min+ rollovers a pair, no gap"
python3 "$CHECK" "$TMP/bin/data" "$TMP/bin/truth" binance BTCUSDT ETHUSDT \
	SOLUSDT --exact 50 --min-checks 100 --continuous-ids \
	--min-rollovers "$min" || fail "binance: a gap or a wrong book across rollovers"
pass "binance: $min+ rollovers a pair (each announced by serverShutdown), no gap"
python3 "$CHECK" "$TMP/okx/data" "$TMP/okx/truth" okx BTC-USDT ETH-USDT \
	SOL-USDT --okx-seq --min-checks 100 --continuous-ids --min-rollovers "$min" ||
	fail "okx: a gap or a wrong book across rollovers"
pass "okx: $min+ rollovers a pair, no gap"
for name in upd obu mexc bin okx; do
	grep -q 'the old one closed' "$TMP/$name"/data/live/*/*/*/*.book_events.csv ||
		fail "$name: the old connection was not lost mid-rollover"
done
pass "an old connection lost mid-rollover lost nothing"
for name in upd obu mexc bin okx; do
	grep -q 'rollover to connection 1 abandoned: the new connection closed' \
		"$TMP/rec-$name.log" || fail "$name: no abandoned rollover"
done
pass "a rollover whose new connection closed was retried, without a gap"
# The control: the same closes without rollover are holes.
python3 "$CHECK" "$TMP/off/data" "$TMP/off/truth" mexc BTCUSDT \
	--exact 50 --expect-events disconnect,reconnect >/dev/null ||
	fail "without rollover the lifetime closes left no disconnect"
if python3 "$CHECK" "$TMP/off/data" "$TMP/off/truth" mexc BTCUSDT \
	--exact 50 --continuous-ids >/dev/null; then
	fail "without rollover the ids are continuous: the test proves nothing"
fi
pass "without rollover each close is a disconnect and a hole in the ids"
