#!/usr/bin/env bash
# Run the black-box integration scripts. Each prints its own PASS/FAIL
# lines; this prints the closing tally and fails if any script failed.
set -u
pass=0
fail=0
failed=()
for t in "$@"; do
	start=$(date +%s)
	log=$(mktemp)
	if bash "$t" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS: $(basename "$t") ($(($(date +%s) - start)) s)"
	else
		fail=$((fail + 1))
		failed+=("$t")
		echo "FAIL: $(basename "$t") ($(($(date +%s) - start)) s)"
		sed 's/^/    /' "$log" | tail -n 60
	fi
	rm -f "$log"
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
