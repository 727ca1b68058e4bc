#!/usr/bin/env bash
# The shipped units on a real Debian 12 host with systemd as PID 1 (an
# nspawn test host, tests/fleet/lib-fleet.sh), installed and started the
# way the README's "Running under systemd" says: `make install
# PREFIX=/usr` (staged here, the host has no compiler), systemd-sysusers,
# configs in /etc/booktape, `systemctl enable --now` of the recorder and
# both timers. The exchange is build/booktape-sim on the bridge address.
# Checks: the recorder runs as booktape, is notify-ready, writes data
# that grows, serves metrics on loopback only (not reachable from the
# bridge, lws's getifaddrs fallback gone), is restarted by the watchdog
# after SIGSTOP and stops cleanly; rotate seals an hour and backup ships
# it under their own hardening, and both textfiles reach node_exporter;
# a bad config fails once, its file:line:column at error priority;
# `systemd-analyze security` of the recorder stays at or below 1.2.
# Needs root, systemd-container and mmdebstrap (scripts/install-deps.sh).
# Scripts for the host are single-quoted on purpose: they expand there.
# shellcheck disable=SC2016
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
# shellcheck source=SCRIPTDIR/lib-fleet.sh
. "$ROOT/tests/fleet/lib-fleet.sh"

# What the booktape programs link, besides the base image.
RUNTIME_PKGS=(libwebsockets17 libcsv3 libarchive13 libyaml-0-2 libcurl4
	libssl3 zlib1g libsystemd0 prometheus-node-exporter)
SECURITY_MAX=1.2
T0=$(date +%s)
NPASS=0

fail() {
	echo "FAIL: $*"
	if [ -n "${FLEET_DIR:-}" ] && [ -e "$FLEET_DIR/hosts/h1/leader" ]; then
		echo "--- journal of h1 (booktape units, last 60 lines)"
		fleet_run h1 journalctl -b --no-pager -o short-monotonic -n 60 \
			-u 'booktape-*' 2>&1 | sed 's/^/    /' || true
	fi
	exit 1
}

pass() {
	NPASS=$((NPASS + 1))
	echo "PASS: $* ($(($(date +%s) - T0)) s)"
}

# on_h1 SCRIPT: run a bash script in the host, stdout returned.
on_h1() {
	fleet_sh h1 "$@"
}

# wait_for SECONDS DESC SCRIPT: until SCRIPT (in the host) succeeds;
# fails the test after SECONDS, or returns 1 when the caller tests it.
wait_for() {
	local t=$1 what=$2 i
	shift 2
	for i in $(seq 1 $((t * 5))); do
		on_h1 "$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "not within $t s: $what"
	return 1
}

# prop UNIT PROPERTY: one `systemctl show` value.
prop() {
	on_h1 "systemctl show -P $2 $1"
}

fleet_init
[ -x "$BUILD/booktape-recorder" ] || fail "build first: make"

# ---- the pieces: staged install, image, bridge, exchange, host
make -s -C "$ROOT" BUILD="$BUILD" install PREFIX=/usr \
	DESTDIR="$FLEET_DIR/stage" >"$FLEET_DIR/install.log" 2>&1 ||
	fail "make install: $(tail -5 "$FLEET_DIR/install.log")"
grep -q '^ExecStart=/usr/bin/booktape-recorder ' \
	"$FLEET_DIR/stage/lib/systemd/system/booktape-recorder@.service" ||
	fail "make install PREFIX=/usr: ExecStart is not under /usr/bin"
# A finished hour for rotate to seal, written by the recorder's writer.
HOUR=$(date -u -d '-3 hours' +%Y-%m-%dT%H:00Z)
"$BUILD/helpers/rotate-hourgen" "$FLEET_DIR/plant" gateio "$HOUR" 1 500 ||
	fail "rotate-hourgen"

fleet_image "${RUNTIME_PKGS[@]}"
pass "base image $(basename "$FLEET_IMAGE")"
fleet_bridge
"$BUILD/booktape-sim" --listen "$FLEET_GW" --port-file "$FLEET_DIR/sim.port" \
	--pairs BTC_USDT,ETH_USDT --rate 50 2>"$FLEET_DIR/sim.log" &
