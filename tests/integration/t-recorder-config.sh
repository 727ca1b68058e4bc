#!/usr/bin/env bash
# Config and exchange errors. A bad config exits 2 with file:line:column
# and starts nothing; --check-config prints the effective config; an
# unknown pair is logged and counted while the other pairs keep
# recording; /metrics passes promtool; /healthz says 503 while a pair is
# not synced.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

# --- bad configs
printf 'config:\n  connector_name: gate_io\n  trading_pairs: ["BTC-USDT"]\n  flush_intervall: 1\n' >"$TMP/typo.yml"
printf 'config:\n  connector_name: gate_io\n  trading_pairs: ["BTC-USDT"]\n  depth_limit: ten\n' >"$TMP/type.yml"
printf 'config:\n  connector_name: gate_io\n  trading_pairs: ["BTC-USDT"]\n  flush_interval: -2\n' >"$TMP/range.yml"
for c in typo:4:3 type:4:16 range:4:19; do
	name=${c%%:*}
	rc=0
	out=$("$REC" --config "$TMP/$name.yml" 2>&1) || rc=$?
	[ "$rc" -eq 2 ] || fail "$name: exit $rc, wanted 2"
	echo "$out" | grep -q "^$TMP/$name.yml:${c#*:}: " ||
		fail "$name: no file:line:column in '$out'"
	rc=0
	"$REC" --check-config "$TMP/$name.yml" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || fail "$name: --check-config exit $rc, wanted 2"
done
[ ! -e "$TMP/data" ] || fail "a bad config created files"
# Under journald every line of the error list is at error priority
# (journalctl -p err), for all three programs.
printf 'config:\n  connector_name: gate_io\n  trading_pairs: ["BTC-USDT"]\n  flush_intervall: 1\n  depth_limit: ten\n' >"$TMP/two.yml"
printf 'config:\n  data_dir: /x\n  gracee: 1\n' >"$TMP/rot.yml"
for p in "recorder:two:4:3" "recorder:two:5:16" "rotate:rot:3:3" "backup:rot:3:3"; do
	IFS=: read -r prog name pos <<<"$p"
	args=(--config "$TMP/$name.yml")
	[ "$prog" = backup ] && args+=(push)
	out=$(JOURNAL_STREAM=8:1 "$BUILD/booktape-$prog" "${args[@]}" 2>&1) || true
	echo "$out" | grep -q "^<3>$TMP/$name.yml:$pos: " ||
		fail "$prog: '$name.yml:$pos' not at priority 3 under journald: '$out'"
done
"$REC" --check-config "$ROOT/config/orderbook_tick_gateio.yml" | grep -q 'depth_limit: 100' ||
	fail "--check-config does not print the effective config"
# Every shipped exchange config loads (all four are recorded; running
# one here would reach the exchange, so only --check-config).
for ex in gateio mexc binance okx; do
	[ -e "$ROOT/config/orderbook_tick_$ex.yml" ] || continue
	"$REC" --check-config "$ROOT/config/orderbook_tick_$ex.yml" >/dev/null ||
		fail "config/orderbook_tick_$ex.yml does not load"
done
# A data_dir that cannot be written fails at start, not silently later.
touch "$TMP/not-a-dir"
printf 'config:\n  connector_name: gate_io\n  trading_pairs: ["BTC-USDT"]\n  data_dir: "%s/not-a-dir/x"\n' "$TMP" >"$TMP/nodir.yml"
rc=0
out=$("$REC" --config "$TMP/nodir.yml" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "unwritable data_dir: exit $rc, wanted 1"
echo "$out" | grep -q "is not writable" || fail "unwritable data_dir: '$out'"
pass "bad configs exit 2 with file:line:column"

# --- an unknown pair next to good ones
mkdir -p "$TMP/truth"
start_sim sim --truth-dir "$TMP/truth" --pairs BTC_USDT,ETH_USDT --rate 200
write_config "$TMP/rec.yml" '"BTC-USDT", "NOPE-USDT", "ETH-USDT"'
start_rec rec "$TMP/rec.yml"
wait_metric 'orderbook_collector_messages_received_total{exchange="gateio",symbol="ETH_USDT"}' 20 10
wait_metric 'orderbook_collector_messages_failed_total{exchange="gateio",error_type="exchange_error"}' 1 5
grep -q 'NOPE_USDT: exchange refused request: code 2: unknown currency pair: NOPE_USDT' "$TMP/rec.log" ||
	fail "the unknown pair was not logged"
code=$(curl -s -o "$TMP/health.json" -w '%{http_code}' "http://127.0.0.1:$MPORT/healthz")
[ "$code" = 503 ] || fail "/healthz answered $code with a pair refused"
grep -q '"symbol":"NOPE_USDT","state":"idle","rejected":true' "$TMP/health.json" ||
	fail "/healthz does not show the refused pair: $(cat "$TMP/health.json")"
curl -s "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics.txt"
promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 ||
	fail "promtool: $(cat "$TMP/promtool.out")"
[ ! -s "$TMP/promtool.out" ] || fail "promtool: $(cat "$TMP/promtool.out")"
for m in messages_received_total message_processing_latency_bucket \
	sequence_gaps_total connection_status buffer_size messages_failed_total \
	ticks_written_total resyncs_total reconnections_total \
	last_message_timestamp_seconds; do
	grep -q "^orderbook_collector_$m" "$TMP/metrics.txt" || fail "no $m in /metrics"
done
grep -q '^process_resident_memory_bytes' "$TMP/metrics.txt" || fail "no process metrics"
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nope" | grep -q 404 ||
	fail "unknown path not 404"
stop_rec
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio BTC_USDT ETH_USDT --min-checks 10 ||
	fail "the good pairs did not record correctly"
pass "unknown pair refused and counted; the others record; /metrics passes promtool"
