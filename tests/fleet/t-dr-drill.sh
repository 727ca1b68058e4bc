#!/usr/bin/env bash
# Disaster-recovery drill on real hosts (tests/fleet/lib-fleet.sh): a
# recorder host h1 ships to an SFTP server on another host (bk), is lost
# with its whole root, and is rebuilt on a fresh host under the same name
# (and a new address) by `booktapectl recorder recover h1`.
#
#   deploy h1 (recorder against the simulator on the bridge, offsite =
#   sftp://offsite@bk, its key Vault-encrypted on the controller) -> hours recorded earlier, compressed in time:
#   finished hours written by the recorder's own writer (rotate-hourgen)
#   are sealed by the rotate service and shipped by the backup service,
#   both started as their timers start them -> the backup stops (timer
#   off) and two more hours are sealed but never shipped -> h1 is
#   destroyed -> a fresh h1 boots -> recover without the known_hosts file
#   is refused naming it, the host untouched -> recover: every shipped
#   hour is back, its archive byte-identical to the one sealed before the
#   loss and verified in the new ledger; every other hour of the window is
#   named missing; the recorder records and `recorder status` is healthy
#   -> a second recover changes nothing -> two hours are lost again and
#   `recover --from` the later one restores just that one.
#
# Prints the recovery time and restored bytes, PASS/FAIL and the time
# taken. Every host, the simulator and the bridge are stopped on exit,
# failed or not. Needs root. DR_ROWS sets the rows per symbol and hour
# (default 30000: about 2.3 MB of CSV an hour).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROWS=${DR_ROWS:-30000}
# shellcheck source=tests/fleet/lib-fleet.sh
. tests/fleet/lib-fleet.sh

T0=$(date +%s)
CTL=$ROOT/scripts/booktapectl
step() { printf 'dr-drill: [%3ds] %s\n' $(($(date +%s) - T0)) "$*"; }
fail() {
	printf 'FAIL t-dr-drill: %s\n' "$*"
	exit 1
}
[ -x "$BUILD/helpers/rotate-hourgen" ] || fail "build first: make"

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

# ---------------------------------------------------------------- package

