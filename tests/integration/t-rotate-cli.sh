#!/usr/bin/env bash
# booktape-rotate's command line: --help/--version, --check-config, a bad
# config exits 2 with file:line:column, the lock makes a second run exit
# 75, and two runs started together never collide.
# shellcheck source=tests/integration/lib-rotate.sh
. "$(dirname "$0")/lib-rotate.sh"

"$ROT" --help >"$T/help" || fail "--help exit"
for w in --config --now --dry-run --exchange --check-config BOOKTAPE_FAULT 75; do
	grep -q -- "$w" "$T/help" || fail "--help lacks $w"
done
"$ROT" --version | grep -q '^booktape-rotate [0-9]' || fail "--version"
rc=0
"$ROT" --bogus 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "unknown option: exit $rc"
pass "--help, --version, unknown option"

write_config 300 3 9
"$ROT" --config "$CONF" --check-config >"$T/eff" || fail "--check-config"
for k in 'grace: 300' 'keep_days: 3' 'gzip_level: 9'; do
	grep -q "$k" "$T/eff" || fail "--check-config output lacks $k: $(cat "$T/eff")"
done
pass "--check-config prints the effective config"

cat >"$T/bad.yml" <<'EOC'
config:
  data_dir: "/tmp/x"
  gzip_level: 12
  no_such_key: 1
EOC
rc=0
"$ROT" --config "$T/bad.yml" --check-config 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "bad config (--check-config): exit $rc"
grep -q "^$T/bad.yml:3:[0-9]*: " "$T/err" || fail "no file:line:column for gzip_level: $(cat "$T/err")"
grep -q "^$T/bad.yml:4:[0-9]*: " "$T/err" || fail "no file:line:column for the unknown key: $(cat "$T/err")"
rc=0
"$ROT" --config "$T/bad.yml" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "bad config: exit $rc"
[ -e /tmp/x/state ] && fail "bad config still ran"
rc=0
"$ROT" --config "$T/missing.yml" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "missing config: exit $rc"
rc=0
"$ROT" --config "$CONF" --now yesterday 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "bad --now: exit $rc"
pass "bad config and bad --now exit 2 with file:line:column"

write_config 120 7 1
D=2026-11-26
mkdir -p "$DATA/state"
make_hour gateio $D 03 100
exec 9>"$DATA/state/rotate.lock"
flock -n 9 || fail "could not take the lock"
rc=0
"$ROT" --config "$CONF" --now ${D}T05:00Z 2>"$T/err" || rc=$?
[ "$rc" = 75 ] || fail "locked: exit $rc"
grep -q "held by another run" "$T/err" || fail "locked: message $(cat "$T/err")"
[ -d "$DATA/live/gateio/$D/03" ] || fail "locked run touched data"
exec 9>&-
pass "a held lock makes the run exit 75 without touching data"

# Two runs at once on many hours: each exits 0 or 75, every hour ends up
# sealed exactly once.
for h in 00 01 02 03 04 05 06 07; do
	make_hour gateio $D $h 4000
	make_hour mexc $D $h 4000
done
snapshot_tree "$DATA/live" "$T/orig"
"$ROT" --config "$CONF" --now ${D}T09:00Z 2>"$T/a.log" &
p1=$!
"$ROT" --config "$CONF" --now ${D}T09:00Z 2>"$T/b.log" &
p2=$!
r1=0
r2=0
wait $p1 || r1=$?
wait $p2 || r2=$?
case "$r1/$r2" in
0/0 | 0/75 | 75/0) ;;
*) fail "concurrent runs exited $r1 and $r2: $(cat "$T/a.log" "$T/b.log")" ;;
esac
"$ROT" --config "$CONF" --now ${D}T09:00Z 2>/dev/null || fail "follow-up run"
n=$(find "$DATA/archive" -name '*.tar.gz' | wc -l)
[ "$n" = 16 ] || fail "$n archives for 16 hours"
mkdir -p "$T/x"
for a in "$DATA"/archive/*/*/*.tar.gz; do
	tar -xzf "$a" -C "$T/x"
	rm -f "$T/x/MANIFEST.csv"
done
diff -r "$T/orig" "$T/x" || fail "concurrent runs lost or changed data"
[ -z "$(find "$DATA" -name '.*tmp*')" ] || fail "temp files left"
pass "two concurrent runs ($r1, $r2) do not collide"
