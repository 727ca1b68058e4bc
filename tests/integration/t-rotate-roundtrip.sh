#!/usr/bin/env bash
# booktape-rotate round trip: finished hours of two exchanges are sealed,
# GNU tar and libarchive both give back the original bytes, sha256sum
# accepts the sidecars, the current hour (and the one inside `grace`) is
# untouched, a torn tail is cut and recorded, a rerun changes nothing,
# sealing the same files again gives the same bytes.
# shellcheck source=tests/integration/lib-rotate.sh
. "$(dirname "$0")/lib-rotate.sh"

write_config 120
D=2026-11-26
make_hour gateio $D 02 3000
make_hour gateio $D 03 3000
make_hour mexc $D 03 500
make_hour gateio $D 04 200 # current hour at --now
# A torn tail: the recorder died mid-line.
printf 'gateio,BTC_USDT,17956' >>"$DATA/live/gateio/$D/03/BTC_USDT.incremental_book_L2.csv"
snapshot_tree "$DATA/live" "$T/orig"
# Hour 03 ended at 04:00; 04:01:59 is inside grace, 04:02:00 is not.
"$ROT" --config "$CONF" --now ${D}T04:01:59Z 2>"$T/log0" || fail "early run: $(cat "$T/log0")"
[ -d "$DATA/live/gateio/$D/03" ] || fail "hour 03 sealed inside grace"
[ -d "$DATA/live/gateio/$D/02" ] && fail "hour 02 not sealed"
"$ROT" --config "$CONF" --now ${D}T04:02:00Z 2>"$T/log" || fail "run: $(cat "$T/log")"
pass "runs exit 0"

for h in gateio/$D/gateio_${D}T02 gateio/$D/gateio_${D}T03 mexc/$D/mexc_${D}T03; do
	[ -s "$DATA/archive/$h.tar.gz" ] || fail "missing $h.tar.gz"
	(cd "$(dirname "$DATA/archive/$h")" && sha256sum --quiet -c "$(basename "$h").tar.gz.sha256") ||
		fail "sha256sum -c rejects $h"
done
pass "archives and sidecars in place, sha256sum -c accepts them"

[ -d "$DATA/live/gateio/$D/03" ] && fail "hour 03 originals left"
[ -d "$DATA/live/mexc/$D/03" ] && fail "mexc hour 03 left"
[ -d "$DATA/live/mexc/$D" ] || fail "date directory removed before its day ended"
diff -r "$T/orig/gateio/$D/04" "$DATA/live/gateio/$D/04" || fail "current hour touched"
pass "originals removed, current hour untouched"

mkdir -p "$T/gnu" "$T/la"
for a in "$DATA"/archive/*/*/*.tar.gz; do
	tar -xzf "$a" -C "$T/gnu" 2>"$T/tarerr" || fail "GNU tar: $(cat "$T/tarerr")"
	[ -s "$T/tarerr" ] && fail "GNU tar warned: $(cat "$T/tarerr")"
	"$TARX" "$a" "$T/la" >/dev/null || fail "libarchive extraction of $a"
	rm -f "$T/gnu/MANIFEST.csv" "$T/gnu/CUTS.csv" "$T/la/MANIFEST.csv" "$T/la/CUTS.csv"
	tar -xzf "$a" -C "$T" MANIFEST.csv
	mv "$T/MANIFEST.csv" "$T/$(basename "$a").MANIFEST.csv"
done
# The torn tail is the only difference from the originals.
torn=gateio/$D/03/BTC_USDT.incremental_book_L2.csv
size=$(stat -c %s "$T/orig/$torn")
head -c $((size - 21)) "$T/orig/$torn" >"$T/expected"
cmp "$T/expected" "$T/gnu/$torn" || fail "torn file not cut at the last newline"
cp "$T/expected" "$T/orig/$torn"
rm -rf "$T/orig/gateio/$D/04"
diff -r "$T/orig" "$T/gnu" || fail "GNU tar extraction differs from the originals"
diff -r "$T/orig" "$T/la" || fail "libarchive extraction differs from the originals"
pass "GNU tar and libarchive extract byte-identical originals"

# Modes and mtimes are the originals'.
[ "$(stat -c %Y "$T/orig/gateio/$D/02/BTC_USDT.book_events.csv")" = \
	"$(stat -c %Y "$T/gnu/gateio/$D/02/BTC_USDT.book_events.csv")" ] || fail "mtime not kept"

# The manifest: every file, its size, row count, sha256 and time range.
m=$T/gateio_${D}T03.tar.gz.MANIFEST.csv
head -n1 "$m" | grep -qx 'file,bytes,rows,sha256,first_local_timestamp,last_local_timestamp' ||
	fail "manifest header"
