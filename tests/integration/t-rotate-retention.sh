#!/usr/bin/env bash
# Local retention: archives older than keep_days go only when the backup
# ledger shows them verified (with the sidecar's sha256) on at least one
# destination; without a ledger nothing is removed.
# shellcheck source=tests/integration/lib-rotate.sh
. "$(dirname "$0")/lib-rotate.sh"

write_config 120 7
for d in 2026-11-01 2026-11-02 2026-11-03 2026-11-20; do
	make_hour gateio $d 10 20
done
NOW=2026-11-26T00:30:00Z
"$ROT" --config "$CONF" --now $NOW 2>/dev/null || fail "seal"
arch() { echo "gateio/$1/gateio_$1T10.tar.gz"; }
sha() { cut -d' ' -f1 "$DATA/archive/$(arch "$1").sha256"; }
[ "$(find "$DATA/archive" -name '*.tar.gz' | wc -l)" = 4 ] || fail "setup"
"$ROT" --config "$CONF" --now $NOW 2>"$T/log" || fail "no-ledger run"
[ "$(find "$DATA/archive" -name '*.tar.gz' | wc -l)" = 4 ] || fail "removed without a ledger"
grep -q "no backup ledger" "$T/log" || fail "no-ledger not logged"
pass "without a ledger nothing is removed"

L=$DATA/state/backup-ledger.csv
{
	echo "time,archive,destination,status,bytes,sha256"
	# 11-01: shipped and verified on nas: removed.
	echo "2026-11-01T12:00:00Z,$(arch 2026-11-01),nas,shipped,1,$(sha 2026-11-01)"
	echo "2026-11-01T12:01:00Z,$(arch 2026-11-01),nas,verified,1,$(sha 2026-11-01)"
	# 11-02: shipped only: kept.
	echo "2026-11-02T12:00:00Z,$(arch 2026-11-02),nas,shipped,1,$(sha 2026-11-02)"
	# 11-03: verified, but another archive's sha256: kept.
	echo "2026-11-03T12:00:00Z,$(arch 2026-11-03),s3,verified,1,$(sha 2026-11-01)"
	# 11-20: verified but younger than keep_days: kept.
	echo "2026-11-20T12:00:00Z,$(arch 2026-11-20),nas,verified,1,$(sha 2026-11-20)"
	printf '2026-11-21T12:00:00Z,gateio/2026-11-03/gateio_2026-11-03T10.tar.gz,nas,verif'
} >"$L"
"$ROT" --config "$CONF" --dry-run --now $NOW >"$T/dry" 2>/dev/null || fail "dry run"
grep -q "would remove .*gateio_2026-11-01T10.tar.gz" "$T/dry" || fail "dry run: $(cat "$T/dry")"
[ -e "$DATA/archive/$(arch 2026-11-01)" ] || fail "dry run removed"
"$ROT" --config "$CONF" --now $NOW 2>"$T/log" || fail "ledger run: $(cat "$T/log")"
[ -e "$DATA/archive/$(arch 2026-11-01)" ] && fail "verified old archive kept"
[ -e "$DATA/archive/$(arch 2026-11-01).sha256" ] && fail "its sidecar kept"
[ -d "$DATA/archive/gateio/2026-11-01" ] && fail "empty date directory kept"
for d in 2026-11-02 2026-11-03 2026-11-20; do
	[ -e "$DATA/archive/$(arch $d)" ] || fail "$d removed"
done
[ "$(prom_value booktape_rotate_archives_removed)" = 1 ] || fail "archives_removed"
pass "only the old archive verified offsite with its sha256 is removed"

# A later failure cancels "verified"; a bad ledger removes nothing.
sed -i '$d' "$L" # the torn record, as ledger_append would drop it
make_hour gateio 2026-11-04 10 20
"$ROT" --config "$CONF" --now $NOW 2>/dev/null || fail "seal 11-04"
echo "2026-11-04T12:00:00Z,$(arch 2026-11-04),nas,verified,1,$(sha 2026-11-04)" >>"$L"
echo "2026-11-05T12:00:00Z,$(arch 2026-11-04),nas,failed,1,$(sha 2026-11-04)" >>"$L"
"$ROT" --config "$CONF" --now $NOW 2>/dev/null || fail "run with failed record"
[ -e "$DATA/archive/$(arch 2026-11-04)" ] || fail "removed after a later failure"
echo "garbage,line" >>"$L"
echo "2026-11-06T12:00:00Z,$(arch 2026-11-02),nas,verified,1,$(sha 2026-11-02)" >>"$L"
rc=0
"$ROT" --config "$CONF" --now $NOW 2>"$T/log" || rc=$?
[ "$rc" = 1 ] || fail "bad ledger: exit $rc"
grep -q "backup-ledger.csv': line" "$T/log" || fail "bad ledger not named: $(cat "$T/log")"
[ -e "$DATA/archive/$(arch 2026-11-02)" ] || fail "removed with a bad ledger"
pass "a later failure keeps the archive; a malformed ledger removes nothing"

# keep_days 0 keeps everything forever.
write_config 120 0
sed -i '/garbage,line/d' "$L"
"$ROT" --config "$CONF" --now $NOW 2>/dev/null || fail "keep_days 0"
[ -e "$DATA/archive/$(arch 2026-11-02)" ] || fail "keep_days 0 removed"
pass "keep_days 0 keeps archives"
