# shellcheck shell=bash disable=SC2034
# Shared helpers for the t-recorder-*.sh scripts (sourced after
# tests/sim/lib.sh, whose start_sim, fail, pass and $TMP they use).
REC=${REC:-$BUILD/booktape-recorder}
CHECK=$ROOT/tests/integration/recorder_check.py
REC_PIDS=()

rec_cleanup() {
	local p
	for p in "${REC_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	sim_cleanup
}
trap rec_cleanup EXIT

# free_port: a TCP port nothing listens on now, for metrics_listen.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# write_config FILE PAIRS [key: value ...]: a recorder config for the sim
# on $PORT, data in $TMP/data, metrics on $MPORT (picked here). Extra
# lines replace the defaults of the same key.
write_config() {
	local file=$1 pairs=$2 line k
	shift 2
	MPORT=$(free_port)
	local defaults=(
		"connector_name: gate_io"
		"trading_pairs: [$pairs]"
		"depth_limit: 100"
		"snapshot_interval: 1"
		"buffer_size: 50"
		"flush_interval: 0.2"
		"fsync_interval: 0.5"
		"data_dir: \"$TMP/data\""
		"metrics_listen: \"127.0.0.1:$MPORT\""
		"update_events: true"
		"ws_url: \"${WS_SCHEME:-ws}://127.0.0.1:$PORT/ws/v4/\""
		"rest_url: \"${HTTP_SCHEME:-http}://127.0.0.1:$PORT/api/v4\""
	)
	{
		echo "config:"
		for line in "${defaults[@]}"; do
			k=${line%%:*}
			for extra in "$@"; do
				[ "${extra%%:*}" = "$k" ] && continue 2
			done
			echo "  $line"
		done
		for line in "$@"; do
			echo "  $line"
		done
	} >"$file"
}

# start_rec NAME CONFIG: run the recorder in the background; sets REC_PID.
start_rec() {
	"$REC" --config "$2" >>"$TMP/$1.log" 2>&1 &
	REC_PID=$!
	REC_PIDS+=("$REC_PID")
}

