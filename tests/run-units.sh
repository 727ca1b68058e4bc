#!/bin/sh
# Run each libcheck suite; fail on any failure and on a suite that ran
# no test (libcheck itself exits 0 then).
set -u
fail=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $t exited $rc"
		fail=1
	elif ! printf '%s\n' "$out" | grep -Eq '^[0-9]+%: Checks: [1-9]'; then
		echo "FAIL: $t ran no test"
		fail=1
	fi
done
exit "$fail"
