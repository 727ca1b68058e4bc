#!/usr/bin/env bash
# booktape-backup against tests/sim/s3server.py, an S3-compatible
# server on 127.0.0.1 that recomputes every request's SigV4 signature
# with botocore: AWS's published examples, round trip, pagination,
# retries, a wrong key, corruption, remote and local prune.
# shellcheck source=tests/helpers/backup_testlib.sh
. "$(dirname "$0")/../helpers/backup_testlib.sh"

PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import botocore' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
	echo "FAIL: no python3 with botocore (apt-get install python3-boto3)"
	exit 1
fi
S3=$HERE/../sim/s3server.py
check "the verifier reproduces AWS's published SigV4 examples" \
	"$PY" "$S3" --selftest

SRV_PID=
start_s3() {
	rm -f "$T/port"
	"$PY" "$S3" --root "$T/s3" --port-file "$T/port" --bucket bkt \
		--access-key AKIDBOOKTAPE --secret-key 'sec/ret+KEY' \
		--region eu-test-1 --log "$T/s3.log" "$@" &
	SRV_PID=$!
	for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	PORT=$(cat "$T/port")
}
stop_s3() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	SRV_PID=
}
CLEANUPS+=("stop_s3")
start_s3 --page-size 2

D=$T/data
printf '# test keys\n[s3]\naccess_key = AKIDBOOKTAPE\nsecret_key = sec/ret+KEY\n' \
	>"$T/secrets"
chmod 600 "$T/secrets"
s3dest() {
	echo "    - name: \"s3\"
      url: \"s3://bkt/booktape/prod\"
      endpoint: \"http://127.0.0.1:$1\"
      region: \"eu-test-1\"
      path_style: true"
}
write_config "$T/b.yml" "$D" "$(s3dest "$PORT")" "$T/secrets"
python3 "$MKDATA" --data-dir "$D" --start 2026-11-20T00 --hours 5 \
	--originals "$T/orig" || exit 1
cp -a "$D/archive" "$T/archive.orig"

# --- round trip
run_bk push --config "$T/b.yml" push
expect_rc push 0
check "objects stored byte-identical under the prefix" \
	same_tree "$T/archive.orig" "$T/s3/bkt/booktape/prod"
check "server saw no bad signature" \
	sh -c "! grep -q 'SignatureDoesNotMatch\|XAmzContentSHA256Mismatch\|BadDigest\|InvalidQuery' '$T/s3.log'"
check "the sha256 went along as metadata" grep -q x-amz-meta-sha256 \
	"$T/s3/.meta/bkt/booktape/prod/gateio/2026-11-20/gateio_2026-11-20T03.tar.gz.json"
check "ledger records verified (server-checked sha256)" \
	test "$(grep -c ',s3,verified,' "$D/state/backup-ledger.csv")" -eq 5
run_bk list --config "$T/b.yml" list
expect_rc list 0
check "list pages through ListObjectsV2 (page size 2)" \
	test "$(grep -c 'tar.gz' "$T/list.out")" -eq 5
run_bk verify --config "$T/b.yml" verify --deep
expect_rc verify 0
rm -rf "$D"
run_bk restore --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20T00:00Z --to 2026-11-20T05:00Z
expect_rc restore 0
check "disaster drill over s3: every file byte-identical" \
	same_tree "$T/orig" "$D/live"
check "still no signature error" \
	sh -c "! grep -q 'SignatureDoesNotMatch\|InvalidQuery' '$T/s3.log'"

# --- a wrong secret key is a permanent failure
cp -a "$T/archive.orig" "$D/archive"
printf '[s3]\naccess_key = AKIDBOOKTAPE\nsecret_key = wrong\n' >"$T/bad"
chmod 600 "$T/bad"
write_config "$T/bad.yml" "$D" "$(s3dest "$PORT")" "$T/bad"
run_bk badkey --config "$T/bad.yml" list
expect_rc badkey 1
check "wrong key: the server's refusal is shown" \
	grep -q 'SignatureDoesNotMatch' "$T/badkey.err"

# --- transient failures are retried; an unreachable server exits 75
stop_s3
start_s3 --fail-first 2
write_config "$T/b.yml" "$D" "$(s3dest "$PORT")" "$T/secrets"
run_bk flaky --config "$T/b.yml" list
expect_rc flaky 0
check "503s were retried" test "$(grep -c 'attempt' "$T/flaky.err")" -eq 2
run_bk push-after-loss --config "$T/b.yml" push
expect_rc push-after-loss 0
stop_s3
python3 "$MKDATA" --data-dir "$D" --start 2026-11-20T05 --hours 1 --seed 9 \
	--originals "$T/orig" || exit 1
run_bk down --config "$T/b.yml" push
expect_rc down 75
check "down: pending archive in metrics" grep -q \
	'^booktape_backup_archives_pending{destination="s3"} 1$' \
	"$T/prom/booktape_backup.prom"
start_s3
write_config "$T/b.yml" "$D" "$(s3dest "$PORT")" "$T/secrets"
run_bk up --config "$T/b.yml" push
expect_rc up 0

# --- corruption
A=gateio/2026-11-20/gateio_2026-11-20T02.tar.gz
printf '\x55' | dd of="$T/s3/bkt/booktape/prod/$A" bs=1 seek=1200 \
	conv=notrunc 2>/dev/null
run_bk verify-bad --config "$T/b.yml" verify
expect_rc verify-bad 1
check "verify names the corrupt object" grep -q "$A.*FAILED" "$T/verify-bad.out"
run_bk restore-bad --config "$T/b.yml" restore --exchange gateio \
	--from 2026-11-20 --to 2026-11-21 --into "$T/into"
expect_rc restore-bad 1
check "restore names it" grep -q "$A.*verification failed" "$T/restore-bad.err"
check "the good hours were restored" \
	test -f "$T/into/gateio/2026-11-20/03/BTC_USDT.incremental_book_L2.csv"
run_bk repair --config "$T/b.yml" push
expect_rc repair 0
run_bk verify-fixed --config "$T/b.yml" verify
expect_rc verify-fixed 0

# --- prune: local only once verified everywhere; remote by age
run_bk prune-local --config "$T/b.yml" --now 2026-12-01 prune
expect_rc prune-local 0
check "local archives past keep_local_days removed once verified" \
	test -z "$(find "$D/archive" -name '*.tar.gz*')"
check "remote copies kept (younger than keep_remote_days)" \
	test "$(find "$T/s3/bkt" -name '*.tar.gz' | wc -l)" -eq 6
python3 "$MKDATA" --data-dir "$D" --start 2026-11-21T00 --hours 1 --seed 7 ||
	exit 1
run_bk prune-unshipped --config "$T/b.yml" --now 2026-12-01 prune
expect_rc prune-unshipped 0
check "an unshipped local archive is never pruned" \
	test "$(find "$D/archive" -name '*.tar.gz' | wc -l)" -eq 1
run_bk prune-remote --config "$T/b.yml" --now 2027-11-21 prune
expect_rc prune-remote 0
check "remote archives past keep_remote_days deleted, with sidecars" \
	test -z "$(find "$T/s3/bkt" -name '*2026-11-20T*')"
check "ledger records pruned_remote" \
	test "$(grep -c ',s3,pruned_remote,' "$D/state/backup-ledger.csv")" -eq 6

finish
