# shellcheck shell=bash disable=SC2034
# The burst scenario shared by t-recorder-burst.sh (short, in make check)
# and tests/soak/run.sh (minutes): booktape-sim floods spot.obu pushes
# over TLS as fast as TCP allows, after having flooded one other client,
# while the recorder's disk is slowed by tests/preload/slowwrite.so.
# Throughout the flood /metrics must answer within 1 s; afterwards the
# CPU falls back, SIGTERM exits 0 within 2 s, and the books equal the
# truth. Sourced after lib.sh and lib-recorder.sh.

SLOWWRITE=$BUILD/preload/slowwrite.so
DISCARD=$BUILD/helpers/bench_discard

# proc_cpu PID: user+system CPU seconds of a process so far.
proc_cpu() {
	awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / t }' \
		"/proc/$1/stat"
}

# run_burst PUSHES BPS PAIRS...: one flood of PUSHES pushes per pair with
# the disk throttled to BPS bytes/s (0: not throttled); stalls (the flag
# file $TMP/stall present) may be scripted by BURST_STALLS="START:SECONDS
# ...", seconds after the recorder started. BURST_TERM_AT=S sends SIGTERM
# S seconds in, mid-flood (the disk unstalled first: a drain needs a
# disk), instead of waiting for the end.
run_burst() {
	local pushes=$1 bps=$2 i t0 now waited worst=0 c0 c1 p subs=() quoted=()
	shift 2
	local pairs=("$@")
	for p in "${pairs[@]}"; do
		subs+=(--send "$(sub_obu 1 "ob.$p.400")")
		quoted+=("\"${p/_/-}\"")
	done
	bash "$ROOT/tests/sim/make-certs.sh" "$TMP/certs" >/dev/null 2>&1 ||
		fail "make-certs.sh failed"
	rm -rf "$TMP/data" "$TMP/truth"
	mkdir -p "$TMP/truth"
	start_sim flood --flood "$pushes" --pairs "$(IFS=,; echo "${pairs[*]}")" \
		--truth-dir "$TMP/truth" \
		--tls-cert "$TMP/certs/server.pem" --tls-key "$TMP/certs/server.key"
	# The flood source serves one other client first (as seen in the field).
	"$DISCARD" --url "wss://127.0.0.1:$PORT/ws/v4/" --ca-file "$TMP/certs/ca.pem" \
		"${subs[@]}" --timeout 60 >"$TMP/discard.out" 2>"$TMP/discard.log" ||
		fail "the first flood client failed"
	export WS_SCHEME=wss HTTP_SCHEME=https
	write_config "$TMP/burst.yml" "$(IFS=,; echo "${quoted[*]}")" \
		"channel: spot.obu" "ca_file: \"$TMP/certs/ca.pem\"" \
		"flush_interval: 0.5" "fsync_interval: 5"
	: >"$TMP/burst.log" # start_rec appends; "disconnected" must be this run's
	BOOKTAPE_SLOWWRITE_BPS=$bps BOOKTAPE_SLOWWRITE_STALL=$TMP/stall \
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
		LD_PRELOAD=$SLOWWRITE start_rec burst "$TMP/burst.yml"
	# /metrics is timed from when it first answers (a sanitizer build
	# takes a moment to start listening).
	for i in $(seq 1 $((100 * MULT))); do
		curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$MPORT/metrics" && break
		kill -0 "$REC_PID" 2>/dev/null || fail "recorder exited at start"
		sleep 0.1
	done
	t0=$(date +%s.%N)
	# During the flood: /metrics within 1 s, every 0.2 s.
	for i in $(seq 1 $((3000 * MULT))); do
		now=$(date +%s.%N)
		burst_stalls "$t0" "$now"
		kill -0 "$REC_PID" 2>/dev/null || fail "recorder exited during the flood"
		waited=$(timed_metrics)
		awk -v w="$waited" -v m="$worst" 'BEGIN { exit !(w > m) }' && worst=$waited
		if awk -v w="$waited" -v l="$MULT" 'BEGIN { exit !(w > l) }'; then
			fail "/metrics took ${waited} s (> 1 s) $(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s into the flood"
		fi
		grep -q "disconnected 'wss" "$TMP/burst.log" && break
		if [ -n "${BURST_TERM_AT:-}" ] &&
			awk -v a="$now" -v b="$t0" -v t="$BURST_TERM_AT" 'BEGIN { exit !(a - b >= t) }'; then
			BURST_WORST=$worst
			BURST_PAUSES=$(metric 'orderbook_collector_read_pauses_total{exchange="gateio"}')
			rm -f "$TMP/stall"
			stop_rec
			kill "$SIM_PID" 2>/dev/null || true
			# The simulator floods one pair after the other: check
			# those that had begun.
			local begun=()
			for p in "${pairs[@]}"; do
				compgen -G "$TMP/data/live/gateio/*/*/$p.incremental_book_L2.csv" \
					>/dev/null && begun+=("$p")
			done
			[ "${#begun[@]}" -gt 0 ] || fail "nothing recorded before SIGTERM"
			burst_check "${begun[@]}"
			return
		fi
		sleep 0.2
	done
	grep -q "disconnected 'wss" "$TMP/burst.log" || fail "the flood did not end"
	rm -f "$TMP/stall"
	# No reconnect: a new connection would get a flood of its own.
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	BURST_WORST=$worst
	BURST_PAUSES=$(metric 'orderbook_collector_read_pauses_total{exchange="gateio"}')
	# The flood is over: the loop must go quiet (the writer may still drain).
	sleep 1
	c0=$(proc_cpu "$REC_PID")
	sleep 2
	c1=$(proc_cpu "$REC_PID")
	BURST_IDLE_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 2 }')
	awk -v c="$BURST_IDLE_CPU" 'BEGIN { exit !(c < 0.5) }' ||
		fail "CPU stays at $BURST_IDLE_CPU of a core after the flood"
	# Let the slow disk catch up, then stop: SIGTERM must exit 0 within 2 s.
	for i in $(seq 1 $((600 * MULT))); do
		[ "$(metric 'orderbook_collector_buffer_size{exchange="gateio"}')" = 0 ] && break
		sleep 0.1
	done
	stop_rec
	burst_check "${pairs[@]}"
}

# burst_check PAIRS...: count events, compare the books with the truth.
burst_check() {
	BURST_DROPPED=$(cat "$TMP"/data/live/gateio/*/*/*.book_events.csv |
		grep -c ',dropped,' || true)
	BURST_MSGS=$(cat "$TMP"/data/live/gateio/*/*/*.book_events.csv |
		grep -c ',update,' || true)
	python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio "$@" \
		--min-checks 100 ||
		fail "recorded books differ from the truth after the flood"
}

# timed_metrics: seconds /metrics took to answer (99 when it did not).
timed_metrics() {
	local s e
	s=$(date +%s.%N)
	curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$MPORT/metrics" || {
		echo 99
		return
	}
	e=$(date +%s.%N)
	awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }'
}

# burst_stalls T0 NOW: create or remove $TMP/stall per $BURST_STALLS.
burst_stalls() {
	local el spec start len on=0
	el=$(awk -v a="$2" -v b="$1" 'BEGIN { printf "%.2f", a - b }')
	for spec in ${BURST_STALLS:-}; do
		start=${spec%%:*}
		len=${spec##*:}
		if awk -v e="$el" -v s="$start" -v l="$len" 'BEGIN { exit !(e >= s && e < s + l) }'; then
			on=1
		fi
	done
	if [ "$on" = 1 ]; then
		touch "$TMP/stall"
	else
		rm -f "$TMP/stall"
	fi
}
