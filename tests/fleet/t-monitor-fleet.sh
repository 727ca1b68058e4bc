#!/usr/bin/env bash
# The monitoring stack and the VPN on real hosts: a monitor node and two
# recorder hosts (tests/fleet/lib-fleet.sh), the exchange simulator and a
# webhook receiver on the bridge, driven by scripts/booktapectl:
#
#   vpn setup (WireGuard over wireguard-go: no kernel module here; a
#   second run changes nothing) -> recorder deploy with /metrics on the
#   tunnel addresses only -> monitor deploy (and again: no change) ->
#   Prometheus scrapes both recorders and every node_exporter over the
#   tunnel, every dashboard query returns data, every rule evaluates,
#   monitor health 0 -> add-target without a redeploy -> stop a recorder:
#   BooktapeRecorderDown reaches the webhook within for + one evaluation
#   (+ scrape, group_wait, slack), monitor health 1 naming the target ->
#   start it: resolved, health 0 -> stop the simulator: BooktapeDataStale
#   fires, BooktapeRecorderDisconnected reaches the webhook, health lists
#   them (the monitor itself stays healthy: exit 0).
#
# Prometheus runs with 1 s intervals and a copy of the shipped rules whose
# only difference is `for:` (checked with a diff, as in
# t-monitoring-stack.sh). Every host, the simulator, the receiver and the
# bridge are stopped on exit, failed or not. Needs root. Prints PASS/FAIL
# and the time taken.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
# shellcheck source=tests/fleet/lib-fleet.sh
. tests/fleet/lib-fleet.sh

T0=$(date +%s)
CTL=$ROOT/scripts/booktapectl
M=$ROOT/scripts/monitoring
MCHECK=$ROOT/tests/integration/monitoring_check.py
FOR=3   # seconds: every rule's `for:` here
EVAL=1  # scrape and evaluation interval
GROUP=1 # Alertmanager group_wait and group_interval
# One scrape + for + one evaluation + group_wait, plus slack for a loaded
# 2-core machine running three hosts.
LIMIT=$((1 + FOR + EVAL + GROUP + 8))
step() { printf 'monitor-fleet: [%3ds] %s\n' $(($(date +%s) - T0)) "$*"; }
fail() {
	printf 'FAIL t-monitor-fleet: %s\n' "$*"
	exit 1
}

fleet_init
OUT=$FLEET_DIR/out
mkdir -p "$OUT"
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
# HOLD=SECONDS: on failure, keep the hosts up that long to look inside.
fleet_on_exit "[ -z \"\${HOLD:-}\" ] || [ \$rc -eq 0 ] || { echo HOLD \$FLEET_DIR; sleep \$HOLD; }"

# ---------------------------------------------------------------- packages

