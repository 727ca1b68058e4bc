#!/usr/bin/env bash
# `make bench`: booktape-recorder under a flood of 5-level Gate.io updates
# over TLS on loopback (booktape-sim --flood), beside the same stream read
# by bench_discard, a client that only counts and discards frames (the
# transport limit), measured in the same run. Then 1000 pairs at depth 100
# at a slow rate: the recorder's RSS once every pair is synced.
# Targets (issue 3): >= 500 k messages/s on one core, >= 50 % of the
# transport limit, <= 64 MB RSS with 1000 pairs at depth 100. Reports
# only: machines are shared, so nothing is asserted on time.
#
# Figures: messages/s and rows/s span the first to the last message's
# receive time (the recorder's local_timestamp column, the client's own
# clock); CPU is the whole process (both recorder threads, startup
# included) per million messages; "net" is the recorder's event-loop
# thread alone; peak RSS is VmHWM; latency is the recorder's
# orderbook_collector_write_latency_seconds histogram (receive to the end
# of the write(2) holding the row, once per write for its oldest row).
#
# Knobs: BENCH_REC_MSGS (pushes in the flood, 1000000), BENCH_REC_PAIRS
# (pairs in the RSS scenario, 1000), BENCH_REC_DATA (where the recorder
# writes: /dev/shm when writable, so the disk is not measured).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
SIM=$BUILD/booktape-sim
REC=${REC:-$BUILD/booktape-recorder}
DISCARD=$BUILD/helpers/bench_discard
MSGS=${BENCH_REC_MSGS:-1000000}
NPAIRS=${BENCH_REC_PAIRS:-1000}
TICK=$(getconf CLK_TCK)

