#!/usr/bin/env bash
# The units as `make install` generates them (scripts/gen-units.sh from
# scripts/systemd/*.in) must pass `systemd-analyze verify` with no output
# at all: it exits 0 on unknown keys and bad values and only warns
# (LIBRARIES.md §7), so any line printed is a failure. ExecStart points
# at the built binaries here. `make install PREFIX=/usr` must put
# /usr/bin in every ExecStart; the recorder's `systemd-analyze security`
# exposure must stay at or below 1.2. tests/fleet/t-units-host.sh runs
# the same units on a real systemd host.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "${BUILD:-build}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! command -v systemd-analyze >/dev/null; then
	echo "FAIL: systemd-analyze not installed"
	exit 1
fi
fail=0
sh "$ROOT/scripts/gen-units.sh" "$tmp/u" "$build" /etc
for u in "$tmp"/u/*.service "$tmp"/u/*.timer; do
	name=$(basename "$u")
	target=$u
	case "$name" in
	*@.service)
		target="$tmp/u/${name%@.service}@gateio.service"
		cp "$u" "$target"
		;;
	esac
	out=$(cd "$tmp/u" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$target" 2>&1) || true
	if [ -n "$out" ]; then
		echo "FAIL: $name:"
		printf '%s\n' "$out" | sed 's/^/    /'
		fail=1
	else
		echo "PASS: $name"
	fi
done

out=$(cd "$tmp/u" && systemd-analyze security --offline=true --threshold=12 \
	booktape-recorder@gateio.service 2>&1) || {
	echo "FAIL: recorder exposure above 1.2:"
	printf '%s\n' "$out" | tail -n 3 | sed 's/^/    /'
	fail=1
}
[ "$fail" -eq 0 ] && echo "PASS: recorder $(printf '%s\n' "$out" | grep -o 'exposure level.*' | head -1)"

make -s -C "$ROOT" BUILD="$build" install PREFIX=/usr DESTDIR="$tmp/stage" >/dev/null
units=$tmp/stage/lib/systemd/system
if grep -n '^ExecStart' "$units"/*.service | grep -v '=/usr/bin/booktape-'; then
	echo "FAIL: make install PREFIX=/usr left an ExecStart outside /usr/bin"
	fail=1
elif [ "$(grep -c '^ExecStart.*=/usr/bin/booktape-' "$units"/*.service | awk -F: '{ s += $2 } END { print s }')" -lt 5 ]; then
	echo "FAIL: make install PREFIX=/usr: ExecStart lines missing"
	fail=1
else
	echo "PASS: make install PREFIX=/usr: every ExecStart under /usr/bin"
fi
exit "$fail"
