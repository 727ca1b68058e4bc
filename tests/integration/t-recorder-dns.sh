#!/usr/bin/env bash
# The loop never blocks on DNS (issue 8 §4): with a resolver that takes
# 3 s to answer (tests/preload/slowdns.so, for the name "localhost"), the
# recorder keeps answering /metrics within 1 s while it connects, the
# lookups run on the resolver thread, not the loop, and a reconnect uses
# the cached answer. The connection goes to the number, yet TLS is
# checked against the name: a name the certificate does not carry is
# refused even though its address (127.0.0.1) is in the certificate.
# SIGTERM during a lookup that hangs still ends the recorder at once.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

SLOWDNS=$BUILD/preload/slowdns.so
bash "$ROOT/tests/sim/make-certs.sh" "$TMP/certs" >/dev/null 2>&1 || fail "make-certs.sh"
mkdir -p "$TMP/truth"
start_sim sim --truth-dir "$TMP/truth" --pairs BTC_USDT,ETH_USDT --rate 200 \
	--tls-cert "$TMP/certs/server.pem" --tls-key "$TMP/certs/server.key"

# start_slow NAME HOST SECS CONFIG: the recorder with a slow resolver for HOST.
start_slow() {
	BOOKTAPE_SLOWDNS_HOST=$2 BOOKTAPE_SLOWDNS_SECS=$3 \
		BOOKTAPE_SLOWDNS_LOG=$TMP/$1.dns \
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
		LD_PRELOAD=$SLOWDNS start_rec "$1" "$4"
}

# metrics_fast SECONDS: /metrics answers within 1 s, every 0.2 s, for that long.
metrics_fast() {
	local i
	for i in $(seq 1 $(($1 * 5))); do
		curl -sf --max-time "$MULT" -o /dev/null "http://127.0.0.1:$MPORT/metrics" ||
			fail "/metrics did not answer within 1 s (${i}th try)"
		sleep 0.2
	done
}

write_config "$TMP/rec.yml" '"BTC-USDT", "ETH-USDT"' \
	"ca_file: \"$TMP/certs/ca.pem\"" \
	"ws_url: \"wss://localhost:$PORT/ws/v4/\"" \
	"rest_url: \"https://localhost:$PORT/api/v4\""
start_slow rec localhost 3 "$TMP/rec.yml"
sleep 0.3
metrics_fast 4
wait_healthy 15
grep -q "connected 'wss://localhost:$PORT/ws/v4/'" "$TMP/rec.log" ||
	fail "not connected by name"
# A gap resyncs through a REST snapshot, addressed from the cache.
curl -sf --cacert "$TMP/certs/ca.pem" "https://127.0.0.1:$PORT/_sim/fault?kind=gap&pair=BTC_USDT&n=2" \
	>/dev/null || fail "fault"
wait_metric 'orderbook_collector_resyncs_total{exchange="gateio",symbol="BTC_USDT"}' 1 10
wait_healthy 10
# A dropped link reconnects at once from the cache, no new lookup.
curl -sf --cacert "$TMP/certs/ca.pem" "https://127.0.0.1:$PORT/_sim/fault?kind=drop" >/dev/null || fail "fault"
wait_metric 'orderbook_collector_reconnections_total{exchange="gateio"}' 1 10
metrics_fast 1
wait_healthy 10
stop_rec
lookups=$(wc -l <"$TMP/rec.dns")
[ "$lookups" -ge 1 ] || fail "the slow resolver was never asked"
[ "$lookups" -le 2 ] || fail "$lookups lookups: the answer was not cached"
! grep -q main "$TMP/rec.dns" || fail "getaddrinfo ran on the event-loop thread"
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio BTC_USDT --min-checks 10 \
	--expect-events snapshot || fail "books by name differ from the truth"
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio ETH_USDT --min-checks 10 ||
	fail "books by name differ from the truth"
pass "a 3 s resolver never stalls the loop: $lookups lookup(s), all off the loop, cached for the reconnect"

# SIGTERM while a lookup hangs: the loop is free, so exit 0 within 2 s.
rm -rf "$TMP/data"
start_slow term localhost 8 "$TMP/rec.yml"
sleep 1
metrics_fast 1
stop_rec
pass "SIGTERM during an 8 s lookup exits 0 within 2 s"

# The certificate is checked against the name, not the address.
rm -rf "$TMP/data"
write_config "$TMP/other.yml" '"BTC-USDT"' \
	"ca_file: \"$TMP/certs/ca.pem\"" \
	"ws_url: \"wss://other.booktape.test:$PORT/ws/v4/\"" \
	"rest_url: \"https://other.booktape.test:$PORT/api/v4\""
start_slow other other.booktape.test 0 "$TMP/other.yml"
wait_metric 'orderbook_collector_disconnections_total{exchange="gateio",reason="connection error"}' 2 15
[ "$(metric 'orderbook_collector_messages_received_total{exchange="gateio",symbol="BTC_USDT"}')" = 0 ] ||
	fail "data received from a server whose certificate does not name the host"
stop_rec
pass "connecting by number, TLS still verifies the name"
