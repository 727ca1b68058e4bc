#!/usr/bin/env bash
# booktape-backup with a file:// destination: round trip and disaster
# drill, corruption, refused secrets, a destination that fills up and
# one that vanishes during a push.
# shellcheck source=tests/helpers/backup_testlib.sh
. "$(dirname "$0")/../helpers/backup_testlib.sh"

D=$T/data
mkdir -p "$T/nas"
write_config "$T/b.yml" "$D" "    - name: \"nas\"
      url: \"file://$T/nas\""
python3 "$MKDATA" --data-dir "$D" --start 2026-11-20T00 --hours 4 \
	--originals "$T/orig" || exit 1
cp -a "$D/archive" "$T/archive.orig"

# --- command line
printf 'config:\n  keep_local_dayz: 3\n  destinations: []\n' >"$T/bad.yml"
run_bk bad-config --config "$T/bad.yml" --check-config
expect_rc bad-config 2
check "bad config: file:line:column: message" \
	grep -q "^$T/bad.yml:2:3: unknown key" "$T/bad-config.err"
run_bk usage --config "$T/b.yml" frobnicate
expect_rc usage 2
run_bk usage2 --config "$T/b.yml" restore --exchange gateio
expect_rc usage2 2
run_bk version --version
expect_rc version 0
run_bk help --help
expect_rc help 0
check "--help documents the exit codes" grep -q '75 transient' "$T/help.out"

# --- round trip and disaster drill
run_bk check-config --config "$T/b.yml" --check-config
expect_rc check-config 0
run_bk push1 --config "$T/b.yml" push
expect_rc push1 0
check "4 archives and sidecars shipped" \
	test "$(find "$T/nas" -name '*.tar.gz' | wc -l)" -eq 4 -a \
	"$(find "$T/nas" -name '*.tar.gz.sha256' | wc -l)" -eq 4
check "shipped archives are byte-identical" same_tree "$T/archive.orig" "$T/nas"
check "ledger records verified" \
	test "$(grep -c ',nas,verified,' "$D/state/backup-ledger.csv")" -eq 4
check "metrics textfile written" grep -q \
	'^booktape_backup_archives_pending{destination="nas"} 0$' \
	"$T/prom/booktape_backup.prom"
if command -v promtool >/dev/null; then
	check "promtool accepts the textfile" \
		sh -c "promtool check metrics <'$T/prom/booktape_backup.prom'"
else
	skip "promtool not installed: the textfile is not linted"
fi
run_bk push2 --config "$T/b.yml" push
expect_rc push2 0
check "second push ships nothing" grep -q \
	'^booktape_backup_bytes_shipped{destination="nas"} 0$' \
	"$T/prom/booktape_backup.prom"
run_bk list --config "$T/b.yml" list
expect_rc list 0
check "list shows 4 archives" test "$(wc -l <"$T/list.out")" -eq 4
run_bk verify --config "$T/b.yml" verify --deep
expect_rc verify 0

rm -rf "$D"
run_bk restore --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20 --to 2026-11-21
expect_rc restore 0
check "disaster drill: every file byte-identical" same_tree "$T/orig" "$D/live"
run_bk restore-again --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20 --to 2026-11-21
expect_rc restore-again 1
check "existing files are not overwritten" grep -q 'use --force' \
	"$T/restore-again.err"
echo garbage >"$D/live/gateio/2026-11-20/01/BTC_USDT.incremental_book_L2.csv"
run_bk restore-force --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20T01:00Z --to 2026-11-20T02:00Z --force
expect_rc restore-force 0
check "--force restores the original bytes" same_tree "$T/orig" "$D/live"
run_bk restore-sym --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20T02:00Z --to 2026-11-20T03:00Z --symbols eth-usdt \
	--into "$T/into"
expect_rc restore-sym 0
check "--symbols/--into restore only that symbol" test \
	"$(find "$T/into" -type f)" = \
	"$T/into/gateio/2026-11-20/02/ETH_USDT.incremental_book_L2.csv"

# --- corruption: one flipped byte at the destination
A=gateio/2026-11-20/gateio_2026-11-20T02.tar.gz
printf '\xff' | dd of="$T/nas/$A" bs=1 seek=2000 conv=notrunc 2>/dev/null
run_bk verify-bad --config "$T/b.yml" verify
expect_rc verify-bad 1
check "verify names the corrupt archive" grep -q "$A.*FAILED" "$T/verify-bad.out"
check "verify passes the others" test "$(grep -c 'ok$' "$T/verify-bad.out")" -eq 3
rm -rf "$T/into2"
run_bk restore-bad --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20 --to 2026-11-21 --into "$T/into2"
expect_rc restore-bad 1
check "restore names the corrupt archive" grep -q "$A.*verification failed" \
	"$T/restore-bad.err"
