#!/usr/bin/env bash
# Fleet operations on real hosts: two Debian 12 hosts with systemd as PID 1
# (tests/fleet/lib-fleet.sh), the exchange simulator on the bridge, and
# the real playbooks driven over SSH by scripts/booktapectl:
#
#   deploy to all hosts -> status 0, rows written and growing everywhere
#   -> one pair goes quiet: status 1 naming host, recorder and pair
#   -> restart -> logs shows the recorder's journal -> a rolling update to
#   a newly built version while the other host records -> a second deploy
#   changes nothing (and --check --diff shows a pending edit without
#   making it) -> remove a recorder -> the package: upgrade restarts only
#   running recorders, purge keeps the data.
#
# The hosts install the .deb from `make deb`; the libraries it depends on
# come from an offline repository made here from its Depends (FLEET.md).
# Every host, the simulator and the bridge are stopped on exit, failed
# or not. Needs root. Prints PASS/FAIL and the time taken.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
# shellcheck source=tests/fleet/lib-fleet.sh
. tests/fleet/lib-fleet.sh

T0=$(date +%s)
CTL=$ROOT/scripts/booktapectl
step() { printf 'fleet-ops: [%3ds] %s\n' $(($(date +%s) - T0)) "$*"; }
fail() {
	printf 'FAIL t-fleet-ops: %s\n' "$*"
	exit 1
}

fleet_init
OUT=$FLEET_DIR/out
mkdir -p "$OUT"
# On failure, show what the commands said (run by fleet_cleanup, whose
# exit status is in $rc).
show_outputs() {
	local f
	[ "$1" -eq 0 ] && return 0
	for f in "$OUT"/*; do
		[ -f "$f" ] || continue
		echo "--- ${f##*/}"
		tail -n 40 "$f"
	done
}
fleet_on_exit "show_outputs \$rc"

# ---------------------------------------------------------------- packages