# metric SAMPLE: the value of one /metrics sample, e.g.
# 'orderbook_collector_connection_status{exchange="gateio"}' (or "").
metric() {
	# Not listening yet is "absent", not a failure of the script.
	{ curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" || true; } |
		awk -v m="$1" 'index($0, m " ") == 1 { print $2 }'
}

# wait_healthy SECONDS: until /healthz answers 200.
wait_healthy() {
	local i
	for i in $(seq 1 $((${1:-10} * 10 * MULT))); do
		if curl -sf --max-time 1 "http://127.0.0.1:$MPORT/healthz" >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "recorder not healthy after ${1:-10} s: $(curl -s "http://127.0.0.1:$MPORT/healthz")"
}

# wait_metric SAMPLE MIN SECONDS: until the sample is >= MIN.
wait_metric() {
	local i v=
	for i in $(seq 1 $((${3:-10} * 10 * MULT))); do
		v=$(metric "$1")
		if [ -n "$v" ] && awk -v v="$v" -v m="$2" 'BEGIN { exit !(v >= m) }'; then
			return 0
		fi
		sleep 0.1
	done
	fail "$1 is '${v:-absent}', wanted >= $2 within ${3:-10} s"
}

# stop_rec: SIGTERM must end the recorder with status 0 within 2 s.
stop_rec() {
	local i rc=0
	kill -TERM "$REC_PID"
	for i in $(seq 1 $((20 * MULT))); do
		kill -0 "$REC_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$REC_PID" 2>/dev/null; then
		fail "recorder still running 2 s after SIGTERM"
	fi
	wait "$REC_PID" || rc=$?
	[ "$rc" -eq 0 ] || fail "recorder exited $rc on SIGTERM"
}

# wholebook_suite EXCHANGE CONNS NOTICE: the truth and fault suite of a
# whole-book diff stream synced from REST snapshots (MEXC, Binance), the
# same for every such venue. 35 pairs P01USDT..P35USDT must take CONNS
# connections; the books are 400 levels deep while the recorder keeps
# depth_limit 100; gaps, REST errors, a 429, a stale snapshot, a sweep
# deeper than the snapshot, and lifetime closes of every connection
# (announced first when NOTICE is 1: the recorder must roll the
# connection over on the notice, issue 12). The best 50 levels (half the depth: what a whole-book stream
# guarantees, see the README) rebuilt from the CSV, and every
# book_snapshot_50 row, equal the truth after every message.
wholebook_suite() {
	local ex=$1 want=$2 notice=$3 i pairs=() norm=() sim_pairs rec_pairs script conns closes
	for i in $(seq -w 1 35); do
		pairs+=("P${i}USDT")
		norm+=("\"P${i}-USDT\"")
	done
	sim_pairs=$(IFS=,; echo "${pairs[*]}")
	rec_pairs=$(IFS=,; echo "${norm[*]}")
	mkdir -p "$TMP/truth"
	script="2:gap:P01USDT:3,3:rest_error:2,3.1:stale_snapshot:40,3.2:gap:P02USDT:2"
	script+=",3.5:rest_429:1,4:sweep_bids:P03USDT:150,5:sweep_asks:P31USDT:60"
	start_sim sim --exchange "$ex" --truth-dir "$TMP/truth" --pairs "$sim_pairs" \
		--depth 400 --rate 40 --seed 9 --lifetime 7 --script "$script"
	write_config "$TMP/rec.yml" "$rec_pairs" "connector_name: $ex" \
		"snapshot_interval: 0" "snapshot_depth: 50" "stale_after: 5" \
		"ws_url: \"ws://127.0.0.1:$PORT/ws\"" \
		"rest_url: \"http://127.0.0.1:$PORT\""
	start_rec rec "$TMP/rec.yml"
	wait_healthy 15
	conns=$(curl -sf --max-time 2 "http://127.0.0.1:$PORT/_sim/status" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["conns"])')
	[ "$conns" -eq "$want" ] || fail "35 pairs on $conns connections, want $want"
	pass "$ex: 35 pairs take $want connection(s)"
	# Past the faults and at least one lifetime close of each connection.
	sleep $((9 * MULT))
	wait_healthy 15
	if [ "$notice" = 1 ]; then
		# Announced closes are rolled over (issue 12): a new
		# connection takes the pairs before the old one goes.
		wait_metric "orderbook_collector_rollovers_total{exchange=\"$ex\"}" 35 5
		grep -q "the exchange will close it" "$TMP/rec.log" ||
			fail "the close notice did not start a rollover"
		closes=rollover
	else
		wait_metric "orderbook_collector_reconnections_total{exchange=\"$ex\"}" "$want" 5
		closes=disconnect,reconnect
	fi
	stop_rec
	kill "$SIM_PID"
	python3 "$CHECK" "$TMP/data" "$TMP/truth" "$ex" P01USDT P02USDT \
		--exact 50 --top-n 50 --min-checks 20 --expect-events gap,resync,snapshot ||
		fail "books with gaps differ from the truth"
	python3 "$CHECK" "$TMP/data" "$TMP/truth" "$ex" P03USDT \
		--exact 50 --top-n 50 --min-checks 20 --expect-events resync ||
		fail "the swept book differs from the truth"
	grep -q 'book shallower than half its snapshot' \
		"$TMP"/data/live/"$ex"/*/*/P03USDT.book_events.csv ||
		fail "the sweep below the snapshot did not resync"
	python3 "$CHECK" "$TMP/data" "$TMP/truth" "$ex" "${pairs[@]:3}" \
		--exact 50 --top-n 50 --min-checks 10 --expect-events "$closes" ||
		fail "books differ from the truth"
	pass "$ex: 35 books equal the truth through gaps, REST faults, a deep sweep and lifetime closes"
}
