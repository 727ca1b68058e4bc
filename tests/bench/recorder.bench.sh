#!/usr/bin/env bash
# `make bench`: booktape-recorder beside the clients it is compared with,
# on one flood per exchange, in one table (issue 13).
#
# 1. Flood: per exchange, one booktape-sim renders the flood once (4
#    pairs, BENCH_REC_MSGS pushes in all, 5 update ids each, over TLS on
#    127.0.0.1) and serves the very same frames to each client in turn:
#    - OpenSSL discard: tests/helpers/bench_discard_ssl.c, the transport
#      baseline (blocking socket, large SSL_read()s, frame headers walked);
#    - lws discard: bench_discard, the same on libwebsockets, set up as
#      the recorder's: libwebsockets' own cost;
#    - booktape: the recorder (REC=path benchmarks another binary), data
#      in /dev/shm; its books rebuilt from the CSV must equal the
#      simulator's final books and every pushed level be a row
#      (recorder_check.py --final);
#    - ccxt: ccxt pro (npm, pinned, installed into $BUILD/bench/ccxt on
#      first use: never a dependency of booktape) watching the same
#      pairs; its books are compared with the same truth.
#    Exchanges: Gate.io spot.obu (ob.PAIR.400, what ccxt subscribes too)
#    and spot.order_book_update (100ms; ccxt's Gate.io spot does not use
#    it), MEXC (protobuf), Binance, OKX books (with its CRC32).
# 2. RSS: 1000 Gate.io pairs at depth 400 (obu 400), once all are synced.
# 3. Realistic load: 2000 Gate.io pairs at a skewed rate (the Nth pair
#    changes 1000/sqrt(N) times a second: about 19 k pushes/s in all),
#    recorded by two recorders of 1000 pairs (a recorder takes at most
#    1024): their CPU over BENCH_REC_REAL_SECS.
#
# Columns: msg/s spans the first to the last message received (the
# clients' own clock; booktape: the local_timestamp column, whose first
# row is the snapshot block); vs OpenSSL and vs ccxt are ratios of msg/s;
# CPU is the whole process over the run (all threads; ccxt from its
# subscribe on, without node's start) per message; peak RSS is VmHWM;
# p50/p99 is booktape's orderbook_collector_write_latency_seconds (receive
# to the end of the write(2) holding the row); sim is the simulator's CPU
# per message sent to that client (its flood is rendered before). Nothing
# is asserted on time: machines are shared, the bench reports.
#
# Knobs: BENCH_REC_MSGS (pushes per exchange, 400000), BENCH_REC_EXCHANGES
# (gateio gateio-update mexc binance okx), BENCH_REC_CCXT (0: no ccxt),
# BENCH_REC_PAIRS (pairs in the RSS scenario, 1000), BENCH_REC_DEPTH (its
# depth, 400), BENCH_REC_REAL_PAIRS (2000), BENCH_REC_REAL_SECS (20; 0
# skips it), BENCH_REC_DATA (where the recorder writes: /dev/shm when
# writable, so the disk is not measured).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
SIM=$BUILD/booktape-sim
REC=${REC:-$BUILD/booktape-recorder}
SSLD=$BUILD/helpers/bench_discard_ssl
LWSD=$BUILD/helpers/bench_discard
CHECK=$REPO/tests/integration/recorder_check.py
CCXT_DIR=$BUILD/bench/ccxt
CCXT_PKGS=(ccxt@4.5.84 protobufjs@7.5.4)
MSGS=${BENCH_REC_MSGS:-400000}
EXCHANGES=${BENCH_REC_EXCHANGES:-gateio gateio-update mexc binance okx}
NPAIRS=${BENCH_REC_PAIRS:-1000}
DEPTH=${BENCH_REC_DEPTH:-400}
REAL_PAIRS=${BENCH_REC_REAL_PAIRS:-2000}
REAL_SECS=${BENCH_REC_REAL_SECS:-20}
TICK=$(getconf CLK_TCK)
FLOOD_PAIRS=(BTC ETH SOL DOGE)