step "building the package"
DEB=$(make -s deb BUILD="$BUILD" | tail -n 1)
case $DEB in /*) ;; *) DEB=$ROOT/$DEB ;; esac
[ -f "$DEB" ] || fail "make deb made no package"

# shellcheck disable=SC2119 # no extra packages, on purpose
fleet_image
step "offline repository: the package's needs, WireGuard, Prometheus"
# Downloads are kept between runs (apt skips what is there); the repo is
# a copy of the cache with its own index.
DEBS=$FLEET_CACHE/debs-monitor
REPO=$FLEET_DIR/repo
mkdir -p "$DEBS/partial" "$REPO"
download() {
	apt-get -qq --download-only -o Debug::NoLocking=1 -o APT::Sandbox::User=root \
		-o APT::Install-Recommends=false \
		-o Dir::State::status="$FLEET_IMAGE/var/lib/dpkg/status" \
		-o Dir::Cache::archives="$DEBS" install "$DEB" wireguard-tools wireguard-go \
		iputils-ping prometheus prometheus-alertmanager prometheus-node-exporter \
		>>"$OUT/apt-download" 2>&1
}
download || { apt-get -qq update && download; } || fail "cannot download the packages"
cp -l "$DEBS"/*.deb "$REPO"/ 2>/dev/null || cp "$DEBS"/*.deb "$REPO"/
(cd "$REPO" && apt-ftparchive packages . >Packages) 2>>"$OUT/apt-download"
FLEET_NSPAWN_ARGS+=("--bind-ro=$REPO:/srv/booktape-repo")

# ---------------------------------------------------------------- bridge services

fleet_bridge
"$BUILD/booktape-sim" --listen "$FLEET_GW" --port 0 --port-file "$FLEET_DIR/sim.port" \
	--pairs BTC_USDT,ETH_USDT,SOL_USDT --rate 20 >"$OUT/sim.log" 2>&1 &
SIM_PID=$!
fleet_on_exit "kill $SIM_PID 2>/dev/null; wait $SIM_PID 2>/dev/null"
python3 tests/helpers/webhook_sink.py "$FLEET_DIR/hook.port" "$FLEET_DIR/hook.out" "$FLEET_GW" \
	2>"$OUT/webhook.log" &
HOOK_PID=$!
fleet_on_exit "kill $HOOK_PID 2>/dev/null"
for _ in $(seq 50); do
	[ -s "$FLEET_DIR/sim.port" ] && [ -s "$FLEET_DIR/hook.port" ] && break
	sleep 0.1
done
[ -s "$FLEET_DIR/sim.port" ] || fail "simulator did not start: $(cat "$OUT/sim.log")"
[ -s "$FLEET_DIR/hook.port" ] || fail "webhook receiver did not start"
SIM_PORT=$(cat "$FLEET_DIR/sim.port")
SIM=http://$FLEET_GW:$SIM_PORT
HOOK=http://$FLEET_GW:$(cat "$FLEET_DIR/hook.port")/booktape

# ---------------------------------------------------------------- hosts

step "booting a monitor node and two recorder hosts"
fleet_boot mon h1 h2
ssh-keygen -q -t ed25519 -N '' -f "$FLEET_DIR/id" -C fleet-test
for h in mon h1 h2; do
	fleet_authorize_key "$h" "$FLEET_DIR/id.pub"
	fleet_wait_ssh "$h"
	fleet_sh "$h" 'echo "deb [trusted=yes] file:/srv/booktape-repo ./" >/etc/apt/sources.list.d/booktape-test.list
		rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*.sources
		apt-get -qq update'
done
# "Grafana is present" on the monitor node: its provisioning goes there.
fleet_run mon mkdir -p /etc/grafana

# The shipped rules, only `for:` shortened (checked).
sed -E "s/^( +for:) .*/\1 ${FOR}s/" "$M/booktape-rules.yml" >"$FLEET_DIR/rules.yml"
diff <(grep -v '^ *for:' "$M/booktape-rules.yml") <(grep -v '^ *for:' "$FLEET_DIR/rules.yml") \
	>"$OUT/rules.diff" || fail "test rules differ beyond for:"
[ "$(grep -c "^ *for: ${FOR}s\$" "$FLEET_DIR/rules.yml")" -eq "$(grep -c '^ *for:' "$M/booktape-rules.yml")" ] ||
	fail "for: not replaced everywhere"

