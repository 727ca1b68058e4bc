# shellcheck shell=bash
# Shared setup for the t-rotate-*.sh scripts: a sandbox, a config, and
# recorder-shaped hourly CSV generated in the live layout.
set -euo pipefail
# shellcheck source=tests/skip.sh
. "$(dirname "${BASH_SOURCE[0]}")/../skip.sh"
BUILD=$(realpath "${BUILD:-build}")
# Used by the scripts that source this file.
export ROT=$BUILD/booktape-rotate
export TARX=$BUILD/helpers/rotate-tarx
T=$(mktemp -d)
BG_PIDS=()
cleanup() {
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
DATA=$T/data
PROM=$T/prom
CONF=$T/rotate.yml
mkdir -p "$DATA" "$PROM"

fail() {
	echo "FAIL: $*"
	exit 1
}
pass() {
	echo "PASS: $*"
}

# write_config [grace] [keep_days] [gzip_level]
write_config() {
	cat >"$CONF" <<EOC
config:
  data_dir: "$DATA"
  textfile_dir: "$PROM"
  grace: ${1:-120}
  gzip_level: ${3:-6}
  keep_days: ${2:-7}
EOC
}

hour_epoch() { # DATE HH -> seconds
	date -u -d "$1 $2:00:00" +%s
}

# gen_l2 FILE EXCHANGE SYMBOL DATE HH ROWS: a snapshot block, then deltas.
gen_l2() {
	local start
	start=$(hour_epoch "$4" "$5")
	awk -v ex="$2" -v sym="$3" -v t0="$start" -v n="$6" 'BEGIN {
		srand(7);
		print "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount";
		mid = 91234.5;
		for (i = 0; i < n; i++) {
			us = t0 * 1000000 + int(i * 3599000000 / n);
			snap = i < 40 ? "true" : "false";
			side = (i % 2) ? "ask" : "bid";
			off = int(rand() * 400) / 10;
			p = side == "bid" ? mid - off : mid + off;
			amt = (i % 17 == 0) ? "0" : sprintf("%.4f", rand() * 3);
			printf "%s,%s,%.0f,%.0f,%s,%s,%.1f,%s\n", ex, sym, us - 1500, us, snap, side, p, amt;
		}
	}' >"$1"
}

# gen_events FILE DATE HH
gen_events() {
	local start
	start=$(hour_epoch "$2" "$3")
	{
		echo "local_timestamp,event,first_update_id,last_update_id,expected_update_id,detail"
		echo "$((start * 1000000 + 5)),subscribed,,,,"
		echo "$((start * 1000000 + 9)),snapshot,1000,1000,,\"depth 100, rest\""
		echo "$((start * 1000000 + 99)),gap,1207,1210,1205,"
	} >"$1"
}

# gen_snap FILE EXCHANGE SYMBOL DATE HH: book_snapshot_2 rows.
gen_snap() {
	local start
	start=$(hour_epoch "$4" "$5")
	{
		echo "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount,asks[1].price,asks[1].amount,bids[1].price,bids[1].amount"
		for i in 0 1 2; do
			echo "$2,$3,$((start * 1000000 + i * 300000000)),$((start * 1000000 + i * 300000000 + 7)),0.0102,5,0.0101,7,0.0103,1,,"
		done
	} >"$1"
}

# make_hour EXCHANGE DATE HH ROWS: three datasets, two symbols.
make_hour() {
	local d=$DATA/live/$1/$2/$3
	mkdir -p "$d"
	gen_l2 "$d/BTC_USDT.incremental_book_L2.csv" "$1" BTC_USDT "$2" "$3" "$4"
	gen_l2 "$d/ETH_USDT.incremental_book_L2.csv" "$1" ETH_USDT "$2" "$3" "$(($4 / 2 + 1))"
	gen_snap "$d/BTC_USDT.book_snapshot_2.csv" "$1" BTC_USDT "$2" "$3"
	gen_events "$d/BTC_USDT.book_events.csv" "$2" "$3"
}

# snapshot_tree DIR OUT: a copy of a live tree for later comparison.
snapshot_tree() {
	rm -rf "$2"
	mkdir -p "$2"
	cp -a "$1/." "$2/"
}

# prom_value NAME: the sample value of an unlabelled metric.
prom_value() {
	awk -v n="$1" '$1 == n { print $2 }' "$PROM/booktape_rotate.prom"
}
