#!/usr/bin/env bash
# Round trip on files written by the recorder's own hourly writer
# (core/hourfile via build/helpers/rotate-hourgen): every finished hour is
# sealed, extracts byte-identical with GNU tar and libarchive, and the
# hour still being written is left alone.
# shellcheck source=tests/integration/lib-rotate.sh
. "$(dirname "$0")/lib-rotate.sh"

GEN=$BUILD/helpers/rotate-hourgen
write_config 120
"$GEN" "$DATA" gateio 2026-11-26T01:00Z 4 3000 || fail "hourfile writer"
D=2026-11-26
for h in 01 02 03 04; do
	[ -s "$DATA/live/gateio/$D/$h/BTC_USDT.incremental_book_L2.csv" ] || fail "no recorder file for $h"
done
snapshot_tree "$DATA/live" "$T/orig"
"$ROT" --config "$CONF" --now ${D}T04:30Z 2>"$T/log" || fail "rotate: $(cat "$T/log")"
diff -r "$T/orig/gateio/$D/04" "$DATA/live/gateio/$D/04" || fail "current hour touched"
rm -rf "$T/orig/gateio/$D/04"
mkdir -p "$T/gnu" "$T/la"
for h in 01 02 03; do
	a=$DATA/archive/gateio/$D/gateio_${D}T$h.tar.gz
	(cd "$(dirname "$a")" && sha256sum --quiet -c "$(basename "$a").sha256") || fail "sidecar $h"
	tar -xzf "$a" -C "$T/gnu" || fail "GNU tar $h"
	"$TARX" "$a" "$T/la" >/dev/null || fail "libarchive $h"
	rm -f "$T"/gnu/*.csv "$T"/la/*.csv
done
diff -r "$T/orig" "$T/gnu" || fail "GNU tar extraction differs"
diff -r "$T/orig" "$T/la" || fail "libarchive extraction differs"
[ "$(prom_value booktape_rotate_torn_tails_cut)" = 0 ] || fail "recorder files had torn tails"
pass "recorder-written hours round-trip byte for byte"
