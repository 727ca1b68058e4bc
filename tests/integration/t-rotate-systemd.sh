#!/usr/bin/env bash
# booktape-rotate.service and .timer pass `systemd-analyze verify` with no
# output at all (it exits 0 on unknown keys and bad values, LIBRARIES.md
# §7, so any line is a failure), generated with ExecStart pointed at the
# built binary; the timer fires at 5 past each hour.
set -euo pipefail
build=$(realpath "${BUILD:-build}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v systemd-analyze >/dev/null || {
	echo "FAIL: systemd-analyze not installed"
	exit 1
}
# The units as `make install` generates them, for the built binaries.
sh scripts/gen-units.sh "$tmp/all" "$build" /etc
for u in booktape-rotate.service booktape-rotate.timer; do
	cp "$tmp/all/$u" "$tmp/$u"
done
grep -q "ExecStart=$build/booktape-rotate " "$tmp/booktape-rotate.service" || {
	echo "FAIL: ExecStart not generated for the built binary"
	exit 1
}
out=$(cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no \
	booktape-rotate.service booktape-rotate.timer 2>&1) || {
	echo "FAIL: systemd-analyze verify: $out"
	exit 1
}
if [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify printed:"
	printf '%s\n' "$out" | sed 's/^/    /'
	exit 1
fi
echo "PASS: systemd-analyze verify is silent"
# A broken copy must be caught, or this test proves nothing.
sed -i 's/^ProtectSystem=strict/ProtectSystme=strict/' "$tmp/booktape-rotate.service"
out=$(cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no booktape-rotate.service 2>&1) || true
[ -n "$out" ] || {
	echo "FAIL: a misspelt key went unnoticed"
	exit 1
}
next=$(systemd-analyze calendar --iterations=2 '*-*-* *:05:00' | grep -c ':05:00')
[ "$next" -ge 2 ] || {
	echo "FAIL: calendar expression"
	exit 1
}
for k in Type=oneshot User=booktape PrivateNetwork=yes IOSchedulingClass=idle ProtectSystem=strict \
	'StateDirectory=booktape prometheus/node-exporter'; do
	grep -qx "$k" "$tmp/all/booktape-rotate.service" || {
		echo "FAIL: service lacks $k"
		exit 1
	}
done
for k in 'OnCalendar=\*-\*-\* \*:05:00' Persistent=true AccuracySec=1s; do
	grep -qx "$k" "$tmp/all/booktape-rotate.timer" || {
		echo "FAIL: timer lacks $k"
		exit 1
	}
done
echo "PASS: units hardened, timer hourly at :05 and persistent"