step "building the package"
DEB=$(make -s deb BUILD="$BUILD" | tail -n 1)
case $DEB in /*) ;; *) DEB=$ROOT/$DEB ;; esac
[ -f "$DEB" ] || fail "make deb made no package"
# shellcheck disable=SC2119 # the bare base image, as t-fleet-ops uses
fleet_image
REPO=$FLEET_DIR/repo
mkdir -p "$REPO/partial"
download() {
	apt-get -qq --download-only -o Debug::NoLocking=1 -o APT::Sandbox::User=root \
		-o Dir::State::status="$FLEET_IMAGE/var/lib/dpkg/status" \
		-o Dir::Cache::archives="$REPO" install "$DEB" >>"$OUT/apt-download" 2>&1
}
download || { apt-get -qq update && download; } ||
	fail "cannot download the package's dependencies"
rm -rf "$REPO/partial" "$REPO/lock"
(cd "$REPO" && apt-ftparchive packages . >Packages) 2>>"$OUT/apt-download"
FLEET_NSPAWN_ARGS+=("--bind-ro=$REPO:/srv/booktape-repo")

# ---------------------------------------------------------------- hosts

fleet_bridge
"$BUILD/booktape-sim" --listen "$FLEET_GW" --port 0 --port-file "$FLEET_DIR/sim.port" \
	--pairs BTC_USDT,ETH_USDT --rate 20 >"$OUT/sim.log" 2>&1 &
SIM_PID=$!
fleet_on_exit "kill $SIM_PID 2>/dev/null; wait $SIM_PID 2>/dev/null"
for _ in $(seq 50); do [ -s "$FLEET_DIR/sim.port" ] && break; sleep 0.1; done
[ -s "$FLEET_DIR/sim.port" ] || fail "simulator did not start: $(cat "$OUT/sim.log")"
SIM_PORT=$(cat "$FLEET_DIR/sim.port")

ssh-keygen -q -t ed25519 -N '' -f "$FLEET_DIR/id" -C dr-drill
# prepare_recorder_host NAME: SSH for Ansible, apt from the offline repo.
prepare_recorder_host() {
	fleet_authorize_key "$1" "$FLEET_DIR/id.pub"
	fleet_wait_ssh "$1"
	fleet_sh "$1" 'echo "deb [trusted=yes] file:/srv/booktape-repo ./" >/etc/apt/sources.list.d/booktape-test.list
		rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*.sources
		apt-get -qq update'
}

step "booting the offsite SFTP server bk and the recorder host h1"
fleet_boot bk h1
prepare_recorder_host h1
BK_IP=$(fleet_ip bk)

# The offsite account: key login only, its own directory.
SEC=$FLEET_DIR/secrets # "outside the repository", on the controller
mkdir -m 0700 "$SEC"
ssh-keygen -q -t ed25519 -N '' -f "$SEC/offsite_id" -C booktape-offsite
fleet_copy_in bk "$SEC/offsite_id.pub" /root/offsite.pub
fleet_sh bk 'useradd -m -d /srv/offsite -s /bin/sh offsite
	usermod -p "*" offsite
	install -d -o offsite -g offsite -m 0700 /srv/offsite/.ssh /srv/offsite/booktape
	install -o offsite -g offsite -m 0600 /root/offsite.pub /srv/offsite/.ssh/authorized_keys'
fleet_wait_ssh bk
ssh-keyscan -t ed25519 "$BK_IP" 2>/dev/null >"$SEC/known_hosts"
[ -s "$SEC/known_hosts" ] || fail "ssh-keyscan of bk said nothing"
# The key is kept Vault-encrypted; Ansible decrypts it on the way.
printf 'dr-drill-vault\n' >"$SEC/vault-pass"
ansible-vault encrypt --vault-password-file "$SEC/vault-pass" "$SEC/offsite_id" >/dev/null 2>&1 ||
	fail "ansible-vault encrypt failed"
export ANSIBLE_VAULT_PASSWORD_FILE=$SEC/vault-pass

INV=$FLEET_DIR/inventory.yml
# write_inventory [KNOWN_HOSTS_SRC]
write_inventory() {
	local kh=${1:-$SEC/known_hosts}
	cat >"$INV" <<EOF
all:
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: "$FLEET_DIR/id"
    ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    booktape_package_file: "$DEB"
    booktape_status_growth_window: 5
    booktape_health_timeout: 60
  children:
    recorders:
      hosts:
        h1:
          ansible_host: "$(fleet_ip h1)"
          booktape_recorders:
            - {name: gateio, exchange: gateio, pairs: [BTC-USDT, ETH-USDT], metrics_listen: "127.0.0.1:8000",
               config: {ws_url: "ws://$FLEET_GW:$SIM_PORT/ws/v4/", rest_url: "http://$FLEET_GW:$SIM_PORT/api/v4",
                        stale_after: 5, flush_interval: 1.0}}
          booktape_backup_destinations:
            - {name: offsite, url: "sftp://offsite@$BK_IP:22/srv/offsite/booktape",
               identity: /etc/booktape/offsite_id, known_hosts: /etc/booktape/offsite_known_hosts}
          booktape_backup_files:
            - {src: "$SEC/offsite_id", dest: /etc/booktape/offsite_id}
            - {src: "$kh", dest: /etc/booktape/offsite_known_hosts}
EOF
}
write_inventory
ctl() { "$CTL" -i "$INV" "$@"; }
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

step "recorder deploy h1"
ctl recorder deploy h1 >"$OUT/deploy" 2>&1 || fail "deploy exited $?"
fleet_run h1 grep -q 'BEGIN OPENSSH PRIVATE KEY' /etc/booktape/offsite_id ||
	fail "the Vault-encrypted key did not arrive decrypted"

# ---------------------------------------------------------------- recording

# plant START HOURS: finished hours under h1's live/, written by the
# recorder's writer, owned by booktape as the recorder's would be.
plant() {
	rm -rf "$FLEET_DIR/plant"
	"$BUILD/helpers/rotate-hourgen" "$FLEET_DIR/plant" gateio "$1" "$2" "$ROWS" ||
		fail "rotate-hourgen"
	cp -a "$FLEET_DIR/plant/live/." "$(fleet_root h1)/var/lib/booktape/live/"
	fleet_run h1 chown -R booktape:booktape /var/lib/booktape/live
}
# timer_run h1 rotate|backup: the service, as its timer starts it.
timer_run() {
	fleet_run "$1" systemctl start "booktape-$2.service" ||
		fail "$1: $2 failed: $(fleet_run "$1" journalctl -u "booktape-$2" -n 10 --no-pager)"
}
NOW_H=$(($(date +%s) / 3600 * 3600))
iso_h() { date -u -d "@$(($1))" +%Y-%m-%dT%H:00Z; }
rel_h() { date -u -d "@$(($1))" +gateio/%Y-%m-%d/gateio_%Y-%m-%dT%H.tar.gz; }

step "four hours recorded and shipped ($ROWS rows per symbol-hour)"
plant "$(iso_h "NOW_H - 7 * 3600")" 4
timer_run h1 rotate
timer_run h1 backup
SHIPPED=()
for i in 7 6 5 4; do SHIPPED+=("$(rel_h "NOW_H - i * 3600")"); done
for r in "${SHIPPED[@]}"; do
	fleet_run bk test -s "/srv/offsite/booktape/$r" || fail "$r was not shipped to bk"
done

step "the backup stops; two more hours are sealed but never shipped"
fleet_run h1 systemctl stop booktape-backup.timer
plant "$(iso_h "NOW_H - 3 * 3600")" 2
timer_run h1 rotate
for i in 3 2; do
	fleet_run h1 test -s "/var/lib/booktape/archive/$(rel_h "NOW_H - i * 3600")" ||
		fail "hour -$i was not sealed"
done
# What the old host had: the originals to compare with after the loss.
mkdir -p "$FLEET_DIR/before"
cp -a "$(fleet_root h1)/var/lib/booktape/archive" "$FLEET_DIR/before/"
fleet_run h1 curl -fsS -o /dev/null 127.0.0.1:8000/healthz || fail "h1 not recording before the loss"

# ---------------------------------------------------------------- the loss

step "h1 is lost: powered off, its whole root destroyed"
fleet_stop h1
rm -rf "${FLEET_DIR:?}/hosts/h1"
OLD_IP=$(fleet_ip h1)

step "a fresh h1 boots (same name)"
fleet_boot h1
prepare_recorder_host h1
[ "$(fleet_ip h1)" != "$OLD_IP" ] || fail "the new h1 has the old address"
fleet_run h1 test ! -e /var/lib/booktape || fail "the new h1 is not fresh"

step "recover without the destination's known_hosts file: refused, host untouched"
write_inventory "$SEC/no-such-known_hosts"
rc=0
ctl recorder recover h1 >"$OUT/recover-nokh" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "recover without known_hosts exited $rc (want 1)"
grep -q "no-such-known_hosts.*does not exist" "$OUT/recover-nokh" ||
	fail "recover does not name the missing known_hosts file"
if fleet_run h1 dpkg-query -W booktape >/dev/null 2>&1; then
	fail "recover installed the package although a secret was missing"
fi
write_inventory

# ---------------------------------------------------------------- recover

step "recorder recover h1"
rc=0
ctl recorder recover h1 --json >"$OUT/recover1.json" 2>"$OUT/recover1.err" || rc=$?
[ "$rc" -eq 0 ] || fail "recover exited $rc: $(cat "$OUT/recover1.json" "$OUT/recover1.err")"
REC_S=$(json_get "$OUT/recover1.json" "d['seconds']")
REC_BYTES=$(json_get "$OUT/recover1.json" "d['report']['restored_bytes']")
STEPS=$(json_get "$OUT/recover1.json" "' '.join('%s %ss' % kv for kv in d['report']['seconds'].items())")
RESUMED=$(json_get "$OUT/recover1.json" "d['report']['resumed']")

step "checks: the shipped hours are back, byte-identical; the others are missing"
[ "$(json_get "$OUT/recover1.json" "' '.join(sorted(r['archive'] for r in d['report']['restored']))")" = \
	"$(printf '%s\n' "${SHIPPED[@]}" | sort | paste -sd' ')" ] ||
	fail "restored is not exactly the shipped hours: $(cat "$OUT/recover1.json")"
for r in "${SHIPPED[@]}"; do
	cmp -s "$FLEET_DIR/before/archive/$r" "$(fleet_root h1)/var/lib/booktape/archive/$r" ||
		fail "$r is not byte-identical to the archive sealed before the loss"
	cmp -s "$FLEET_DIR/before/archive/$r.sha256" "$(fleet_root h1)/var/lib/booktape/archive/$r.sha256" ||
		fail "$r's sidecar differs"
	sha=$(cut -d' ' -f1 "$FLEET_DIR/before/archive/$r.sha256")
	grep -q ",$r,offsite,verified,[0-9]*,$sha\$" \
		"$(fleet_root h1)/var/lib/booktape/state/backup-ledger.csv" ||
		fail "$r is not verified with its sha256 in the new ledger"
done
# Every restored member against its MANIFEST.csv, by booktape-backup.
fleet_run h1 runuser -u booktape -- booktape-backup --config /etc/booktape/backup.yml \
	verify --deep >"$OUT/verify-deep" 2>&1 || fail "verify --deep failed after the recovery"
# Missing: every hour of the window [first shipped, hour recording
# resumed) that is not at the destination.
RESUMED_H=$(($(date -u -d "$RESUMED" +%s) / 3600 * 3600))
WANT_MISSING=()
for ((h = NOW_H - 3 * 3600; h < RESUMED_H; h += 3600)); do WANT_MISSING+=("$(rel_h "$h")"); done
[ "$(json_get "$OUT/recover1.json" "' '.join(sorted(d['report']['missing']))")" = \
	"$(printf '%s\n' "${WANT_MISSING[@]}" | sort | paste -sd' ')" ] ||
	fail "missing is not the unshipped hours ${WANT_MISSING[*]}: $(cat "$OUT/recover1.json")"

step "the new recorder records; status is healthy"
sleep 2
rc=0
ctl recorder status h1 >"$OUT/status" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "status exited $rc after the recovery"
ctl recorder status h1 --json >"$OUT/status.json" 2>/dev/null || fail "status --json not 0"
[ "$(json_get "$OUT/status.json" "all(r['grew'] and r['healthz'] == 200 for r in d['hosts']['h1']['recorders'])")" = True ] ||
	fail "h1's recorder is not writing growing rows"

step "a second recover changes nothing (its report, as an operator sees it)"
ctl recorder recover h1 >"$OUT/recover2" 2>&1 || fail "second recover exited $?"
sed 's/^/    /' "$OUT/recover2"
grep -q '^h1: recovered in .* (0 change(s) on the host)$' "$OUT/recover2" ||
	fail "second recover changed something"
grep -q '^  restored: 0 hour(s), 0 bytes$' "$OUT/recover2" || fail "second recover restored again"
grep -q "^  already on the host: ${#SHIPPED[@]} hour(s)$" "$OUT/recover2" ||
	fail "second recover does not see the restored hours as present"
grep -q "^  recording since: $RESUMED$" "$OUT/recover2" || fail "second recover moved 'recording since'"

step "two restored hours are lost again; recover --from the later one brings back only it"
for i in 6 5; do
	fleet_run h1 rm "/var/lib/booktape/archive/$(rel_h "NOW_H - i * 3600")" \
		"/var/lib/booktape/archive/$(rel_h "NOW_H - i * 3600").sha256"
done
ctl recorder recover h1 --from "$(iso_h "NOW_H - 5 * 3600")" --json >"$OUT/recover3.json" 2>"$OUT/recover3.err" ||
	fail "recover --from exited $?: $(cat "$OUT/recover3.json")"
[ "$(json_get "$OUT/recover3.json" "[r['archive'] for r in d['report']['restored']]")" = "['$(rel_h "NOW_H - 5 * 3600")']" ] ||
	fail "recover --from restored the wrong hours: $(cat "$OUT/recover3.json")"
r=$(rel_h "NOW_H - 5 * 3600")
cmp -s "$FLEET_DIR/before/archive/$r" "$(fleet_root h1)/var/lib/booktape/archive/$r" ||
	fail "$r is not byte-identical after recover --from"
fleet_run h1 test ! -e "/var/lib/booktape/archive/$(rel_h "NOW_H - 6 * 3600")" ||
	fail "recover --from restored an hour before --from"

step "recovery: ${REC_S} s for the whole command, restored ${REC_BYTES} bytes in ${#SHIPPED[@]} hours ($STEPS); recording since $RESUMED"
printf 'PASS t-dr-drill (%d s)\n' $(($(date +%s) - T0))