SIM_PID=$!
fleet_on_exit "kill $SIM_PID 2>/dev/null; wait $SIM_PID 2>/dev/null"
for _ in $(seq 100); do
	[ -s "$FLEET_DIR/sim.port" ] && break
	kill -0 "$SIM_PID" 2>/dev/null || fail "sim exited: $(cat "$FLEET_DIR/sim.log")"
	sleep 0.05
done
SIM_PORT=$(cat "$FLEET_DIR/sim.port")
[ "$(ss -ltnH "sport = :$SIM_PORT" | awk '{print $4}')" = "$FLEET_GW:$SIM_PORT" ] ||
	fail "the sim listens beyond $FLEET_GW: $(ss -ltnH "sport = :$SIM_PORT")"

fleet_boot h1
HOST_IP=$(fleet_ip h1)
pass "host h1 booted at $HOST_IP, simulator on $FLEET_GW:$SIM_PORT"

# ---- install as the README says
tar -C "$FLEET_DIR/stage" -cf - . |
	tar -C "$(fleet_root h1)" -xf - --keep-directory-symlink
mkdir -p "$(fleet_root h1)/root/booktape-test"
cp -a "$FLEET_DIR/plant/live" "$(fleet_root h1)/root/booktape-test/"
cat >"$(fleet_root h1)/root/booktape-test/gateio.yml" <<EOF
config:
  connector_name: gate_io
  trading_pairs: ["BTC-USDT", "ETH-USDT"]
  snapshot_interval: 1
  flush_interval: 0.2
  ws_url: "ws://$FLEET_GW:$SIM_PORT/ws/v4/"
  rest_url: "http://$FLEET_GW:$SIM_PORT/api/v4"
EOF
cat >"$(fleet_root h1)/root/booktape-test/backup.yml" <<EOF
config:
  data_dir: "/var/lib/booktape"
  textfile_dir: "/var/lib/prometheus/node-exporter"
  destinations:
    - name: "nas"
      url: "file:///srv/offsite"
EOF
printf 'config:\n  connector_name: gate_io\n  trading_pairs: ["BTC-USDT"]\n  depth_limitt: 5\n' \
	>"$(fleet_root h1)/root/booktape-test/bad.yml"

on_h1 '
systemd-sysusers
systemctl daemon-reload
install -d -m 0750 -g booktape /etc/booktape
ex=/usr/share/booktape/examples
install -m 0640 -g booktape $ex/orderbook_tick_gateio.yml /etc/booktape/gateio.yml
install -m 0640 -g booktape $ex/rotate.yml /etc/booktape/rotate.yml
install -m 0640 -g booktape $ex/backup.yml /etc/booktape/backup.yml
# The operator edits the examples: here, our exchange and destination.
cp /root/booktape-test/gateio.yml /root/booktape-test/backup.yml /etc/booktape/
# A file:// destination needs write access under ProtectSystem=strict.
install -d -o booktape -g booktape /srv/offsite
mkdir -p /etc/systemd/system/booktape-backup.service.d
printf "[Service]\nReadWritePaths=-/srv/offsite\n" \
	>/etc/systemd/system/booktape-backup.service.d/destination.conf
booktape-recorder --check-config /etc/booktape/gateio.yml >/dev/null
# Test only: a 3 s watchdog, so the SIGSTOP check takes seconds, not 30.
mkdir -p /run/systemd/system/booktape-recorder@gateio.service.d
printf "[Service]\nWatchdogSec=3s\nRestartSec=1s\n" \
	>/run/systemd/system/booktape-recorder@gateio.service.d/test.conf
systemctl daemon-reload
systemctl enable --now booktape-recorder@gateio booktape-rotate.timer booktape-backup.timer
' >"$FLEET_DIR/setup.log" 2>&1 || fail "README install steps: $(tail -5 "$FLEET_DIR/setup.log")"
pass "installed and enabled as the README says"

# ---- the recorder
[ "$(prop booktape-recorder@gateio ActiveState)" = active ] ||
	fail "recorder not active: $(prop booktape-recorder@gateio Result)"
