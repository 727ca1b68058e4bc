#!/usr/bin/env bash
# booktape-backup against a real OpenSSH sshd on 127.0.0.1: round trip,
# a changed host key refused, SIGKILL during an upload then a rerun.
# shellcheck source=tests/helpers/backup_testlib.sh
. "$(dirname "$0")/../helpers/backup_testlib.sh"
# shellcheck source=tests/sim/sshd.sh
. "$HERE/../sim/sshd.sh"

if [ ! -x /usr/sbin/sshd ]; then
	skip "no /usr/sbin/sshd (apt-get install openssh-server)"
	exit 0
fi
sshd_setup "$T/k"
sshd_start "$T/k" || exit 1
CLEANUPS+=("sshd_stop")
USER_NAME=$(id -un)
R=$T/remote
mkdir -p "$R"
D=$T/data
dest() {
	echo "    - name: \"off\"
      url: \"sftp://$USER_NAME@127.0.0.1:$SSHD_PORT$R/bk\"
      identity: \"$T/k/id_ed25519\"
      known_hosts: \"$1\""
}
write_config "$T/b.yml" "$D" "$(dest "$T/k/known_hosts")"
python3 "$MKDATA" --data-dir "$D" --start 2026-11-20T00 --hours 3 \
	--originals "$T/orig" || exit 1
cp -a "$D/archive" "$T/archive.orig"

# --- round trip
run_bk push --config "$T/b.yml" push
expect_rc push 0
check "shipped archives are byte-identical" same_tree "$T/archive.orig" "$R/bk"
check "ledger records shipped" \
	test "$(grep -c ',off,shipped,' "$D/state/backup-ledger.csv")" -eq 3
run_bk list --config "$T/b.yml" list
expect_rc list 0
check "list shows 3 archives" test "$(grep -c 'tar.gz' "$T/list.out")" -eq 3
run_bk verify --config "$T/b.yml" verify --pending --deep
expect_rc verify 0
check "verify records verified" \
	test "$(grep -c ',off,verified,' "$D/state/backup-ledger.csv")" -eq 3
rm -rf "$D"
run_bk restore --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20 --to 2026-11-21
expect_rc restore 0
check "restore over sftp: every file byte-identical" same_tree "$T/orig" "$D/live"

# --- corruption at the destination
A=gateio/2026-11-20/gateio_2026-11-20T01.tar.gz
printf '\x00' | dd of="$R/bk/$A" bs=1 seek=1500 conv=notrunc 2>/dev/null
run_bk verify-bad --config "$T/b.yml" verify
expect_rc verify-bad 1
check "verify names the corrupt archive" grep -q "$A.*FAILED" "$T/verify-bad.out"
run_bk restore-bad --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20 --to 2026-11-21 --into "$T/into"
expect_rc restore-bad 1
check "restore refuses and names it" grep -q "$A.*verification failed" \
	"$T/restore-bad.err"
cp "$T/archive.orig/$A" "$R/bk/$A"

# --- known_hosts is required
write_config "$T/nokh.yml" "$D" "    - name: \"off\"
      url: \"sftp://$USER_NAME@127.0.0.1:$SSHD_PORT$R/bk\"
      identity: \"$T/k/id_ed25519\""
run_bk nokh --config "$T/nokh.yml" list
check "no known_hosts: refused as a config error" test "$RC" -eq 2
check "no known_hosts: says so" grep -q 'known_hosts' "$T/nokh.err"

# --- a changed host key
sshd_stop
sshd_start "$T/k" "$T/k/host2_ed25519" || exit 1
run_bk hostkey --config "$T/b.yml" list
expect_rc hostkey 1
check "changed host key: clear message" grep -q 'host key' "$T/hostkey.err"
run_bk hostkey-verify --config "$T/b.yml" verify
check "changed host key: verify refused too" test "$RC" -eq 1
sshd_stop
sshd_start "$T/k" || exit 1

# --- SIGKILL during an upload, then a rerun
D2=$T/data2
python3 "$MKDATA" --data-dir "$D2" --start 2026-11-21T00 --hours 1 \
	--symbols BIG_USDT --pad-bytes 6000000 --seed 4 || exit 1
write_config "$T/k.yml" "$D2" "$(dest "$T/k/known_hosts")"
BIG=gateio/2026-11-21/gateio_2026-11-21T00.tar.gz
BOOKTAPE_BACKUP_MAX_SEND_SPEED=1000000 "$BK" --config "$T/k.yml" push \
	>"$T/kill.out" 2>"$T/kill.err" &
pid=$!
for _ in $(seq 1 300); do
	s=$(stat -c %s "$R/bk/$BIG.part" 2>/dev/null || echo 0)
	[ "$s" -gt 500000 ] && break
	sleep 0.02
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
check "killed mid-upload: only a .part exists" \
	test -f "$R/bk/$BIG.part" -a ! -e "$R/bk/$BIG"
check "killed mid-upload: the .part is partial" \
	test "$(stat -c %s "$R/bk/$BIG.part")" -lt "$(stat -c %s "$D2/archive/$BIG")"
run_bk list-killed --config "$T/k.yml" list
check "list does not show the partial upload" \
	test "$(grep -c '2026-11-21' "$T/list-killed.out")" -eq 0
run_bk rerun --config "$T/k.yml" push
expect_rc rerun 0
check "rerun: exactly one complete copy" cmp -s "$D2/archive/$BIG" "$R/bk/$BIG"
check "rerun: no .part left" test -z "$(find "$R/bk" -name '*.part')"
check "rerun: one archive at the destination" \
	test "$(find "$R/bk" -name 'gateio_2026-11-21T00*' | wc -l)" -eq 2
run_bk verify-killed --config "$T/k.yml" verify
expect_rc verify-killed 0

# --- the server goes away: transient
sshd_stop
python3 "$MKDATA" --data-dir "$D2" --start 2026-11-21T01 --hours 1 --seed 5 ||
	exit 1
run_bk down --config "$T/k.yml" push
expect_rc down 75

finish
