#!/usr/bin/env bash
# booktape_rotate.prom is read by a real prometheus-node-exporter (textfile
# collector, loopback only): our samples show up and
# node_textfile_scrape_error is 0. promtool accepts the file, and
# last_success is carried across a failed run.
# shellcheck source=tests/integration/lib-rotate.sh
. "$(dirname "$0")/lib-rotate.sh"

NE=$(command -v prometheus-node-exporter || true)
[ -n "$NE" ] || fail "prometheus-node-exporter not installed"

write_config 120
D=2026-11-26
make_hour gateio $D 03 500
"$ROT" --config "$CONF" --now ${D}T05:00Z 2>/dev/null || fail "rotate run"
if command -v promtool >/dev/null; then
	promtool check metrics <"$PROM/booktape_rotate.prom" >"$T/lint" 2>&1 || fail "promtool: $(cat "$T/lint")"
else
	skip "promtool not installed: the textfile is not linted"
fi
grep -q '^[a-z_]* [0-9.e+-]* [0-9]' "$PROM/booktape_rotate.prom" && fail "a sample carries a timestamp"

# A failed run keeps last_success and moves last_run.
ok=$(prom_value booktape_rotate_last_success_timestamp_seconds)
make_hour gateio $D 04 50
sed -i '10s/,bid,/,bad,/; 10s/,ask,/,bad,/' "$DATA/live/gateio/$D/04/BTC_USDT.incremental_book_L2.csv"
"$ROT" --config "$CONF" --now ${D}T06:00Z 2>/dev/null && fail "bad hour did not fail the run"
[ "$(prom_value booktape_rotate_last_success_timestamp_seconds)" = "$ok" ] || fail "last_success not carried"
[ "$(prom_value booktape_rotate_last_run_timestamp_seconds)" = "$(date -u -d "$D 06:00" +%s)" ] || fail "last_run"
[ "$(prom_value booktape_rotate_errors)" = 1 ] || fail "errors"
pass "textfile written atomically, promtool clean, last_success carried"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$NE" --web.listen-address="127.0.0.1:$port" \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$PROM" >"$T/ne.log" 2>&1 &
BG_PIDS+=($!)
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$port/metrics" >"$T/scrape" 2>/dev/null && break
	sleep 0.1
done
[ -s "$T/scrape" ] || fail "node_exporter did not answer: $(cat "$T/ne.log")"
grep -qx 'node_textfile_scrape_error 0' "$T/scrape" || fail "scrape error: $(grep textfile "$T/scrape")"
for m in last_run_timestamp_seconds last_success_timestamp_seconds duration_seconds \
	archives_made hour_dirs_pending bytes_in bytes_out errors torn_tails_cut; do
	grep -q "^booktape_rotate_$m " "$T/scrape" || fail "booktape_rotate_$m not exported"
done
grep -qx 'booktape_rotate_hour_dirs_pending 1' "$T/scrape" || fail "hours_pending value"
grep -q '^# HELP booktape_rotate_errors Errors in the last run' "$T/scrape" || fail "HELP text lost"
pass "node_exporter exports our samples with node_textfile_scrape_error 0"