[ "$(prop booktape-recorder@gateio Type)" = notify ] || fail "not Type=notify"
status=$(prop booktape-recorder@gateio StatusText)
case $status in "recording 2 pairs of gateio"*) ;; *) fail "no READY status: '$status'" ;; esac
pid=$(prop booktape-recorder@gateio MainPID)
user=$(on_h1 "ps -o user= -p $pid")
[ "$user" = booktape ] || fail "recorder runs as '$user'"
[ "$(on_h1 'stat -c %U:%a /var/lib/booktape')" = booktape:755 ] ||
	fail "/var/lib/booktape: $(on_h1 'stat -c %U:%a /var/lib/booktape')"
pass "recorder active (notify: '$status') as booktape, state directory made by systemd"

wait_for 15 "/healthz 200 on 127.0.0.1:8000" 'curl -sf -m 1 127.0.0.1:8000/healthz' ||
	fail "recorder not healthy: $(on_h1 'curl -s 127.0.0.1:8000/healthz')"
listen=$(on_h1 "ss -ltnH 'sport = :8000'" | awk '{print $4}' | paste -sd' ')
[ "$listen" = "127.0.0.1:8000" ] || fail "metrics listen on '$listen', not 127.0.0.1:8000 alone"
rc=0
curl -s -m 3 -o /dev/null "http://$HOST_IP:8000/healthz" || rc=$?
[ "$rc" -eq 7 ] || fail "/healthz from the bridge: curl exit $rc, wanted 7 (refused)"
on_h1 'journalctl -b -u booktape-recorder@gateio -o cat | grep -q getifaddrs' &&
	fail "lws asked for interfaces: it may bind more than asked"
pass "metrics on 127.0.0.1:8000 only; refused from $FLEET_GW"

size_of() {
	on_h1 'find /var/lib/booktape/live -name "*.csv" -newer /etc/booktape/gateio.yml -printf "%s\n" | awk "{ s += \$1 } END { print s + 0 }"'
}
s1=$(size_of)
sleep 2
s2=$(size_of)
if [ "$s1" -eq 0 ] || [ "$s2" -le "$s1" ]; then
	fail "data not growing: $s1 then $s2 bytes"
fi
pass "data written and growing ($s1 -> $s2 bytes)"