[ "$(wc -l <"$m")" -eq 5 ] || fail "manifest rows: $(cat "$m")"
line=$(grep "^$torn," "$m")
IFS=, read -r _ bytes rows sha first last <<<"$line"
[ "$bytes" = "$(stat -c %s "$T/gnu/$torn")" ] || fail "manifest bytes"
[ "$rows" = 3000 ] || fail "manifest rows $rows"
[ "$sha" = "$(sha256sum <"$T/gnu/$torn" | cut -d' ' -f1)" ] || fail "manifest sha256"
[ "$first" = "$(($(hour_epoch $D 03) * 1000000))" ] || fail "first_local_timestamp $first"
[ "$last" -lt "$(($(hour_epoch $D 04) * 1000000))" ] || fail "last_local_timestamp $last"
tar -xzOf "$DATA/archive/gateio/$D/gateio_${D}T03.tar.gz" CUTS.csv >"$T/cuts"
grep -q "^$torn,$bytes,21,.*,partial line$" "$T/cuts" || fail "cut not recorded: $(cat "$T/cuts")"
tar -tzf "$DATA/archive/gateio/$D/gateio_${D}T02.tar.gz" | grep -q CUTS.csv && fail "CUTS.csv without a cut"
grep -q "cut 21 bytes (partial line)" "$T/log" || fail "cut not logged"
pass "manifest and CUTS.csv record files, rows, hashes, times and the cut"

# Gauges about the last run: it made the two hour-03 archives.
[ "$(prom_value booktape_rotate_archives_made)" = 2 ] || fail "archives_made"
[ "$(prom_value booktape_rotate_torn_tails_cut)" = 1 ] || fail "torn_tails_cut"
[ "$(prom_value booktape_rotate_errors)" = 0 ] || fail "errors"
bytes_out=$(cat "$DATA"/archive/*/*/*T03.tar.gz | wc -c)
[ "$(prom_value booktape_rotate_bytes_out)" = "$bytes_out" ] || fail "bytes_out"
pass "metrics count the run"

# Idempotent: nothing to do, nothing changes.
sums=$(cd "$DATA/archive" && find . -type f -exec sha256sum {} + | sort)
"$ROT" --config "$CONF" --now ${D}T04:02:00Z 2>"$T/log2" || fail "rerun: $(cat "$T/log2")"
[ "$sums" = "$(cd "$DATA/archive" && find . -type f -exec sha256sum {} + | sort)" ] || fail "rerun changed archives"
[ "$(prom_value booktape_rotate_archives_made)" = 0 ] || fail "rerun made archives"
pass "rerun is a no-op"

# Sealing the same files again (an hour restored from a backup onto a
# rebuilt host) gives the same archive, byte for byte.
a=$DATA/archive/gateio/$D/gateio_${D}T02.tar.gz
mkdir -p "$T/again/live" "$T/again-prom"
sleep 1 # a manifest stamped "now" would differ
tar -xzf "$a" -C "$T/again/live" --exclude=MANIFEST.csv --exclude=CUTS.csv
sed "s#\"$DATA\"#\"$T/again\"#; s#\"$PROM\"#\"$T/again-prom\"#" "$CONF" >"$T/again.yml"
"$ROT" --config "$T/again.yml" --now ${D}T04:02:00Z 2>"$T/log-again" || fail "reseal: $(cat "$T/log-again")"
cmp -s "$a" "$T/again/archive/gateio/$D/gateio_${D}T02.tar.gz" ||
	fail "sealing the same hour again is not byte-identical"
pass "sealing the same files again gives the same archive"

# --exchange and --dry-run.
make_hour okx $D 01 10
"$ROT" --config "$CONF" --now ${D}T04:02:00Z --dry-run >"$T/dry" 2>&1 || fail "dry run"
grep -q "would seal .*okx_${D}T01.tar.gz" "$T/dry" || fail "dry run output: $(cat "$T/dry")"
[ -d "$DATA/live/okx/$D/01" ] || fail "dry run changed something"
"$ROT" --config "$CONF" --now ${D}T04:02:00Z --exchange mexc 2>/dev/null || fail "--exchange run"
[ -d "$DATA/live/okx/$D/01" ] || fail "--exchange mexc sealed okx"
"$ROT" --config "$CONF" --now ${D}T04:02:00Z --exchange okx 2>/dev/null || fail "--exchange okx"
[ -s "$DATA/archive/okx/$D/okx_${D}T01.tar.gz" ] || fail "okx not sealed"
pass "--dry-run changes nothing, --exchange limits the run"

# A bad row in the middle: the hour is refused, the originals kept.
make_hour gateio $D 01 100
sed -i '50s/,bid,/,middle,/; 50s/,ask,/,middle,/' "$DATA/live/gateio/$D/01/BTC_USDT.incremental_book_L2.csv"
rc=0
"$ROT" --config "$CONF" --now ${D}T04:02:00Z 2>"$T/log3" || rc=$?
[ "$rc" = 1 ] || fail "bad row: exit $rc"
grep -q "line 50: field 'side'" "$T/log3" || fail "bad row not named: $(cat "$T/log3")"
[ -f "$DATA/live/gateio/$D/01/BTC_USDT.incremental_book_L2.csv" ] || fail "bad hour originals removed"
[ -e "$DATA/archive/gateio/$D/gateio_${D}T01.tar.gz" ] && fail "bad hour archived"
[ -z "$(find "$DATA/archive" -name '*.tmp.*')" ] || fail "temp file left"
[ "$(prom_value booktape_rotate_hour_dirs_pending)" = 1 ] || fail "hours_pending"
[ "$(prom_value booktape_rotate_errors)" = 1 ] || fail "errors"
pass "a schema error keeps the hour live and is counted"