INV=$FLEET_DIR/inventory.yml
FEED="ws_url: \"ws://$FLEET_GW:$SIM_PORT/ws/v4/\", rest_url: \"$SIM/api/v4\", stale_after: 5, flush_interval: 1.0"
cat >"$INV" <<EOF
all:
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: "$FLEET_DIR/id"
    ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    booktape_package_file: "$DEB"
    booktape_health_timeout: 60
    booktape_vpn_network: 10.0.0.0/24
    # No WireGuard kernel module on these hosts: wg-quick uses wireguard-go.
    booktape_vpn_extra_packages: [wireguard-go]
    # What the dashboard and rules read, within a 1 s scrape on a busy machine.
    booktape_node_exporter_extra_args: "--collector.disable-defaults --collector.textfile --collector.filesystem"
  children:
    monitor:
      hosts:
        mon:
          ansible_host: "$(fleet_ip mon)"
          booktape_vpn_ip: 10.0.0.1
          booktape_alert_webhook_url: "$HOOK"
          booktape_monitor_rules_file: "$FLEET_DIR/rules.yml"
          booktape_monitor_scrape_interval: ${EVAL}s
          booktape_monitor_scrape_timeout: ${EVAL}s
          booktape_monitor_evaluation_interval: ${EVAL}s
          booktape_alert_group_wait: ${GROUP}s
          booktape_alert_group_interval: ${GROUP}s
    recorders:
      hosts:
        h1:
          ansible_host: "$(fleet_ip h1)"
          booktape_vpn_ip: 10.0.0.2
          booktape_recorders:
            - {name: gateio, exchange: gateio, pairs: [BTC-USDT, ETH-USDT], metrics_listen: "10.0.0.2:8000", config: {$FEED}}
          booktape_backup_destinations:
            - {name: local, url: "file:///var/lib/booktape/offsite"}
        h2:
          ansible_host: "$(fleet_ip h2)"
          booktape_vpn_ip: 10.0.0.3
          booktape_recorders:
            - {name: gateio, exchange: gateio, pairs: [SOL-USDT], metrics_listen: "10.0.0.3:8000", config: {$FEED}}
          booktape_backup_destinations:
            - {name: local, url: "file:///var/lib/booktape/offsite"}
EOF
ctl() { "$CTL" -i "$INV" "$@"; }
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
fleet_copy_in mon "$MCHECK" /root/monitoring_check.py
fleet_copy_in mon "$M/grafana/booktape-dashboard.json" /root/dashboard.json
PROM=http://127.0.0.1:9090
mcheck() { fleet_run mon python3 /root/monitoring_check.py "$@"; }
# targets: every scrape target's job, address, health and last error.
targets() {
	fleet_run mon curl -s "$PROM/api/v1/targets" | python3 -c 'import json,sys
for t in json.load(sys.stdin)["data"]["activeTargets"]:
    print(t["labels"].get("job"), t["labels"].get("instance"), t["health"], t["lastError"])'
}

# ---------------------------------------------------------------- VPN

step "vpn setup"
ctl vpn setup >"$OUT/vpn1" 2>&1 || fail "vpn setup exited $?"
fleet_run mon wg show wg0 peers >"$OUT/wg-peers"
[ "$(wc -l <"$OUT/wg-peers")" -eq 2 ] || fail "the hub has not 2 peers: $(cat "$OUT/wg-peers")"
for h in mon h1 h2; do
	fleet_run "$h" systemctl is-enabled --quiet wg-quick@wg0.service || fail "$h: tunnel not enabled"
	fleet_run "$h" grep -q PrivateKey /etc/wireguard/wg0.conf && fail "$h: a private key in wg0.conf"
	[ "$(fleet_run "$h" stat -c %a /etc/wireguard/booktape.key)" = 600 ] || fail "$h: key not 0600"
done
# The private keys stayed on their hosts: Ansible never printed one.
for h in mon h1 h2; do
	key=$(fleet_run "$h" cat /etc/wireguard/booktape.key)
	grep -qF "$key" "$OUT/vpn1" && fail "$h's private key appeared in Ansible's output"
done
fleet_run h1 ping -c 1 -W 2 10.0.0.3 >/dev/null 2>&1 && fail "recorder hosts reach each other (only the hub should)"
ctl vpn setup --json >"$OUT/vpn2.json" 2>"$OUT/vpn2.err" || fail "second vpn setup exited $?"
[ "$(json_get "$OUT/vpn2.json" "sum(h['changed'] for h in d['hosts'].values())")" = 0 ] ||
	fail "second vpn setup changed something: $(cat "$OUT/vpn2.json")"

# ---------------------------------------------------------------- recorders

