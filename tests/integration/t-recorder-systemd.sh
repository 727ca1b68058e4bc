#!/usr/bin/env bash
# systemd integration: READY=1 once recording, WATCHDOG=1 at least every
# WatchdogSec/2 from the event loop, STOPPING=1 on SIGTERM (to a fake
# NOTIFY_SOCKET); log lines carry <N> priorities under $JOURNAL_STREAM;
# metrics_listen 127.0.0.1 binds loopback only (lws 4.1 would otherwise
# bind every interface).
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
NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=1000000 JOURNAL_STREAM=8:1 \
	"$REC" --config "$TMP/rec.yml" >"$TMP/rec.log" 2>&1 &
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
pass "sd_notify READY/WATCHDOG/STOPPING, journald priorities, loopback-only metrics"
