#!/usr/bin/env bash
# Over TLS (wss and https) with a test CA given as ca_file the recorder
# records as over plain ws; a server certificate that CA did not sign is
# a logged error and a retry, never a silent insecure connection: no
# subscription, no data, connection_status 0.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

bash "$ROOT/tests/sim/make-certs.sh" "$TMP/certs"
export WS_SCHEME=wss HTTP_SCHEME=https
mkdir -p "$TMP/truth"

# A trusted server: data flows and matches the truth.
start_sim good --truth-dir "$TMP/truth" --pairs BTC_USDT,ETH_USDT --rate 200 \
	--tls-cert "$TMP/certs/server.pem" --tls-key "$TMP/certs/server.key" \
	--script "2:gap:BTC_USDT:2"
write_config "$TMP/rec.yml" '"BTC-USDT", "ETH-USDT"' \
	"ca_file: \"$TMP/certs/ca.pem\""
start_rec rec "$TMP/rec.yml"
wait_healthy 10
wait_metric 'orderbook_collector_resyncs_total{exchange="gateio",symbol="BTC_USDT"}' 1 10
wait_healthy 10
stop_rec
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio BTC_USDT \
	--min-checks 10 --expect-events snapshot ||
	fail "books over TLS differ from the truth"
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio ETH_USDT --min-checks 10 ||
	fail "books over TLS differ from the truth"
pass "wss + https with a private CA"

# A rogue certificate: refused, retried, nothing recorded.
rm -rf "$TMP/data"
start_sim rogue --pairs BTC_USDT --rate 200 \
	--tls-cert "$TMP/certs/rogue.pem" --tls-key "$TMP/certs/rogue.key"
write_config "$TMP/rec2.yml" '"BTC-USDT"' "ca_file: \"$TMP/certs/ca.pem\""
start_rec rec2 "$TMP/rec2.yml"
wait_metric 'orderbook_collector_disconnections_total{exchange="gateio",reason="connection error"}' 2 15
[ "$(metric 'orderbook_collector_connection_status{exchange="gateio"}')" = 0 ] ||
	fail "connected to a server with a rogue certificate"
[ "$(metric 'orderbook_collector_messages_received_total{exchange="gateio",symbol="BTC_USDT"}')" = 0 ] ||
	fail "data received from a rogue server"
grep -q "connect 'wss://127.0.0.1:$PORT/ws/v4/'" "$TMP/rec2.log" ||
	fail "the refused connection was not logged"
grep -q 'reconnect to' "$TMP/rec2.log" || fail "no retry after the refusal"
stop_rec
if find "$TMP/data" -name '*.incremental_book_L2.csv' 2>/dev/null | grep -q .; then
	fail "rows written from a rogue server"
fi
pass "a certificate outside ca_file is refused and retried"