step "recorder deploy (metrics on the tunnel addresses)"
ctl recorder deploy >"$OUT/deploy" 2>&1 || fail "recorder deploy exited $?"
for h in h1 h2; do
	fleet_run "$h" ss -Hltn 'sport = :8000' >"$OUT/listen-$h"
	want=10.0.0.3:8000
	[ "$h" = h1 ] && want=10.0.0.2:8000
	[ "$(awk '{print $4}' "$OUT/listen-$h")" = "$want" ] ||
		fail "$h: /metrics listens on $(awk '{print $4}' "$OUT/listen-$h" | paste -sd' '), not only the tunnel"
	# rotate and backup once now: their textfile metrics feed the dashboard.
	fleet_run "$h" systemctl start booktape-rotate.service ||
		fail "$h: rotate failed: $(fleet_run "$h" journalctl -u booktape-rotate -n 5 --no-pager)"
	fleet_run "$h" install -d -o booktape -g booktape /var/lib/booktape/offsite
	fleet_run "$h" systemctl start booktape-backup.service ||
		fail "$h: backup failed: $(fleet_run "$h" journalctl -u booktape-backup -n 5 --no-pager)"
done

# ---------------------------------------------------------------- monitor

step "monitor deploy"
ctl monitor deploy >"$OUT/mdeploy1" 2>&1 || fail "monitor deploy exited $?"
fleet_run mon grep -qF "$HOOK" /etc/prometheus/alertmanager.yml || fail "webhook URL not in alertmanager.yml"
fleet_run mon amtool check-config /etc/prometheus/alertmanager.yml >"$OUT/amtool" 2>&1 || fail "amtool check-config on the host"
for f in provisioning/datasources/booktape.yml provisioning/dashboards/booktape.yml; do
	fleet_run mon test -s "/etc/grafana/$f" || fail "Grafana provisioning $f not installed"
done
fleet_run mon test -s /var/lib/grafana/dashboards/booktape/booktape-dashboard.json || fail "dashboard not installed"
for h in h1 h2; do
	fleet_run "$h" ss -Hltn 'sport = :9100' | awk '{print $4}' | grep -qx "10.0.0.[23]:9100" ||
		fail "$h: node_exporter not on its tunnel address only"
done

step "Prometheus scrapes both recorders and every node_exporter over the tunnel"
mcheck wait-query "$PROM" 'count(up{job="booktape-recorder"} == 1) == 2' 60 >"$OUT/up1" ||
	fail "recorders not up: $(cat "$OUT/up1"); $(targets)"
# (host=~".+": the Debian package's own config scraped localhost:9100 before
# the deploy replaced it; after the restart its series linger for 5 min.)
mcheck wait-query "$PROM" 'count(up{job="node",host=~".+"} == 1) == 3' 30 >"$OUT/up2" ||
	fail "node_exporters not up: $(cat "$OUT/up2"); $(targets)"
mcheck dashboard "$PROM" /root/dashboard.json --timeout 60 >"$OUT/dash" || fail "dashboard: $(cat "$OUT/dash")"
step "$(cat "$OUT/dash")"
n=$(grep -c '^ *- alert:' "$M/booktape-rules.yml")
mcheck rules-ok "$PROM" "$n" >"$OUT/rules-ok" || fail "$(cat "$OUT/rules-ok")"

ctl monitor health >"$OUT/health1" 2>&1 || fail "monitor health exited $? on a healthy fleet"
ctl monitor health --json >"$OUT/health1.json" 2>/dev/null || fail "monitor health --json not 0"
[ "$(json_get "$OUT/health1.json" "sorted(t['job'] for t in d['hosts']['mon']['targets'] if t['health'] == 'up')")" = \
	"['booktape-recorder', 'booktape-recorder', 'node', 'node', 'node']" ] ||
	fail "health should list 2 recorder and 3 node targets up: $(cat "$OUT/health1.json")"

