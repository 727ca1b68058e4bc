#!/usr/bin/env bash
# systemd integration: READY=1 once recording, WATCHDOG=1 at least every
# WatchdogSec/2 from the event loop, STOPPING=1 on SIGTERM (to a fake
# NOTIFY_SOCKET); log lines carry <N> priorities under $JOURNAL_STREAM;
# metrics_listen binds exactly its address under the unit's
# RestrictAddressFamilies= (tests/helpers/restrict-af: lws 4.1 binds every
# interface there, its getifaddrs() failing), or the recorder exits 1
# saying why.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

start_sim sim --pairs BTC_USDT --rate 100
write_config "$TMP/rec.yml" '"BTC-USDT"'
python3 - "$TMP/notify.sock" "$TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w", buffering=1) as out:
    try:
        while True:
            out.write(s.recv(4096).decode() + "\n---\n")
    except socket.timeout:
        pass
PY
LISTENER=$!
SIM_PIDS+=("$LISTENER")
for _ in $(seq 50); do [ -S "$TMP/notify.sock" ] && break; sleep 0.05; done
RAF=$BUILD/helpers/restrict-af
NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=1000000 JOURNAL_STREAM=8:1 \
	"$RAF" "$REC" --config "$TMP/rec.yml" >"$TMP/rec.log" 2>&1 &
REC_PID=$!
REC_PIDS+=("$REC_PID")
wait_healthy 10
sleep 2
ss -ltnH "sport = :$MPORT" >"$TMP/ss.txt"
grep -q "127.0.0.1:$MPORT" "$TMP/ss.txt" || fail "metrics not on 127.0.0.1: $(cat "$TMP/ss.txt")"
if grep -Eq "(\*|\[::\]|0\.0\.0\.0):$MPORT" "$TMP/ss.txt"; then
	fail "metrics bound beyond loopback: $(cat "$TMP/ss.txt")"
fi
stop_rec
sleep 0.2
grep -q '^READY=1' "$TMP/notify.log" || fail "no READY=1: $(cat "$TMP/notify.log")"
n=$(grep -c '^WATCHDOG=1' "$TMP/notify.log")
[ "$n" -ge 3 ] || fail "only $n watchdog pings in 2+ s with WatchdogSec=1"
grep -q '^STOPPING=1' "$TMP/notify.log" || fail "no STOPPING=1"
grep -q '^<5>booktape-recorder: connected' "$TMP/rec.log" ||
	fail "no <N> priority prefix under JOURNAL_STREAM: $(head -3 "$TMP/rec.log")"
grep -q getifaddrs "$TMP/rec.log" && fail "lws asked for interfaces: $(grep getifaddrs "$TMP/rec.log")"
pass "sd_notify READY/WATCHDOG/STOPPING, journald priorities, loopback-only metrics"

# [::1] is that address alone, not IPv4 too.
write_config "$TMP/v6.yml" '"BTC-USDT"' "metrics_listen: \"[::1]:$(free_port)\""
"$RAF" "$REC" --config "$TMP/v6.yml" >"$TMP/v6.log" 2>&1 &
REC_PID=$!
REC_PIDS+=("$REC_PID")
v6port=$(sed -n 's/.*metrics_listen: "\[::1\]:\([0-9]*\)".*/\1/p' "$TMP/v6.yml")
for _ in $(seq 50); do
	curl -sf --max-time 1 -o /dev/null "http://[::1]:$v6port/metrics" && break
	sleep 0.1
done
ss -ltnH "sport = :$v6port" >"$TMP/ss6.txt"
[ "$(awk '{print $4}' "$TMP/ss6.txt")" = "[::1]:$v6port" ] ||
	fail "[::1] listener is not [::1] alone: $(cat "$TMP/ss6.txt")"
stop_rec
pass "metrics_listen [::1] binds [::1] only"

# An address this machine does not have (TEST-NET-2; bind sends nothing)
# is an error that names it: never a fallback to every interface.
write_config "$TMP/bad.yml" '"BTC-USDT"' 'metrics_listen: "198.51.100.7:18999"'
rc=0
timeout 10 "$RAF" "$REC" --config "$TMP/bad.yml" >"$TMP/bad.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "unbindable metrics_listen: exit $rc, wanted 1"
grep -q "listen on '198.51.100.7:18999'.*Cannot assign requested address" "$TMP/bad.log" ||
	fail "no clear listen error: $(cat "$TMP/bad.log")"
ss -ltnH "sport = :18999" | grep -q . && fail "something listens on :18999"
pass "an address that cannot be bound: exit 1, named in the error"