for b in "$SIM" "$REC" "$DISCARD"; do
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

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_sim NAME ARGS...: the simulator over TLS on a free port; sets PORT
# and SIM_PID.
start_sim() {
	local name=$1 i
	shift
	"$SIM" --port-file "$T/$name.port" --tls-cert "$T/certs/server.pem" \
		--tls-key "$T/certs/server.key" --duration 170 "$@" \
		2>"$T/$name.log" &
	SIM_PID=$!
	PIDS+=("$SIM_PID")
	for i in $(seq 1 100); do
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

# write_config FILE PAIRS: the shipped config's settings, against the sim.
write_config() {
	MPORT=$(free_port)
	cat >"$1" <<YML
config:
  connector_name: "gate_io"
  trading_pairs: [$2]
  depth_limit: 100
  snapshot_interval: 300
  buffer_size: 100
  flush_interval: 10.0
  data_dir: "$D"
  metrics_listen: "127.0.0.1:$MPORT"
  ws_url: "wss://127.0.0.1:$PORT/ws/v4/"
  rest_url: "https://127.0.0.1:$PORT/api/v4"
  ca_file: "$T/certs/ca.pem"
YML
}

# start_rec NAME CONFIG: the recorder under /usr/bin/time (CPU, max RSS
# at exit); sets REC_PID (the recorder) and TIME_PID.
start_rec() {
	local i
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

metrics() {
	curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics"
}

# metric_sum NAME: the sum of every sample of one metric name.
metric_sum() {
	awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 }
		END { printf "%.0f", s }' "$T/metrics.txt"
}

# quantile Q: from the write latency histogram, in ms (linear within a
# bucket, as Prometheus' histogram_quantile).
quantile() {
	awk -v q="$1" '
	index($1, "orderbook_collector_write_latency_seconds_bucket{") == 1 {
		match($1, /le="[^"]*"/)
		le = substr($1, RSTART + 4, RLENGTH - 5)
		n++; b[n] = (le == "+Inf") ? -1 : le + 0; c[n] = $2 + 0
	}
	END {
		if (n == 0 || c[n] == 0) { print "-"; exit }
		want = q * c[n]; lo = 0; prev = 0
		for (i = 1; i <= n; i++) {
			if (c[i] >= want) {
				if (b[i] < 0) { printf ">%.1f", lo * 1000; exit }
				f = (c[i] > prev) ? (want - prev) / (c[i] - prev) : 1
				printf "%.2f", (lo + (b[i] - lo) * f) * 1000
				exit
			}
			lo = b[i]; prev = c[i]
		}
	}' "$T/metrics.txt"
}

thread_cpu() { # PID TID: user+system seconds of one thread
	awk -v t="$TICK" '{ sub(/.*\) /, ""); printf "%.3f", ($12 + $13) / t }' \
		"/proc/$1/task/$2/stat" 2>/dev/null
}

sub_msg() {
	printf '{"time":%s,"id":1,"channel":"spot.order_book_update","event":"subscribe","payload":["%s","100ms"]}' \
		"$(date +%s)" "$1"
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

bash "$REPO/tests/sim/make-certs.sh" "$T/certs" >/dev/null 2>&1 ||
	die "make-certs.sh failed"

# ---- 1. flood: the transport limit, then the recorder --------------------

echo "flood: $MSGS five-id pushes of BTC_USDT over wss on 127.0.0.1," \
	"data in $(dirname "$D")"
start_sim tflood --flood "$MSGS" --pairs BTC_USDT
read -r _ t_frames _ t_bytes _ t_first _ t_last _ t_cpu < <(
	"$DISCARD" --url "wss://127.0.0.1:$PORT/ws/v4/" \
		--ca-file "$T/certs/ca.pem" --send "$(sub_msg BTC_USDT)" \
		2>"$T/discard.log")
stop_pid "$SIM_PID"
[ "${t_frames:-0}" -ge "$MSGS" ] 2>/dev/null ||
	die "transport client got ${t_frames:-no} frames"
t_secs=$(calc %.6f "($t_last - $t_first) / 1e6")

start_sim rflood --flood "$MSGS" --pairs BTC_USDT
write_config "$T/flood.yml" '"BTC-USDT"'
start_rec rflood "$T/flood.yml"
for i in $(seq 1 1200); do
	grep -q "disconnected 'wss" "$T/rflood.log" && break
	kill -0 "$REC_PID" 2>/dev/null || die "recorder exited during the flood"
	sleep 0.05
done
grep -q "disconnected 'wss" "$T/rflood.log" || die "the flood did not end"
# No reconnect: the next connection would get a flood of its own.
stop_pid "$SIM_PID"
net_cpu=$(thread_cpu "$REC_PID" "$REC_PID")
metrics >"$T/metrics.txt"
stop_rec
read -r r_user r_sys r_hwm <"$T/rflood.time" || die "no /usr/bin/time figures"
r_cpu=$(calc %.3f "$r_user + $r_sys")
msgs=$(metric_sum orderbook_collector_messages_received_total)
gaps=$(metric_sum orderbook_collector_sequence_gaps_total)
qdrop=$(metric_sum orderbook_collector_rows_dropped_total)
failed=$(metric_sum orderbook_collector_messages_failed_total)
p50=$(quantile 0.5)
p99=$(quantile 0.99)
mapfile -t l2 < <(find "$D" -name '*.incremental_book_L2.csv' | sort)
[ "${#l2[@]}" -gt 0 ] || die "no incremental_book_L2 file written"
rows=$(($(cat "${l2[@]}" | wc -l) - ${#l2[@]}))
r_first=$(sed -n 2p "${l2[0]}" | cut -d, -f4)
r_last=$(tail -n 1 "${l2[${#l2[@]} - 1]}" | cut -d, -f4)
r_secs=$(calc %.6f "($r_last - $r_first) / 1e6")
rm -rf "${D:?}"/*

t_rate=$(calc %.0f "$MSGS / $t_secs")
r_rate=$(calc %.0f "$MSGS / $r_secs")
printf '%-22s %12s %12s %10s\n' "" recorder transport ratio
printf '%-22s %12s %12s %10s\n' "messages/s" "$r_rate" "$t_rate" \
	"$(calc %.2f "$r_rate / $t_rate")"
printf '%-22s %12s %12s\n' "rows/s" "$(calc %.0f "$rows / $r_secs")" "-"
printf '%-22s %12s %12s %10s\n' "MB/s received" \
	"$(calc %.1f "$t_bytes / $r_secs / 1e6")" \
	"$(calc %.1f "$t_bytes / $t_secs / 1e6")" "-"
printf '%-22s %12s %12s %10s\n' "CPU s / M messages" \
	"$(calc %.3f "$r_cpu * 1e6 / $MSGS")" \
	"$(calc %.3f "$t_cpu * 1e6 / $MSGS")" \
	"$(calc %.2f "$r_cpu / $t_cpu")"
printf '%-22s %12s %12s\n' "  of which net thread" \
	"$(calc %.3f "$net_cpu * 1e6 / $MSGS")" "-"
printf '%-22s %12s %12s\n' "peak RSS MB (VmHWM)" \
	"$(calc %.1f "$r_hwm / 1024")" "-"
printf '%-22s %12s %12s\n' "write latency p50 ms" "$p50" "-"
printf '%-22s %12s %12s\n' "write latency p99 ms" "$p99" "-"
echo "recorder: $msgs messages, $rows rows in $(calc %.2f "$r_secs") s," \
	"gaps $gaps, rows dropped $qdrop, failed $failed;" \
	"transport: $t_frames frames in $(calc %.2f "$t_secs") s"
echo "targets: >= 500000 messages/s ($r_rate), >= 0.50 of transport" \
	"($(calc %.2f "$r_rate / $t_rate"))"

# ---- 2. RSS with many pairs at depth 100 ----------------------------------

pairs=() quoted=()
for i in $(seq 1 "$NPAIRS"); do
	pairs+=("$(printf 'P%04d_USDT' "$i")")
	quoted+=("\"$(printf 'P%04d-USDT' "$i")\"")
done
start_sim many --pairs "$(IFS=,; echo "${pairs[*]}")" --depth 100 --rate 2
write_config "$T/many.yml" "$(IFS=,; echo "${quoted[*]}")"
start_rec many "$T/many.yml"
s0=$(date +%s.%N)
ok=0
for i in $(seq 1 1200); do
	if curl -sf --max-time 2 "http://127.0.0.1:$MPORT/healthz" \
		>/dev/null 2>&1; then
		ok=1
		break
	fi
	kill -0 "$REC_PID" 2>/dev/null || die "recorder exited"
	sleep 0.1
done
[ "$ok" = 1 ] || die "not every pair synced within 120 s"
sync_s=$(calc %.1f "$(date +%s.%N) - $s0")
sleep 2
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$REC_PID/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$REC_PID/status")
metrics >"$T/metrics.txt"
synced=$(metric_sum orderbook_collector_book_synced)
dropped=$(metric_sum orderbook_collector_rows_dropped_total)
pauses=$(metric_sum orderbook_collector_read_pauses_total)
stop_rec
stop_pid "$SIM_PID"
echo "$NPAIRS pairs at depth 100: $synced synced after $sync_s s;" \
	"RSS $(calc %.1f "$rss / 1024") MB, peak $(calc %.1f "$hwm / 1024") MB" \
	"(target <= 64 MB); rows dropped $dropped, read pauses $pauses"
exit 0
