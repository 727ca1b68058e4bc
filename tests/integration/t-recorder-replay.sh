#!/usr/bin/env bash
# Real captures (Gate.io 2021, NEO_BTC and OMG_USDT: a REST snapshot with
# id and the WebSocket diffs that followed) served by the simulator give
# a gap-free, never-crossed book, with the snapshot bridged by the
# documented rule.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

start_sim replay --replay "$ROOT/tests/data/samples/gateio" --pairs NEO_BTC,OMG_USDT
write_config "$TMP/rec.yml" '"NEO-BTC", "OMG-USDT"'
start_rec rec "$TMP/rec.yml"
wait_metric 'orderbook_collector_messages_received_total{exchange="gateio",symbol="OMG_USDT"}' 51 15
wait_metric 'orderbook_collector_messages_received_total{exchange="gateio",symbol="NEO_BTC"}' 39 5
sleep 0.5
stop_rec
python3 "$CHECK" "$TMP/data" "$TMP/data" gateio NEO_BTC OMG_USDT --no-truth \
	--min-checks 30 --expect-events snapshot --forbid-events gap,resync,dropped ||
	fail "replayed captures did not give a clean book"
pass "real captures: gap-free, uncrossed"