check "nothing of the corrupt hour is unpacked" \
	test ! -e "$T/into2/gateio/2026-11-20/02"
# The local archives are still there (only the live tree was lost).
cp -a "$T/archive.orig" "$D/archive"
run_bk repair --config "$T/b.yml" push
expect_rc repair 0
check "push replaces the copy verify found bad" cmp -s "$T/archive.orig/$A" \
	"$T/nas/$A"
B=gateio/2026-11-20/gateio_2026-11-20T00.tar.gz
rm "$T/nas/$B"
run_bk verify-missing --config "$T/b.yml" verify
expect_rc verify-missing 1
check "verify reports an archive missing remotely" \
	grep -q "$B.*missing" "$T/verify-missing.out"
run_bk reship --config "$T/b.yml" push
expect_rc reship 0
run_bk verify-fixed --config "$T/b.yml" verify
expect_rc verify-fixed 0
check "everything back at the destination" same_tree "$T/archive.orig" "$T/nas"

# --- secrets file with mode 0644 is refused
printf '[nas]\nidentity = /nonexistent\n' >"$T/secrets"
chmod 0644 "$T/secrets"
write_config "$T/s.yml" "$D" "    - name: \"nas\"
      url: \"file://$T/nas\"" "$T/secrets"
run_bk secrets --config "$T/s.yml" push
expect_rc secrets 2
check "the error names the file and its mode" \
	grep -q "secrets file '$T/secrets' has mode 0644" "$T/secrets.err"
chmod 0600 "$T/secrets"
run_bk secrets-ok --config "$T/s.yml" list
expect_rc secrets-ok 0

# --- a destination that fills up
D2=$T/data2
python3 "$MKDATA" --data-dir "$D2" --start 2026-11-21T00 --hours 3 \
	--pad-bytes 600000 --seed 2 || exit 1
mkdir -p "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	CLEANUPS+=("umount '$T/small'")
	write_config "$T/f.yml" "$D2" "    - name: \"small\"
      url: \"file://$T/small\""
	run_bk full --config "$T/f.yml" push
	expect_rc full 75
	check "full: the error says why" grep -q 'No space left' "$T/full.err"
	check "full: nothing partial looks complete" \
		remote_complete "$T/small" "$D2/archive"
	check "full: no temp file left" \
		test -z "$(find "$T/small" -name '*.part')"
	check "full: pending shows in metrics" grep -q \
		'^booktape_backup_archives_pending{destination="small"} [1-9]' \
		"$T/prom/booktape_backup.prom"
	mount -o remount,size=8m "$T/small"
	run_bk full-again --config "$T/f.yml" push
	expect_rc full-again 0
	check "full: the next push completes" \
		test "$(find "$T/small" -name '*.tar.gz' | wc -l)" -eq 3
	run_bk full-verify --config "$T/f.yml" verify
	expect_rc full-verify 0
else
	skip "no tmpfs mount for the full-destination case (not root?)"
fi

# --- a destination that vanishes during a push
D3=$T/data3
python3 "$MKDATA" --data-dir "$D3" --start 2026-11-22T00 --hours 24 \
	--pad-bytes 400000 --seed 3 || exit 1
mkdir -p "$T/gone"
write_config "$T/g.yml" "$D3" "    - name: \"gone\"
      url: \"file://$T/gone\""
"$BK" --config "$T/g.yml" push >"$T/gone.out" 2>"$T/gone.err" &
pid=$!
for _ in $(seq 1 500); do
	[ -n "$(find "$T/gone" -name '*.tar.gz' 2>/dev/null | head -1)" ] && break
	sleep 0.01
done
# Like an unmounted NFS share: the root is atomically not there.
mv "$T/gone" "$T/gone.away"
wait "$pid"
RC=$?
expect_rc gone 75
check "vanished: the error says the root is gone" grep -q 'gone\|missing' \
	"$T/gone.err"
check "vanished: nothing partial looks complete" \
	remote_complete "$T/gone.away" "$D3/archive"
mv "$T/gone.away" "$T/gone"
run_bk gone-again --config "$T/g.yml" push
expect_rc gone-again 0
check "vanished: the next push ships everything" \
	test "$(find "$T/gone" -name '*.tar.gz' | wc -l)" -eq 24
check "vanished: every copy complete" remote_complete "$T/gone" "$D3/archive"
run_bk gone-verify --config "$T/g.yml" verify
expect_rc gone-verify 0

finish
