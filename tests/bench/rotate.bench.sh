#!/usr/bin/env bash
# Benchmark (not a test): seal one hour of realistic incremental_book_L2
# CSV (BENCH_MB, default 512 MB, four symbols) with booktape-rotate and
# archive the same files with GNU `tar -czf` at the same gzip level, in
# the same run. Prints MB/s, compression ratio and rotate/tar. rotate's
# time includes its schema check, the read-back verification and the
# sidecar; tar's is compression only.
set -euo pipefail
BUILD=$(realpath "${BUILD:-build}")
ROT=$BUILD/booktape-rotate
MB=${BENCH_MB:-512}
LEVEL=${BENCH_GZIP_LEVEL:-6}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
D=2026-11-26
H=03
dir=$T/data/live/gateio/$D/$H
mkdir -p "$dir" "$T/prom"
start=$(date -u -d "$D $H:00:00" +%s)

# Rows look like a live Gate.io feed: a random walk of the mid price on a
# tick, levels a few ticks away, amounts with up to 6 decimals,
# monotonic µs timestamps, deletes (amount 0) mixed in.
gen() { # SYMBOL MID TICK DECIMALS BYTES
	awk -v sym="$1" -v mid="$2" -v tick="$3" -v dec="$4" -v bytes="$5" -v t0="$start" 'BEGIN {
		srand(42 + length(sym));
		print "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount";
		n = 0; total = 0; rows = bytes / 72;
		while (total < bytes) {
			us = t0 * 1000000 + int(n * 3599000000 / rows);
			if (rand() < 0.3) mid += (rand() < 0.5 ? -tick : tick) * int(1 + rand() * 3);
			side = rand() < 0.5 ? "bid" : "ask";
			k = int(rand() * rand() * 200);
			p = side == "bid" ? mid - k * tick : mid + k * tick;
			amt = rand() < 0.15 ? "0" : sprintf("%.6f", rand() * rand() * 4);
			line = sprintf("gateio,%s,%.0f,%.0f,%s,%s,%." dec "f,%s", sym, us - 800 - int(rand() * 900), us, n < 200 ? "true" : "false", side, p, amt);
			print line;
			total += length(line) + 1; n++;
		}
	}' >"$dir/$1.incremental_book_L2.csv"
}
echo "generating ${MB} MB of CSV ..."
per=$((MB * 1024 * 1024 / 4))
gen BTC_USDT 91234.56 0.01 2 "$per" &
gen ETH_USDT 3123.45 0.01 2 "$per" &
wait
gen SOL_USDT 142.87 0.001 3 "$per" &
gen VIRTUAL_USDT 1.2345 0.0001 4 "$per" &
wait
in_bytes=$(cat "$dir"/*.csv | wc -c)
cat >"$T/rotate.yml" <<EOC
config:
  data_dir: "$T/data"
  textfile_dir: "$T/prom"
  grace: 120
  gzip_level: $LEVEL
  keep_days: 0
EOC
cat "$dir"/*.csv >/dev/null # both runs start from a warm page cache

now() { date +%s.%N; }
t0=$(now)
(cd "$T/data/live" && tar --use-compress-program="gzip -$LEVEL" -cf "$T/tar.tar.gz" "gateio/$D/$H")
t1=$(now)
tar_out=$(stat -c %s "$T/tar.tar.gz")
rm -f "$T/tar.tar.gz"
t2=$(now)
"$ROT" --config "$T/rotate.yml" --now ${D}T05:00Z
t3=$(now)
rot_out=$(stat -c %s "$T/data/archive/gateio/$D/gateio_${D}T$H.tar.gz")

awk -v in_b="$in_bytes" -v tt="$(echo "$t1 - $t0" | bc)" -v rt="$(echo "$t3 - $t2" | bc)" \
	-v to="$tar_out" -v ro="$rot_out" -v lvl="$LEVEL" 'BEGIN {
	mb = in_b / 1e6;
	printf "input: %.1f MB, gzip level %d\n", mb, lvl;
	printf "GNU tar -czf:     %6.2f s  %7.1f MB/s  ratio %.2f\n", tt, mb / tt, in_b / to;
	printf "booktape-rotate:  %6.2f s  %7.1f MB/s  ratio %.2f\n", rt, mb / rt, in_b / ro;
	printf "rotate/tar throughput: %.2fx\n", tt / rt;
}'
