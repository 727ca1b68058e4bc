#!/usr/bin/env bash
# booktape-backup's units: `systemd-analyze verify` must print nothing
# (it exits 0 on unknown keys, so any output fails), with ExecStart
# pointed at the built binary; the timer is hourly, randomized and
# persistent; the service is a hardened oneshot with network access.
set -u
build=$(realpath "${BUILD:-build}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for u in scripts/systemd/booktape-backup.service scripts/systemd/booktape-backup.timer; do
	sed "s|/usr/local/bin/booktape-backup|$build/booktape-backup|g" "$u" \
		>"$tmp/$(basename "$u")"
done
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
s=scripts/systemd/booktape-backup.service
t=scripts/systemd/booktape-backup.timer
for want in "Type=oneshot" "ProtectSystem=strict" "NoNewPrivileges=yes" \
	"ReadWritePaths=/var/lib/booktape /var/lib/prometheus/node-exporter" \
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
