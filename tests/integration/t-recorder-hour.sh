#!/usr/bin/env bash
# A quiet pair (no book change at all) still gets its hourly file: at the
# start of each hour every synced pair writes its snapshot block, so the
# hour can be read alone. The recorder runs under libfaketime, its wall
# clock starting two seconds before an hour (the monotonic clock, which
# drives lws's timers, stays real).
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

FT=$(find /usr/lib -name libfaketimeMT.so.1 2>/dev/null | head -n 1)
[ -n "$FT" ] || fail "libfaketime is not installed (scripts/install-deps.sh)"

# A pair whose book never changes: after its first full push, no message.
start_sim sim --pairs BTC_USDT --rate 0 --seed 3
write_config "$TMP/rec.yml" '"BTC-USDT"' "channel: spot.obu" \
	"stale_after: 3600"
ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
	LD_PRELOAD=$FT FAKETIME="@2026-03-01 09:59:57" FAKETIME_DONT_FAKE_MONOTONIC=1 \
	FAKETIME_NO_CACHE=1 start_rec rec "$TMP/rec.yml"
wait_healthy 10
# Past 10:00:00 by a few ticks.
for _ in $(seq 1 $((60 * MULT))); do
	[ -e "$TMP/data/live/gateio/2026-03-01/10" ] && break
	sleep 0.1
done
sleep 0.5
stop_rec
for h in 09 10; do
	f=$TMP/data/live/gateio/2026-03-01/$h/BTC_USDT.incremental_book_L2.csv
	[ -s "$f" ] || fail "no incremental_book_L2 file for the quiet pair in hour $h: $(find "$TMP/data" -type f)"
	head -n 2 "$f" | tail -n 1 | grep -q ',true,' ||
		fail "hour $h does not open with a snapshot block: $(head -n 3 "$f")"
	rows=$(awk -F, 'NR > 1 && $5 == "false"' "$f" | wc -l)
	[ "$rows" -eq 0 ] || fail "hour $h: $rows diff rows for a pair whose book never changed"
done
python3 "$CHECK" "$TMP/data" "$TMP/truth" gateio BTC_USDT --no-truth ||
	fail "the quiet pair's files are not whole"
pass "a quiet pair writes its snapshot block at the start of the hour"
