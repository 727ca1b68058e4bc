#!/usr/bin/env bash
# Every unit in scripts/systemd must pass `systemd-analyze verify` with
# no output at all: it exits 0 on unknown keys and bad values and only
# warns (LIBRARIES.md §7), so any line printed is a failure. ExecStart
# is pointed at the built binaries in a temp copy.
set -euo pipefail
build=$(realpath "${BUILD:-build}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! command -v systemd-analyze >/dev/null; then
	echo "FAIL: systemd-analyze not installed"
	exit 1
fi
for u in scripts/systemd/*.service scripts/systemd/*.timer; do
	sed -e "s|/usr/local/bin/booktape-|$build/booktape-|g" "$u" >"$tmp/$(basename "$u")"
done
fail=0
for u in "$tmp"/*.service "$tmp"/*.timer; do
	name=$(basename "$u")
	target=$u
	case "$name" in
	*@.service) target="$tmp/${name%@.service}@gateio.service" ;;
	esac
	out=$(cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$target" 2>&1) || true
	if [ -n "$out" ]; then
		echo "FAIL: $name:"
		printf '%s\n' "$out" | sed 's/^/    /'
		fail=1
	else
		echo "PASS: $name"
	fi
done
exit "$fail"
