#!/usr/bin/env bash
# booktape-backup's units: `systemd-analyze verify` must print nothing
# (it exits 0 on unknown keys, so any output fails), with ExecStart
# generated for the built binary; the timer is hourly, randomized and
# persistent; the service is a hardened oneshot with network access.
set -u
build=$(realpath "${BUILD:-build}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# The units as `make install` generates them, for the built binaries.
sh scripts/gen-units.sh "$tmp/all" "$build" /etc || exit 1
cp "$tmp/all/booktape-backup.service" "$tmp/all/booktape-backup.timer" "$tmp/"
out=$(cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no \
	booktape-backup.service booktape-backup.timer 2>&1)
rc=$?
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify (rc $rc):"
	printf '%s\n' "$out" | sed 's/^/    /'
	fail=1
else
	echo "PASS: systemd-analyze verify prints nothing"
fi
s=$tmp/booktape-backup.service
t=$tmp/booktape-backup.timer
for want in "Type=oneshot" "ProtectSystem=strict" "NoNewPrivileges=yes" \
	"StateDirectory=booktape prometheus/node-exporter" \
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"; do
	if grep -qxF "$want" "$s"; then echo "PASS: $want"; else
		echo "FAIL: service lacks $want"; fail=1; fi
done
if grep -q '^PrivateNetwork=yes' "$s"; then
	echo "FAIL: backup needs the network"; fail=1
fi
for want in "Persistent=true" "RandomizedDelaySec=600" "OnCalendar=*-*-* *:10:00"; do
	if grep -qxF "$want" "$t"; then echo "PASS: $want"; else
		echo "FAIL: timer lacks $want"; fail=1; fi
done
exit "$fail"
