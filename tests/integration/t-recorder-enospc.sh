#!/usr/bin/env bash
# A disk that stops taking writes (a file size limit: write(2) fails with
# EFBIG, as ENOSPC would) must not drop the exchange connection: the
# losses are counted (write_errors_total), the hole is recorded as a
# "dropped" event, and once space returns the files carry on whole, with
# a snapshot block after the hole, and equal the truth (the message the
# error cut may be partial, as after a kill: the block repairs it).
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

command -v prlimit >/dev/null || fail "prlimit (util-linux) is needed"
mkdir -p "$TMP/truth"
start_sim sim --truth-dir "$TMP/truth" --pairs BTC_USDT,ETH_USDT --rate 300 --seed 3
write_config "$TMP/rec.yml" '"BTC-USDT", "ETH-USDT"' "buffer_size: 10" \
	"flush_interval: 0.05"
# 40 KiB per file: the L2 files hit it within seconds, book_events later.
prlimit --fsize=40960:unlimited -- "$REC" --config "$TMP/rec.yml" >"$TMP/rec.log" 2>&1 &
REC_PID=$!
REC_PIDS+=("$REC_PID")
wait_healthy 10
G='{exchange="gateio"'
wait_metric "orderbook_collector_write_errors_total$G}" 3 20
m1=$(metric "orderbook_collector_messages_received_total$G,symbol=\"BTC_USDT\"}")
sleep 1
m2=$(metric "orderbook_collector_messages_received_total$G,symbol=\"BTC_USDT\"}")
[ "$(metric "orderbook_collector_connection_status$G}")" = 1 ] ||
	fail "the connection dropped while the disk was full"
[ "$m2" -gt "$m1" ] || fail "messages stopped while the disk was full ($m1 -> $m2)"
code=$(curl -s -o "$TMP/health.json" -w '%{http_code}' "http://127.0.0.1:$MPORT/healthz")
[ "$code" = 503 ] || fail "/healthz said $code while nothing could be written"
grep -q '"writing":false' "$TMP/health.json" || fail "/healthz: $(cat "$TMP/health.json")"
t1=$(metric "orderbook_collector_ticks_written_total$G,symbol=\"BTC_USDT\"}")
# Space returns.
prlimit --pid "$REC_PID" --fsize=unlimited:unlimited
wait_metric "orderbook_collector_ticks_written_total$G,symbol=\"BTC_USDT\"}" $((t1 + 200)) 10
sleep 1
stop_rec
grep -q 'rows lost to write errors' "$TMP"/data/live/gateio/*/*/BTC_USDT.book_events.csv ||
	fail "no dropped event after the disk came back"
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio BTC_USDT ETH_USDT --min-checks 20 \
	--expect-events dropped --crash-tolerant || fail "files after the full disk differ from the truth"
pass "full disk: connection kept, losses counted and recorded, writing resumed"
