#!/bin/sh
# Project rules that compilers do not check: every .c includes banned.h
# last; core/ never exits, prints or calls x* allocators.
set -u
fail=0
for f in core/*.c recorder/*.c rotate/*.c backup/*.c tests/sim/*.c; do
	[ -e "$f" ] || continue
	last=$(grep -n '^#include' "$f" | tail -n 1 | cut -d: -f2-)
	if [ "$last" != '#include "banned.h"' ]; then
		echo "$f: the last #include must be \"banned.h\""
		fail=1
	fi
done
# Core never dies and never prints (log.c is the one printer).
core_files=$(find core -name '*.c' ! -name log.c | sort)
# shellcheck disable=SC2086 # a list of plain file names
if grep -nE '\b(exit|_exit|abort|printf|puts|perror|xmalloc|xcalloc|xstrdup|fatal)\s*\(' \
	$core_files | grep -v 'snprintf\|vsnprintf\|fprintf(fp'; then
	echo "core/: must not exit, print or use x* allocators (see STYLE.md)"
	fail=1
fi
exit "$fail"