step "building the packages (this tree, and a newer version of it)"
V1=$(sed -n 's/^VERSION *:= *//p' GNUmakefile)
V2=$V1+fleet2
DEB1=$(make -s deb BUILD="$BUILD" | tail -n 1)
DEB2=$(make -s deb BUILD="$FLEET_DIR/build2" VERSION="$V2" | tail -n 1)
case $DEB1 in /*) ;; *) DEB1=$ROOT/$DEB1 ;; esac
if [ ! -f "$DEB1" ] || [ ! -f "$DEB2" ]; then fail "make deb made no package"; fi

# The bare base image: the package's own Depends must bring the rest.
# shellcheck disable=SC2119 # no extra packages, on purpose
fleet_image
step "offline repository of what the package needs beyond the base image"
REPO=$FLEET_DIR/repo
mkdir -p "$REPO/partial"
download() {
	apt-get -qq --download-only -o Debug::NoLocking=1 -o APT::Sandbox::User=root \
		-o Dir::State::status="$FLEET_IMAGE/var/lib/dpkg/status" \
		-o Dir::Cache::archives="$REPO" install "$DEB1" >>"$OUT/apt-download" 2>&1
}
download || { apt-get -qq update && download; } ||
	fail "cannot download the package's dependencies"
rm -rf "$REPO/partial" "$REPO/lock"
(cd "$REPO" && apt-ftparchive packages . >Packages) 2>>"$OUT/apt-download"
step "repository: $(find "$REPO" -name '*.deb' | wc -l) packages"
FLEET_NSPAWN_ARGS+=("--bind-ro=$REPO:/srv/booktape-repo")

# ---------------------------------------------------------------- hosts

fleet_bridge
"$BUILD/booktape-sim" --listen "$FLEET_GW" --port 0 --port-file "$FLEET_DIR/sim.port" \
	--pairs BTC_USDT,ETH_USDT,SOL_USDT,DOGE_USDT --rate 20 \
	>"$OUT/sim.log" 2>&1 &
SIM_PID=$!
fleet_on_exit "kill $SIM_PID 2>/dev/null; wait $SIM_PID 2>/dev/null"
for _ in $(seq 50); do [ -s "$FLEET_DIR/sim.port" ] && break; sleep 0.1; done
[ -s "$FLEET_DIR/sim.port" ] || fail "simulator did not start: $(cat "$OUT/sim.log")"
SIM_PORT=$(cat "$FLEET_DIR/sim.port")
SIM=http://$FLEET_GW:$SIM_PORT

step "booting two Debian 12 hosts"
fleet_boot h1 h2
ssh-keygen -q -t ed25519 -N '' -f "$FLEET_DIR/id" -C fleet-test
for h in h1 h2; do
	fleet_authorize_key "$h" "$FLEET_DIR/id.pub"
	fleet_wait_ssh "$h"
	fleet_sh "$h" 'echo "deb [trusted=yes] file:/srv/booktape-repo ./" >/etc/apt/sources.list.d/booktape-test.list
		rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*.sources
		apt-get -qq update'
done

# ---------------------------------------------------------------- inventory

INV=$FLEET_DIR/inventory.yml
# write_inventory DEB [EXTRA_H1_RECORDER_YAML] [H2_PAIRS]
write_inventory() {
	local deb=$1 alt=${2-} h2pairs=${3:-"[SOL-USDT]"}
	local feed="ws_url: \"ws://$FLEET_GW:$SIM_PORT/ws/v4/\", rest_url: \"$SIM/api/v4\", stale_after: 5, flush_interval: 1.0"
	cat >"$INV" <<EOF
all:
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: "$FLEET_DIR/id"
    ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    booktape_package_file: "$deb"
    booktape_status_growth_window: 5
    booktape_health_timeout: 60
  children:
    recorders:
      hosts:
        h1:
          ansible_host: "$(fleet_ip h1)"
          booktape_recorders:
            - {name: gateio, exchange: gateio, pairs: [BTC-USDT, ETH-USDT], metrics_listen: "127.0.0.1:8000", config: {$feed}}
$alt
        h2:
          ansible_host: "$(fleet_ip h2)"
          booktape_recorders:
            - {name: gateio, exchange: gateio, pairs: $h2pairs, metrics_listen: "127.0.0.1:8000", config: {$feed}}
          booktape_backup_destinations:
            - {name: local, url: "file:///var/lib/booktape/offsite"}
EOF
}
ALT="            - {name: gateio-alt, exchange: gateio, pairs: [DOGE-USDT], metrics_listen: \"127.0.0.1:8001\", config: {ws_url: \"ws://$FLEET_GW:$SIM_PORT/ws/v4/\", rest_url: \"$SIM/api/v4\", stale_after: 5, flush_interval: 1.0}}"
write_inventory "$DEB1" "$ALT"

ctl() { "$CTL" -i "$INV" "$@"; }

# json_get FILE PYTHON-EXPR: evaluate EXPR on the JSON document `d`.
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---------------------------------------------------------------- deploy

step "recorder deploy (all hosts)"
ctl recorder deploy >"$OUT/deploy1" 2>&1 || fail "deploy exited $?"
for h in h1 h2; do
	fleet_run "$h" dpkg-query -W -f="\${Version}" booktape | grep -qx "$V1" ||
		fail "$h: booktape $V1 not installed"
	fleet_run "$h" systemctl is-enabled --quiet booktape-rotate.timer ||
		fail "$h: rotate timer not enabled"
done
fleet_run h2 systemctl is-enabled --quiet booktape-backup.timer || fail "h2: backup timer off"
if fleet_run h1 systemctl is-enabled --quiet booktape-backup.timer; then
	fail "h1 has no destination but its backup timer is on"
fi
# rotate and backup once now, so status has their textfile metrics.
for h in h1 h2; do
	fleet_run "$h" systemctl start booktape-rotate.service ||
		fail "$h: rotate failed: $(fleet_run "$h" journalctl -u booktape-rotate -n 5 --no-pager)"
done
fleet_run h2 mkdir -p /var/lib/booktape/offsite
fleet_run h2 chown booktape:booktape /var/lib/booktape/offsite
fleet_run h2 systemctl start booktape-backup.service ||
	fail "h2: backup failed: $(fleet_run h2 journalctl -u booktape-backup -n 5 --no-pager)"

step "recorder status: everything healthy"; sleep 2
rc=0
ctl recorder status >"$OUT/status1" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "status exited $rc after deploy"
ctl recorder status --json >"$OUT/status1.json" 2>"$OUT/status1.err" || fail "status --json not 0"
for h in h1 h2; do
	[ "$(json_get "$OUT/status1.json" "all(r['grew'] and r['healthz'] == 200 and r['newest_row_age'] < 5 for r in d['hosts']['$h']['recorders'])")" = True ] ||
		fail "$h: not every recorder writing fresh, growing rows"
	[ "$(json_get "$OUT/status1.json" "d['hosts']['$h']['rotate']['last_success_age'] is not None")" = True ] ||
		fail "$h: status shows no rotate success"
done
[ "$(json_get "$OUT/status1.json" "len(d['hosts']['h1']['recorders'])")" = 2 ] || fail "h1 should run 2 recorders"
[ "$(json_get "$OUT/status1.json" "d['hosts']['h2']['backup']['last_success_age'] is not None")" = True ] ||
	fail "h2: status shows no backup success"
grep -q 'all healthy' "$OUT/status1" || fail "no 'all healthy' in the table"

# ---------------------------------------------------------------- a quiet pair

step "BTC_USDT goes quiet at the exchange: status names h1, gateio, BTC-USDT"
curl -fsS "$SIM/_sim/fault?kind=pause&pair=BTC_USDT" >/dev/null
sleep 7
rc=0
ctl recorder status >"$OUT/status2" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "status exited $rc with a quiet pair (want 1)"
grep -q '^h1: gateio: pair BTC-USDT' "$OUT/status2" || fail "the table does not name h1 gateio BTC-USDT"
if grep -q '^h2:' "$OUT/status2"; then fail "h2 reported unhealthy"; fi
rc=0
ctl recorder status --json >"$OUT/status2.json" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "status --json exited $rc with a quiet pair"
[ "$(json_get "$OUT/status2.json" "[u['pair'] for r in d['hosts']['h1']['recorders'] if r['name'] == 'gateio' for u in r['unsynced']]")" = "['BTC-USDT']" ] ||
	fail "JSON does not list BTC-USDT as the unsynced pair of h1/gateio"
[ "$(json_get "$OUT/status2.json" "d['hosts']['h2']['healthy']")" = True ] || fail "h2 not healthy in JSON"

step "the pair is back; recorder restart h1"
curl -fsS "$SIM/_sim/fault?kind=resume&pair=BTC_USDT" >/dev/null
SINCE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
pid0=$(fleet_run h1 systemctl show -p MainPID --value booktape-recorder@gateio.service)
ctl recorder restart h1 >"$OUT/restart" 2>&1 || fail "restart exited $?"
pid1=$(fleet_run h1 systemctl show -p MainPID --value booktape-recorder@gateio.service)
[ "$pid0" != "$pid1" ] || fail "restart did not restart gateio on h1"
ctl recorder status >"$OUT/status3" 2>&1 || fail "status not 0 after the restart"

step "recorder logs h1 gateio"
ctl recorder logs h1 gateio --since "$SINCE" >"$OUT/logs" 2>&1 || fail "logs exited $?"
grep -q "\[$pid1\]: .*connected 'ws://$FLEET_GW:$SIM_PORT" "$OUT/logs" ||
	fail "the journal lines of the restarted recorder are missing"
grep -q 'Stopped.*booktape order-book recorder (gateio)' "$OUT/logs" ||
	fail "systemd's restart lines are missing"

timeout 6 "$CTL" -i "$INV" recorder logs h1 gateio --follow --lines 3 >"$OUT/follow" 2>&1 || true
grep -q 'booktape-recorder' "$OUT/follow" || fail "logs --follow streamed nothing"

step "status of a one-off host with the old tool's flags (no inventory)"
ANSIBLE_PRIVATE_KEY_FILE=$FLEET_DIR/id ANSIBLE_HOST_KEY_CHECKING=False \
	ANSIBLE_SSH_ARGS="-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR" \
	"$CTL" recorder status --host "$(fleet_ip h2)" --ssh-user root --exchange gate_io \
	--pairs SOL-USDT --metrics-port 8000 >"$OUT/oneoff" 2>&1 || fail "one-off status exited $?"
grep -q "^$(fleet_ip h2) *gateio *active *200" "$OUT/oneoff" || fail "one-off status table is wrong"

# ---------------------------------------------------------------- rolling update

step "recorder update to $V2, one host at a time, while sampling /healthz"
mon() {
	local h code
	while :; do
		for h in h1 h2; do
			code=$(fleet_run "$h" curl -s -o /dev/null -m 1 -w '%{http_code}' \
				127.0.0.1:8000/healthz 2>/dev/null) || true
			printf '%s %s %s\n' "$(date +%s.%N)" "$h" "${code:-000}"
		done
		sleep 0.3
	done
}
mon >"$OUT/healthz-samples" &
MON=$!
fleet_on_exit "kill $MON 2>/dev/null"
ctl recorder update --package "$DEB2" >"$OUT/update" 2>&1 || fail "update exited $?"
kill "$MON"
wait "$MON" 2>/dev/null || true
for h in h1 h2; do
	fleet_run "$h" dpkg-query -W -f="\${Version}" booktape | grep -qx "$V2" || fail "$h not on $V2"
	# Read the whole page first: with pipefail, grep -q quitting at the
	# match can fail the pipe (SIGPIPE to ssh) while the answer was yes.
	m=$(fleet_run "$h" curl -s 127.0.0.1:8000/metrics) || fail "$h's /metrics did not answer"
	grep -q "booktape_build_info{version=\"$V2\"}" <<<"$m" ||
		fail "$h's recorder does not run $V2"
done
# Rolling: the hosts were never both down, and each went down once.
python3 - "$OUT/healthz-samples" <<'PY' || fail "update was not rolling: $(cat "$OUT/rolling")"
import sys
rows = [l.split() for l in open(sys.argv[1])]
down = {"h1": [], "h2": []}
for t, h, code in rows:
    down[h].append((float(t), code != "200"))
# Both down at nearly the same moment (one sample round apart)?
bad = [t for t, d in down["h1"] if d and any(abs(t - u) < 0.2 and e for u, e in down["h2"])]
windows = {h: sum(1 for i in range(1, len(s)) if s[i][1] and not s[i - 1][1]) for h, s in down.items()}
out = open(sys.argv[1].replace("healthz-samples", "rolling"), "w")
print("samples", len(rows), "both down", len(bad), "down windows", windows, file=out)
sys.exit(1 if bad or any(w > 1 for w in windows.values()) else 0)
PY
grep -q 'TASK \[booktape_health : Wait until' "$OUT/update" || fail "update did not wait for health"

step "an update stops at the first failing host (a config h1 refuses)"
sed -i '0,/stale_after: 5/s//stale_after: 5, depth_limit: 0/' "$INV"
rc=0
ctl recorder update --package "$DEB2" --json >"$OUT/update-bad.json" 2>"$OUT/update-bad.err" || rc=$?
[ "$rc" -eq 1 ] || fail "update with a bad config exited $rc (want 1)"
[ "$(json_get "$OUT/update-bad.json" "sorted(d['hosts'])")" = "['h1']" ] ||
	fail "the update went on past h1: $(cat "$OUT/update-bad.json")"
grep -q 'depth_limit' "$OUT/update-bad.json" || fail "the failure does not say what the host refused"
fleet_run h1 grep -q 'depth_limit' /etc/booktape/gateio.yml && fail "h1 took the bad config"

step "a second deploy changes nothing"
write_inventory "$DEB2" "$ALT"
ctl recorder deploy --json >"$OUT/deploy2.json" 2>"$OUT/deploy2.err" || fail "second deploy exited $?"
[ "$(json_get "$OUT/deploy2.json" "sum(h['changed'] for h in d['hosts'].values())")" = 0 ] ||
	fail "second deploy changed something: $(cat "$OUT/deploy2.json")"

step "deploy --check --diff shows a pending edit and makes none"
write_inventory "$DEB2" "$ALT" "[SOL-USDT, XRP-USDT]"
ctl recorder deploy h2 --check --diff >"$OUT/check" 2>&1 || fail "check mode exited $?"
grep -q '^+  trading_pairs: \["SOL-USDT", "XRP-USDT"\]' "$OUT/check" || fail "the diff does not show the new pair"
fleet_run h2 grep -q 'XRP' /etc/booktape/gateio.yml && fail "check mode changed the host"
write_inventory "$DEB2" "$ALT"

step "recorder remove h1 gateio-alt"
ctl recorder remove h1 gateio-alt >"$OUT/remove" 2>&1 || fail "remove exited $?"
fleet_run h1 systemctl is-active --quiet booktape-recorder@gateio-alt.service && fail "gateio-alt still running"
fleet_run h1 test ! -e /etc/booktape/gateio-alt.yml || fail "gateio-alt's config still there"
fleet_run h1 systemctl is-active --quiet booktape-recorder@gateio.service || fail "gateio stopped too"
write_inventory "$DEB2"
ctl recorder status >"$OUT/status4" 2>&1 || fail "status not 0 after the removal"

# ---------------------------------------------------------------- the package

step "package: an upgrade restarts only running recorders; purge keeps data"
fleet_copy_in h2 "$DEB1" /root/old.deb
fleet_copy_in h2 "$DEB2" /root/new.deb
fleet_run h2 systemctl stop booktape-recorder@gateio.service
fleet_run h2 apt-get -qq install --allow-downgrades -y /root/old.deb >"$OUT/pkg" 2>&1
fleet_run h2 systemctl is-active --quiet booktape-recorder@gateio.service && fail "an upgrade started a stopped recorder"
fleet_run h2 systemctl start booktape-recorder@gateio.service
pid0=$(fleet_run h2 systemctl show -p MainPID --value booktape-recorder@gateio.service)
fleet_run h2 apt-get -qq install -y /root/new.deb >>"$OUT/pkg" 2>&1
pid1=$(fleet_run h2 systemctl show -p MainPID --value booktape-recorder@gateio.service)
if [ "$pid1" = 0 ] || [ "$pid0" = "$pid1" ]; then fail "upgrade did not restart the running recorder"; fi
fleet_run h2 apt-get -qq purge -y booktape >>"$OUT/pkg" 2>&1 || fail "purge failed"
fleet_run h2 pgrep -u booktape >/dev/null && fail "booktape processes left after purge"
fleet_run h2 test ! -e /etc/booktape || fail "/etc/booktape left after purge"
fleet_run h2 sh -c 'ls /var/lib/booktape/live/gateio/*/*/SOL_USDT.* >/dev/null' || fail "purge lost the data"

printf 'PASS t-fleet-ops (%d s)\n' $(($(date +%s) - T0))
