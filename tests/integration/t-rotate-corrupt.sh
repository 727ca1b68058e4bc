#!/usr/bin/env bash
# A flipped byte, a truncated archive and a short entry are each caught
# by the verify step, and the originals stay. The archive is left by a
# run killed right after the rename, so the rerun must verify it.
# shellcheck source=tests/integration/lib-rotate.sh
. "$(dirname "$0")/lib-rotate.sh"

write_config 120 7
D=2026-11-26
NOW=${D}T05:03:00Z
A=$DATA/archive/gateio/$D/gateio_${D}T03.tar.gz

setup_case() {
	rm -rf "$DATA"
	mkdir -p "$DATA"
	make_hour gateio $D 03 3000
	snapshot_tree "$DATA/live" "$T/orig"
	BOOKTAPE_FAULT=rename "$ROT" --config "$CONF" --now $NOW 2>/dev/null || true
	[ -s "$A" ] || fail "no archive to corrupt"
	[ -e "$A.sha256" ] && fail "sidecar written before the fault point"
	return 0
}

expect_refused() { # what
	local rc=0
	"$ROT" --config "$CONF" --now $NOW 2>"$T/log" || rc=$?
	[ "$rc" = 1 ] || fail "$1: exit $rc"
	grep -q "fails verification" "$T/log" || fail "$1: not reported: $(cat "$T/log")"
	diff -r "$T/orig" "$DATA/live" || fail "$1: originals touched"
	[ -e "$A.sha256" ] && fail "$1: sidecar written for a bad archive"
	[ "$(prom_value booktape_rotate_errors)" = 1 ] || fail "$1: errors metric"
	pass "$1 detected, originals kept"
}

setup_case
python3 - "$A" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
d[len(d) // 2] ^= 0x01
open(p, 'wb').write(d)
PY
expect_refused "flipped byte"
grep -q "gzip: \|tar: \|sha256" "$T/log" || fail "no reason given: $(cat "$T/log")"

setup_case
truncate -s -4 "$A"
expect_refused "truncated archive (gzip trailer)"
grep -q "gzip: unexpected end of file\|gzip:" "$T/log" || fail "truncation reason: $(cat "$T/log")"

setup_case
truncate -s "$(($(stat -c %s "$A") / 2))" "$A"
expect_refused "archive truncated to half"

# A short entry: the same archive rebuilt with one member 100 bytes short
# but the original MANIFEST.csv.
setup_case
python3 - "$A" <<'PY'
import io, sys, tarfile
p = sys.argv[1]
src = tarfile.open(p, 'r:gz')
out = io.BytesIO()
dst = tarfile.open(fileobj=out, mode='w:gz', format=tarfile.USTAR_FORMAT)
for m in src.getmembers():
    data = src.extractfile(m).read()
    if m.name.endswith('BTC_USDT.incremental_book_L2.csv'):
        data = data[:-100]
        m.size = len(data)
    dst.addfile(m, io.BytesIO(data))
dst.close()
open(p, 'wb').write(out.getvalue())
PY
expect_refused "short entry"
grep -q "manifest says" "$T/log" || fail "short entry reason: $(cat "$T/log")"

# A live file changed after the archive was made: both kept.
setup_case
echo "gateio,BTC_USDT,1,1,false,bid,1,1" >>"$DATA/live/gateio/$D/03/BTC_USDT.incremental_book_L2.csv"
rc=0
"$ROT" --config "$CONF" --now $NOW 2>"$T/log" || rc=$?
[ "$rc" = 1 ] || fail "changed live file: exit $rc"
grep -q "differs from its copy" "$T/log" || fail "changed live file: $(cat "$T/log")"
[ -f "$DATA/live/gateio/$D/03/BTC_USDT.incremental_book_L2.csv" ] || fail "changed live file removed"
pass "a live file that differs from the archive is kept"
