#!/bin/sh
# Replay each fuzz harness over its committed corpus
# (tests/fuzz/corpus/<harness>/) under the normal compiler.
set -u
fail=0
for t in "$@"; do
	name=$(basename "$t")
	dir="tests/fuzz/corpus/$name"
	if [ ! -d "$dir" ] || [ -z "$(ls -A "$dir")" ]; then
		echo "FAIL: $name has no corpus in $dir"
		fail=1
		continue
	fi
	if ! "$t" "$dir"/*; then
		echo "FAIL: $name"
		fail=1
	fi
done
exit "$fail"
