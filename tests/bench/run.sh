#!/usr/bin/env bash
# `make bench`: run every microbenchmark binary given, then every
# tests/bench/*.bench.sh script. Benchmarks report ratios against a
# baseline measured in the same run; none of them asserts on time.
set -u
fail=0
for b in "$@"; do
	echo "== $(basename "$b")"
	"$b" || fail=1
done
for s in tests/bench/*.bench.sh; do
	[ -e "$s" ] || continue
	echo "== $(basename "$s")"
	bash "$s" || fail=1
done
exit "$fail"