step "monitor deploy again changes nothing"
ctl monitor deploy --json >"$OUT/mdeploy2.json" 2>"$OUT/mdeploy2.err" || fail "second monitor deploy exited $?"
[ "$(json_get "$OUT/mdeploy2.json" "sum(h['changed'] for h in d['hosts'].values())")" = 0 ] ||
	fail "second monitor deploy changed something: $(cat "$OUT/mdeploy2.json")"

step "monitor add-target: Prometheus itself, no redeploy"
pid0=$(fleet_run mon systemctl show -p MainPID --value prometheus.service)
ctl monitor add-target --job-name prometheus --target 127.0.0.1:9090 --labels host=mon,team=ops \
	>"$OUT/add-target" 2>&1 || fail "add-target exited $?"
mcheck wait-query "$PROM" 'up{job="prometheus",host="mon",team="ops"} == 1' 30 >"$OUT/up3" ||
	fail "the added target is not scraped: $(cat "$OUT/up3")"
[ "$(fleet_run mon systemctl show -p MainPID --value prometheus.service)" = "$pid0" ] ||
	fail "add-target restarted Prometheus"

# ---------------------------------------------------------------- alerts

# delivered NAME STATUS SINCE: the webhook got it within LIMIT s of SINCE.
delivered() {
	python3 "$MCHECK" wait-webhook "$FLEET_DIR/hook.out" "$1" "$2" "$3" "$LIMIT" >"$OUT/wait" ||
		fail "$(sed 's/^FAIL: //' "$OUT/wait") (alerts: $(fleet_run mon curl -s "$PROM/api/v1/alerts"))"
	D=$(cat "$OUT/wait")
}

step "stop h1's recorder: BooktapeRecorderDown at the webhook"
t0=$(date +%s.%N)
fleet_run h1 systemctl stop booktape-recorder@gateio.service
delivered BooktapeRecorderDown firing "$t0"
step "BooktapeRecorderDown delivered after $D s (for ${FOR} s, limit ${LIMIT} s)"
rc=0
ctl monitor health >"$OUT/health2" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "monitor health exited $rc with a recorder down (want 1)"
grep -q 'target booktape-recorder 10.0.0.2:8000 (h1/gateio) is down' "$OUT/health2" ||
	fail "health does not name h1's recorder target"
grep -q 'firing: BooktapeRecorderDown host=h1,recorder=gateio' "$OUT/health2" ||
	fail "health does not list the firing BooktapeRecorderDown"

step "start it: resolved"
t1=$(date +%s.%N)
fleet_run h1 systemctl start booktape-recorder@gateio.service
delivered BooktapeRecorderDown resolved "$t1"
step "BooktapeRecorderDown resolved after $D s"
mcheck wait-prom "$PROM" BooktapeRecorderDown inactive 10 >/dev/null || fail "Down still active"
ctl monitor health >"$OUT/health3" 2>&1 || fail "monitor health exited $? after the restart"

step "stop the simulator: stale and disconnected"
t2=$(date +%s.%N)
kill "$SIM_PID"
mcheck wait-prom "$PROM" BooktapeDataStale firing "$LIMIT" >"$OUT/stale" ||
	fail "$(sed 's/^FAIL: //' "$OUT/stale")"
delivered BooktapeRecorderDisconnected firing "$t2"
step "BooktapeDataStale firing after $(cat "$OUT/stale") s, BooktapeRecorderDisconnected delivered after $D s"
ctl monitor health --json >"$OUT/health4.json" 2>/dev/null ||
	fail "monitor health exited $? (the monitor itself is healthy, its targets up)"
for a in BooktapeRecorderDisconnected BooktapeDataStale; do
	[ "$(json_get "$OUT/health4.json" "sorted({x.get('host') for x in d['hosts']['mon']['firing'] if x['alertname'] == '$a'})")" = "['h1', 'h2']" ] ||
		fail "health does not list $a firing on h1 and h2: $(cat "$OUT/health4.json")"
done

printf 'PASS t-monitor-fleet (%d s)\n' $(($(date +%s) - T0))