for b in "$SIM" "$REC" "$SSLD" "$LWSD"; do
	[ -x "$b" ] || { echo "recorder.bench: $b missing (make first)"; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/booktape-rec-bench.XXXXXX")
if [ -n "${BENCH_REC_DATA:-}" ]; then
	D=$(mktemp -d "$BENCH_REC_DATA/booktape-rec-bench.XXXXXX")
elif [ -w /dev/shm ]; then
	D=$(mktemp -d /dev/shm/booktape-rec-bench.XXXXXX)
else
	D=$T/data
fi
PIDS=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null
	rm -rf "$T" "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() {
	local f
	echo "recorder.bench: $*"
	for f in "$T"/*.log; do
		[ -e "$f" ] || continue
		echo "--- $f"
		tail -n 15 "$f"
	done
	exit 1
}

# warn: a row that could not be measured; the bench goes on.
warn() { echo "recorder.bench: $*" >&2; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# proc_cpu PID [TID]: user+system seconds of a process (or one thread).
proc_cpu() {
	local f=/proc/$1/stat
	[ -n "${2:-}" ] && f=/proc/$1/task/$2/stat
	awk -v t="$TICK" '{ sub(/.*\) /, ""); printf "%.3f", ($12 + $13) / t }' \
		"$f" 2>/dev/null || echo 0
}

# start_sim NAME ARGS...: the simulator over TLS on a free port; sets PORT
# and SIM_PID. A flood is rendered before it listens.
start_sim() {
	local name=$1 i
	shift
	"$SIM" --port-file "$T/$name.port" --tls-cert "$T/certs/server.pem" \
		--tls-key "$T/certs/server.key" --duration 900 "$@" \
		2>"$T/$name.log" &
	SIM_PID=$!
	PIDS+=("$SIM_PID")
	for i in $(seq 1 1200); do
		[ -s "$T/$name.port" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || die "sim $name exited early"
		sleep 0.05
	done
	[ -s "$T/$name.port" ] || die "sim $name did not listen"
	PORT=$(cat "$T/$name.port")
}

stop_pid() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# write_config FILE CONNECTOR PAIRS DEPTH_LIMIT WS REST [LINE...]: the
# shipped config's settings against the sim; sets MPORT.
write_config() {
	local file=$1 conn=$2 pairs=$3 depth=$4 ws=$5 rest=$6 line
	shift 6
	MPORT=$(free_port)
	{
		cat <<YML
config:
  connector_name: "$conn"
  trading_pairs: [$pairs]
  depth_limit: $depth
  snapshot_interval: 300
  buffer_size: 100
  flush_interval: 10.0
  data_dir: "$D/rec"
  metrics_listen: "127.0.0.1:$MPORT"
  ws_url: "$ws"
  rest_url: "$rest"
  ca_file: "$T/certs/ca.pem"
YML
		for line in "$@"; do
			echo "  $line"
		done
	} >"$file"
}

# start_rec NAME CONFIG: the recorder under /usr/bin/time (CPU, max RSS
# at exit); sets REC_PID (the recorder) and TIME_PID.
start_rec() {
	local i
	: >"$T/$1.log"
	/usr/bin/time -f '%U %S %M' -o "$T/$1.time" "$REC" --config "$2" \
		>>"$T/$1.log" 2>&1 &
	TIME_PID=$!
	PIDS+=("$TIME_PID")
	REC_PID=
	for i in $(seq 1 100); do
		REC_PID=$(pgrep -P "$TIME_PID" | head -n 1)
		[ -n "$REC_PID" ] && break
		sleep 0.02
	done
	[ -n "$REC_PID" ] || die "recorder did not start"
	PIDS+=("$REC_PID")
}

# stop_rec: SIGTERM, then wait for the flush and /usr/bin/time's figures.
stop_rec() {
	kill -TERM "$REC_PID" 2>/dev/null
	wait "$TIME_PID" 2>/dev/null
}

# metrics FILE: the recorder's /metrics into FILE.
metrics() {
	curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$1"
}

# metric_sum FILE NAME: the sum of every sample of one metric name.
metric_sum() {
	awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 }
		END { printf "%.0f", s }' "$1"
}

# quantile FILE Q: from the write latency histogram, in ms (linear within
# a bucket, as Prometheus' histogram_quantile).
quantile() {
	awk -v q="$2" '
	index($1, "orderbook_collector_write_latency_seconds_bucket{") == 1 {
		match($1, /le="[^"]*"/)
		le = substr($1, RSTART + 4, RLENGTH - 5)
		if (!(le in c)) { n++; b[n] = (le == "+Inf") ? -1 : le + 0; k[n] = le }
		c[le] += $2
	}
	END {
		if (n == 0 || c[k[n]] == 0) { print "-"; exit }
		want = q * c[k[n]]; lo = 0; prev = 0
		for (i = 1; i <= n; i++) {
			v = c[k[i]]
			if (v >= want) {
				if (b[i] < 0) { printf ">%.1f", lo * 1000; exit }
				f = (v > prev) ? (want - prev) / (v - prev) : 1
				printf "%.2f", (lo + (b[i] - lo) * f) * 1000
				exit
			}
			lo = b[i]; prev = v
		}
	}' "$1"
}

# ---- the exchanges ---------------------------------------------------------

# venue NAME: what differs per flood: the sim's arguments and pair names,
# the recorder's config, the clients' subscriptions and REST snapshots.
venue() {
	local p sym lc
	SUBS=() GETS=() SIM_PAIRS=() REC_PAIRS=() REC_EXTRA=()
	CCXT_EX=-
	case $1 in
	gateio | gateio-update)
		SIM_ARGS=(--exchange gateio) CONN=gate_io CSV_EX=gateio
		WS_PATH=/ws/v4/ REST_PATH=/api/v4 DLIMIT=100
		if [ "$1" = gateio ]; then
			STREAM=spot.obu:400 CCXT_EX=gate
			REC_EXTRA=("channel: spot.obu")
		else
			STREAM=spot.order_book_update:100
			SIM_ARGS+=(--flood-stream update)
			REC_EXTRA=("channel: spot.order_book_update")
		fi
		;;
	mexc | binance)
		SIM_ARGS=(--exchange "$1") CONN=$1 CSV_EX=$1 CCXT_EX=$1
		WS_PATH=/ws REST_PATH='' DLIMIT=100
		STREAM=$([ "$1" = mexc ] && echo aggre.depth:100 || echo depth:100)
		;;
	okx)
		SIM_ARGS=(--exchange okx --checksum) CONN=okx CSV_EX=okx
		CCXT_EX=okx WS_PATH=/ws/v5/public REST_PATH='' DLIMIT=400
		STREAM=books:400
		;;
	*) die "unknown exchange '$1'" ;;
	esac
	for p in "${FLOOD_PAIRS[@]}"; do
		REC_PAIRS+=("\"$p-USDT\"")
		case $1 in
		gateio)
			sym=${p}_USDT
			SUBS+=(--send "{\"time\":1,\"id\":1,\"channel\":\"spot.obu\",\"event\":\"subscribe\",\"payload\":[\"ob.$sym.400\"]}")
			;;
		gateio-update)
			sym=${p}_USDT
			SUBS+=(--send "{\"time\":1,\"id\":1,\"channel\":\"spot.order_book_update\",\"event\":\"subscribe\",\"payload\":[\"$sym\",\"100ms\"]}")
			;;
		mexc)
			sym=${p}USDT
			SUBS+=(--send "{\"method\":\"SUBSCRIPTION\",\"params\":[\"spot@public.aggre.depth.v3.api.pb@100ms@$sym\"],\"id\":1}")
			GETS+=(--get "/api/v3/depth?symbol=$sym&limit=$DLIMIT")
			;;
		binance)
			sym=${p}USDT
			lc=${sym,,}
			SUBS+=(--send "{\"method\":\"SUBSCRIBE\",\"params\":[\"$lc@depth@100ms\"],\"id\":1}")
			GETS+=(--get "/api/v3/depth?symbol=$sym&limit=$DLIMIT")
			;;
		okx)
			sym=$p-USDT
			SUBS+=(--send "{\"id\":\"1\",\"op\":\"subscribe\",\"args\":[{\"channel\":\"books\",\"instId\":\"$sym\"}]}")
			;;
		esac
		SIM_PAIRS+=("$sym")
	done
}

# ---- one flood, every client -----------------------------------------------

ROWS=()
# row EXCHANGE CLIENT RATE CPU_US RSS_MB P50 P99 BOOKS SIM_US
row() { ROWS+=("$*"); }

# tape_frames: the flood's messages to every client, from tapes.csv.
tape_frames() {
	awk -F, -v s="$STREAM" '$2 == s { n += $3 } END { print n + 0 }' \
		"$D/truth/tapes.csv"
}

# discard_run NAME BIN: one discard client; appends its row.
discard_run() {
	local name=$1 bin=$2 frames first last cpu rss c0 c1 secs
	c0=$(proc_cpu "$SIM_PID")
	read -r _ frames _ _ _ first _ last _ cpu _ rss < <(
		"$bin" --url "wss://127.0.0.1:$PORT$WS_PATH" \
			--ca-file "$T/certs/ca.pem" "${SUBS[@]}" "${GETS[@]}" \
			--timeout 60 2>"$T/$EX-$name.log")
	c1=$(proc_cpu "$SIM_PID")
	if [ "${frames:-0}" -lt "$NFRAMES" ] 2>/dev/null; then
		warn "$EX $name: ${frames:-no} frames of $NFRAMES"
		row "$EX" "$name" - - - - - - -
		return
	fi
	secs=$(calc %.6f "($last - $first) / 1e6")
	row "$EX" "$name" "$(calc %.0f "$NFRAMES / $secs")" \
		"$(calc %.2f "$cpu * 1e6 / $NFRAMES")" \
		"$(calc %.1f "$rss / 1024")" - - - \
		"$(calc %.2f "($c1 - $c0) * 1e6 / $NFRAMES")"
}

# rec_run: the recorder on the flood; appends its row and a detail line.
rec_run() {
	local i c0 c1 net user sys hwm msgs rows gaps drops books l2 first last
	local secs rest=https://127.0.0.1:$PORT$REST_PATH
	rm -rf "$D/rec"
	write_config "$T/$EX.yml" "$CONN" "$(IFS=,; echo "${REC_PAIRS[*]}")" \
		"$DLIMIT" "wss://127.0.0.1:$PORT$WS_PATH" "$rest" "${REC_EXTRA[@]}"
	c0=$(proc_cpu "$SIM_PID")
	start_rec "$EX-rec" "$T/$EX.yml"
	for i in $(seq 1 6000); do
		grep -q "disconnected 'wss" "$T/$EX-rec.log" && break
		kill -0 "$REC_PID" 2>/dev/null || die "recorder exited during the $EX flood"
		sleep 0.02
	done
	# Stop before its reconnect (>= 375 ms): that would be a new flood.
	c1=$(proc_cpu "$SIM_PID")
	net=$(proc_cpu "$REC_PID" "$REC_PID")
	metrics "$T/$EX.metrics"
	stop_rec
	grep -q "disconnected 'wss" "$T/$EX-rec.log" || die "the $EX flood did not end"
	read -r user sys hwm <"$T/$EX-rec.time" || die "no /usr/bin/time figures"
	msgs=$(metric_sum "$T/$EX.metrics" orderbook_collector_messages_received_total)
	gaps=$(metric_sum "$T/$EX.metrics" orderbook_collector_sequence_gaps_total)
	drops=$(metric_sum "$T/$EX.metrics" orderbook_collector_rows_dropped_total)
	mapfile -t l2 < <(find "$D/rec" -name '*.incremental_book_L2.csv')
	[ "${#l2[@]}" -gt 0 ] || die "$EX: no incremental_book_L2 file written"
	rows=$(($(cat "${l2[@]}" | wc -l) - ${#l2[@]}))
	first=$(for f in "${l2[@]}"; do sed -n 2p "$f" | cut -d, -f4; done | sort -n | head -n 1)
	last=$(for f in "${l2[@]}"; do tail -n 1 "$f" | cut -d, -f4; done | sort -n | tail -n 1)
	secs=$(calc %.6f "($last - $first) / 1e6")
	books=no
	if [ "$(grep -c " connected 'wss" "$T/$EX-rec.log")" -gt 1 ]; then
		warn "$EX booktape: reconnected during the flood"
	elif python3 "$CHECK" "$D/rec" "$D/truth" "$CSV_EX" "${SIM_PAIRS[@]}" \
		--final "$STREAM" >"$T/$EX-check.out" 2>&1; then
		books=yes
	else
		warn "$EX booktape: $(grep FAIL "$T/$EX-check.out")"
	fi
	row "$EX" booktape "$(calc %.0f "$msgs / $secs")" \
		"$(calc %.2f "($user + $sys) * 1e6 / $msgs")" \
		"$(calc %.1f "$hwm / 1024")" "$(quantile "$T/$EX.metrics" 0.5)" \
		"$(quantile "$T/$EX.metrics" 0.99)" "$books" \
		"$(calc %.2f "($c1 - $c0) * 1e6 / $msgs")"
	DETAILS+=("$EX booktape: $msgs messages, $rows rows ($(calc %.0f "$rows / $secs")/s), network thread $(calc %.2f "$net * 1e6 / $msgs") us/msg, gaps $gaps, rows dropped $drops")
}

# ccxt_install: ccxt pro into $CCXT_DIR once (pinned); 0 when usable.
CCXT_OK=
ccxt_install() {
	if [ -n "$CCXT_OK" ]; then
		[ "$CCXT_OK" = 1 ]
		return
	fi
	CCXT_OK=0
	if [ "${BENCH_REC_CCXT:-1}" = 0 ]; then
		CCXT_WHY="BENCH_REC_CCXT=0"
	elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		CCXT_WHY="no node/npm"
	elif [ "$(cat "$CCXT_DIR/.pinned" 2>/dev/null)" = "${CCXT_PKGS[*]}" ] ||
		{ echo "installing ${CCXT_PKGS[*]} into $CCXT_DIR (once)" &&
			npm install --prefix "$CCXT_DIR" --no-audit --no-fund \
				--no-save "${CCXT_PKGS[@]}" >"$T/npm.log" 2>&1 &&
			echo "${CCXT_PKGS[*]}" >"$CCXT_DIR/.pinned"; }; then
		CCXT_OK=1
	else
		CCXT_WHY="npm install failed: $(tail -n 1 "$T/npm.log")"
	fi
	[ "$CCXT_OK" = 1 ]
}

ccxt_run() {
	local frames first last cpu rss books c0 c1 secs
	if [ "$CCXT_EX" = - ]; then
		row "$EX" ccxt - - - - - - -
		return
	fi
	if ! ccxt_install; then
		warn "ccxt: $CCXT_WHY"
		row "$EX" ccxt - - - - - - -
		return
	fi
	c0=$(proc_cpu "$SIM_PID")
	read -r _ frames _ _ _ first _ last _ cpu _ rss _ books < <(
		NODE_EXTRA_CA_CERTS=$T/certs/ca.pem timeout 600 node \
			"$HERE/ccxt_flood.js" "$CCXT_DIR" "$CCXT_EX" "$PORT" \
			"$D/truth" "$NFRAMES" "${SIM_PAIRS[@]}" 2>"$T/$EX-ccxt.log")
	c1=$(proc_cpu "$SIM_PID")
	if [ "${frames:-0}" -lt "$NFRAMES" ] 2>/dev/null; then
		warn "$EX ccxt: ${frames:-no} messages of $NFRAMES: $(tail -n 1 "$T/$EX-ccxt.log")"
		row "$EX" ccxt - - - - - - -
		return
	fi
	secs=$(calc %.6f "($last - $first) / 1e6")
	row "$EX" ccxt "$(calc %.0f "$frames / $secs")" \
		"$(calc %.2f "$cpu * 1e6 / $frames")" "$(calc %.1f "$rss / 1024")" \
		- - "$([ "$books" = ok ] && echo yes || echo no)" \
		"$(calc %.2f "($c1 - $c0) * 1e6 / $frames")"
}

flood() {
	local per=$((MSGS / ${#FLOOD_PAIRS[@]})) render
	EX=$1
	venue "$EX"
	rm -rf "$D/truth" "$D/rec"
	mkdir -p "$D/truth"
	start_sim "$EX" "${SIM_ARGS[@]}" --flood "$per" --truth-dir "$D/truth" \
		--pairs "$(IFS=,; echo "${SIM_PAIRS[*]}")"
	NFRAMES=$(tape_frames)
	[ "$NFRAMES" -gt 0 ] || die "$EX: no $STREAM tape"
	render=$(awk -F, -v s="$STREAM" '$2 == s { t += $6 } END { printf "%.2f", t }' \
		"$D/truth/tapes.csv")
	DETAILS+=("$EX sim: $NFRAMES $STREAM messages rendered in $render s ($(calc %.2f "$render * 1e6 / $NFRAMES") us each) before listening")
	discard_run OpenSSL "$SSLD"
	discard_run lws "$LWSD"
	rec_run
	ccxt_run
	stop_pid "$SIM_PID"
	rm -rf "$D/truth" "$D/rec"
}

print_table() {
	local r ex cl rate cpu rss p50 p99 books sim base cc
	declare -A ssl=() ccx=()
	for r in "${ROWS[@]}"; do
		read -r ex cl rate _ <<<"$r"
		[ "$cl" = OpenSSL ] && ssl[$ex]=$rate
		[ "$cl" = ccxt ] && ccx[$ex]=$rate
	done
	printf '%-14s %-9s %9s %8s %8s %8s %8s %7s %7s %6s %7s\n' exchange client \
		msg/s vsOpenSSL vs_ccxt "CPUus/m" "RSS_MB" p50ms p99ms books "sim_us"
	for r in "${ROWS[@]}"; do
		read -r ex cl rate cpu rss p50 p99 books sim <<<"$r"
		base=- cc=-
		if [ "$rate" != - ]; then
			[ "${ssl[$ex]:--}" != - ] && base=$(calc %.2f "$rate / ${ssl[$ex]}")
			[ "${ccx[$ex]:--}" != - ] && cc=$(calc %.2f "$rate / ${ccx[$ex]}")
		fi
		printf '%-14s %-9s %9s %8s %8s %8s %8s %7s %7s %6s %7s\n' "$ex" "$cl" \
			"$rate" "$base" "$cc" "$cpu" "$rss" "$p50" "$p99" "$books" "$sim"
	done
}

bash "$REPO/tests/sim/make-certs.sh" "$T/certs" >/dev/null 2>&1 ||
	die "make-certs.sh failed"

DETAILS=()
echo "flood: $MSGS five-id pushes per exchange over ${#FLOOD_PAIRS[@]} pairs," \
	"wss on 127.0.0.1, data in $(dirname "$D")"
for ex in $EXCHANGES; do
	flood "$ex"
done
print_table
printf '%s\n' "${DETAILS[@]}"
case " $EXCHANGES " in *" gateio-update "*)
	echo "gateio-update ccxt: ccxt's Gate.io spot subscribes spot.obu (the" \
		"gateio rows); only its gateeu URL uses spot.order_book_update" ;;
esac

# ---- 2. RSS with many pairs at depth 400 ----------------------------------

# gate_pairs N: P0001_USDT,... for the sim; "P0001-USDT",... in QUOTED.
gate_pairs() {
	local i list=() q=()
	for i in $(seq 1 "$1"); do
		list+=("$(printf 'P%04d_USDT' "$i")")
		q+=("\"$(printf 'P%04d-USDT' "$i")\"")
	done
	QUOTED=("${q[@]}")
	GPAIRS=$(IFS=,; echo "${list[*]}")
}

# wait_synced NAME: until /healthz says every pair is synced (120 s).
wait_synced() {
	local i
	for i in $(seq 1 1200); do
		curl -sf --max-time 2 "http://127.0.0.1:$MPORT/healthz" >/dev/null 2>&1 &&
			return 0
		kill -0 "$REC_PID" 2>/dev/null || die "recorder $1 exited"
		sleep 0.1
	done
	die "$1: not every pair synced within 120 s"
}

if [ "$NPAIRS" -gt 0 ]; then
	gate_pairs "$NPAIRS"
	start_sim many --pairs "$GPAIRS" --depth "$DEPTH" --rate 2 --ring 4096
	rm -rf "$D/rec"
	write_config "$T/many.yml" gate_io "$(IFS=,; echo "${QUOTED[*]}")" 400 \
		"wss://127.0.0.1:$PORT/ws/v4/" "https://127.0.0.1:$PORT/api/v4" \
		"channel: spot.obu"
	start_rec many "$T/many.yml"
	s0=$(date +%s.%N)
	wait_synced many
	sync_s=$(calc %.1f "$(date +%s.%N) - $s0")
	sleep 2
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$REC_PID/status")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$REC_PID/status")
	metrics "$T/many.metrics"
	synced=$(metric_sum "$T/many.metrics" orderbook_collector_book_synced)
	dropped=$(metric_sum "$T/many.metrics" orderbook_collector_rows_dropped_total)
	stop_rec
	stop_pid "$SIM_PID"
	echo "$NPAIRS pairs at depth $DEPTH (obu 400): $synced synced after $sync_s s;" \
		"RSS $(calc %.1f "$rss / 1024") MB, peak $(calc %.1f "$hwm / 1024") MB" \
		"(target <= 64 MB); rows dropped $dropped"
fi

# ---- 3. realistic load: every pair at its own rate -------------------------

if [ "$REAL_SECS" != 0 ] && [ "$REAL_PAIRS" -gt 0 ]; then
	gate_pairs "$REAL_PAIRS"
	start_sim real --pairs "$GPAIRS" --rate 1000 --rate-skew 0.5 --ring 4096
	rm -rf "$D/rec"
	half=$(((REAL_PAIRS + 1) / 2))
	RPIDS=() RPORTS=()
	for part in 1 2; do
		if [ "$part" = 1 ]; then
			q=("${QUOTED[@]:0:half}")
		else
			q=("${QUOTED[@]:half}")
		fi
		[ "${#q[@]}" -gt 0 ] || continue
		write_config "$T/real$part.yml" gate_io "$(IFS=,; echo "${q[*]}")" 100 \
			"wss://127.0.0.1:$PORT/ws/v4/" "https://127.0.0.1:$PORT/api/v4" \
			"channel: spot.obu"
		sed -i "s|$D/rec|$D/rec$part|" "$T/real$part.yml"
		start_rec "real$part" "$T/real$part.yml"
		wait_synced "real$part"
		RPIDS+=("$REC_PID") RPORTS+=("$MPORT")
	done
	sleep 2
	# Offered: a pair pushes every 100 ms when its book changed.
	offered=$(awk -v n="$REAL_PAIRS" 'BEGIN { for (i = 1; i <= n; i++)
		s += 10 * (1 - exp(-100 / sqrt(i))); printf "%.0f", s }')
	echo "realistic: $REAL_PAIRS Gate.io pairs at their own rate (the Nth" \
		"changes 1000/sqrt(N) times a second: about $offered pushes/s" \
		"offered), ${#RPIDS[@]} recorders of up to 1024 pairs, over" \
		"$REAL_SECS s:"
	c0=() n0=() s0=$(date +%s.%N) sc0=$(proc_cpu "$SIM_PID")
	for i in "${!RPIDS[@]}"; do
		c0+=("$(proc_cpu "${RPIDS[$i]}")")
		n0+=("$(proc_cpu "${RPIDS[$i]}" "${RPIDS[$i]}")")
		MPORT=${RPORTS[$i]} metrics "$T/real.m0.$i"
	done
	sleep "$REAL_SECS"
	el=$(calc %.3f "$(date +%s.%N) - $s0")
	tot_cpu=0 tot_msgs=0
	for i in "${!RPIDS[@]}"; do
		c1=$(proc_cpu "${RPIDS[$i]}")
		n1=$(proc_cpu "${RPIDS[$i]}" "${RPIDS[$i]}")
		MPORT=${RPORTS[$i]} metrics "$T/real.m1.$i"
		d=()
		for m in messages_received_total read_pauses_total rows_dropped_total; do
			d+=("$(calc %.0f "$(metric_sum "$T/real.m1.$i" "orderbook_collector_$m") - $(metric_sum "$T/real.m0.$i" "orderbook_collector_$m")")")
		done
		pct=$(calc %.1f "($c1 - ${c0[$i]}) * 100 / $el")
		rate=$(calc %.0f "${d[0]} / $el")
		echo "  recorder $((i + 1)): $pct % of one core (network thread" \
			"$(calc %.1f "($n1 - ${n0[$i]}) * 100 / $el") %, the rest" \
			"$(calc %.1f "($c1 - ${c0[$i]} - $n1 + ${n0[$i]}) * 100 / $el") %)," \
			"$rate msg/s received, ${d[1]} read pauses, ${d[2]} rows dropped"
		tot_cpu=$(calc %.1f "$tot_cpu + $pct")
		tot_msgs=$((tot_msgs + rate))
	done
	sc1=$(proc_cpu "$SIM_PID")
	for REC_PID in "${RPIDS[@]}"; do
		TIME_PID=$(ps -o ppid= -p "$REC_PID" | tr -d ' ')
		stop_rec
	done
	stop_pid "$SIM_PID"
	echo "  in all: $tot_cpu % of one core for $tot_msgs msg/s" \
		"($(calc %.1f "$tot_cpu * 1e4 / ($tot_msgs > 0 ? $tot_msgs : 1)") us/msg);" \
		"the simulator took $(calc %.0f "($sc1 - $sc0) * 100 / $el") %"
fi
exit 0