exposure=$(on_h1 'systemd-analyze security booktape-recorder@gateio.service' |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail "no exposure figure from systemd-analyze security"
awk -v e="$exposure" -v m="$SECURITY_MAX" 'BEGIN { exit !(e <= m) }' ||
	fail "systemd-analyze security: $exposure, above $SECURITY_MAX"
pass "systemd-analyze security exposure $exposure (at most $SECURITY_MAX)"

# ---- rotate and backup, by hand as their timers would start them
for t in rotate backup; do
	[ "$(on_h1 "systemctl is-enabled booktape-$t.timer; systemctl is-active booktape-$t.timer" | paste -sd' ')" = "enabled active" ] ||
		fail "booktape-$t.timer is not enabled and active"
	[ -n "$(prop "booktape-$t.timer" NextElapseUSecRealtime)" ] || fail "$t timer has no next run"
done
# A finished hour, as the recorder would have left it.
d=${HOUR%%T*}
on_h1 "cp -a /root/booktape-test/live/gateio/$d/. /var/lib/booktape/live/gateio/$d/ &&
	chown -R booktape:booktape /var/lib/booktape/live/gateio/$d"
# run_job rotate|backup: start the oneshot as its timer would; it must succeed.
run_job() {
	on_h1 "systemctl start booktape-$1.service" >/dev/null 2>&1 ||
		fail "booktape-$1.service failed: $(on_h1 "journalctl -u booktape-$1 -o cat --no-pager | tail -5")"
	[ "$(prop "booktape-$1.service" Result)" = success ] || fail "$1: result not success"
}
textdir=/var/lib/prometheus/node-exporter
[ "$(on_h1 "stat -c %U:%a $textdir")" = root:755 ] ||
	fail "$textdir is not as Debian ships it: $(on_h1 "stat -c %U:%a $textdir")"
run_job rotate
archive=/var/lib/booktape/archive/gateio/${HOUR%%T*}/gateio_${HOUR%%:*}.tar.gz
on_h1 "test -s $archive && test -s $archive.sha256" || fail "no $archive"
# A host without node_exporter: no textfile directory, not even its parent.
on_h1 'rm -rf /var/lib/prometheus'
run_job backup
on_h1 "find /srv/offsite -name $(basename "$archive") | grep -q ." || fail "archive not shipped to /srv/offsite"
run_job rotate
pass "rotate sealed $(basename "$archive"), backup shipped it, both under their hardening, with $textdir as Debian ships it and with none"

# Only the textfile collector: a full scrape takes a second here.
textfiles_seen='
m=$(curl -sfg -m 2 "127.0.0.1:9100/metrics?collect[]=textfile")
echo "$m" | grep -Eq "^booktape_rotate_last_success_timestamp_seconds(\{[^}]*\})? [1-9]"
echo "$m" | grep -Eq "^booktape_backup_last_success_timestamp_seconds(\{[^}]*\})? [1-9]"
echo "$m" | grep -q "^node_textfile_scrape_error 0"'
if ! wait_for 10 "both textfiles at node_exporter" "$textfiles_seen"; then
	on_h1 'ls -l /var/lib/prometheus/node-exporter; curl -sg "127.0.0.1:9100/metrics?collect[]=textfile" | grep -E "^(booktape_|node_textfile)"
	journalctl -b -u prometheus-node-exporter -o cat | tail -5' | sed 's/^/    /'
	fail "node_exporter does not show both textfiles"
fi
pass "booktape_rotate_* and booktape_backup_* reach node_exporter (textfile dir now $(on_h1 "stat -c %U:%a $textdir"))"

# ---- a bad config fails once; meanwhile the watchdog meets a stopped recorder
on_h1 'cp /root/booktape-test/bad.yml /etc/booktape/bad.yml; chgrp booktape /etc/booktape/bad.yml
systemctl start booktape-recorder@bad' >/dev/null 2>&1 && fail "a bad config started"
restarts0=$(prop booktape-recorder@gateio NRestarts)
on_h1 "kill -STOP $pid"
wait_for 30 "watchdog restart after SIGSTOP" \
	"[ \"\$(systemctl show -P NRestarts booktape-recorder@gateio)\" -gt $restarts0 ] &&
	 [ \"\$(systemctl show -P MainPID booktape-recorder@gateio)\" != $pid ] &&
	 systemctl is-active -q booktape-recorder@gateio" ||
	fail "no restart after SIGSTOP"
on_h1 'journalctl -b -u booktape-recorder@gateio -o cat | grep -q "Watchdog timeout"' ||
	fail "restarted, but not by the watchdog"
wait_for 15 "/healthz 200 after the restart" 'curl -sf -m 1 127.0.0.1:8000/healthz' ||
	fail "not healthy after the watchdog restart"
pass "watchdog restarted the stopped recorder (pid $pid -> $(prop booktape-recorder@gateio MainPID))"

sleep 6 # RestartSec=5s: a restart of the bad instance would be due by now
[ "$(prop booktape-recorder@bad ExecMainStatus)" = 2 ] || fail "bad config: exit $(prop booktape-recorder@bad ExecMainStatus)"
[ "$(prop booktape-recorder@bad NRestarts)" = 0 ] || fail "bad config restarted $(prop booktape-recorder@bad NRestarts) times"
[ "$(prop booktape-recorder@bad ActiveState)" = failed ] || fail "bad config unit not failed"
starts=$(on_h1 'journalctl -b -u booktape-recorder@bad -o cat | grep -c "^Starting "')
[ "$starts" = 1 ] || fail "bad config started $starts times"
err=$(on_h1 'journalctl -b -u booktape-recorder@bad -p err -o cat')
echo "$err" | grep -q "^/etc/booktape/bad.yml:4:3: unknown key 'depth_limitt'" ||
	fail "no file:line:column at error priority: '$err'"
pass "bad config: exit 2 once, no restart, '$(echo "$err" | head -1)' at priority err"

# ---- clean stop
on_h1 'systemctl stop booktape-recorder@gateio'
result=$(prop booktape-recorder@gateio Result)
code=$(prop booktape-recorder@gateio ExecMainStatus)
[ "$result:$code" = success:0 ] || fail "stop: result $result, exit $code"
pass "systemctl stop: exit 0"

echo "real-host test: $(($(date +%s) - T0)) s"
echo "units-host: $NPASS passed, 0 failed"
