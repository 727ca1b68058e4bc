#!/usr/bin/env bash
# Build each harness with clang's libFuzzer and run it for FUZZ_SECONDS
# on a copy of its corpus. Not part of `make check`.
set -euo pipefail
build=${BUILD:-build}/fuzz-clang
secs=${FUZZ_SECONDS:-60}
mkdir -p "$build"
pkgs=(libwebsockets libarchive yaml-0.1 openssl zlib libcurl libsystemd)
cflags=$(pkg-config --cflags "${pkgs[@]}")
libs=$(pkg-config --libs "${pkgs[@]}")
for src in "$@"; do
	name=$(basename "$src" .c)
	prog=$(echo "$name" | cut -d_ -f2)
	extra=()
	if [ -d "$prog" ] && [ "$prog" != "core" ]; then
		while IFS= read -r f; do extra+=("$f"); done < <(find "$prog" -name '*.c' ! -name main.c)
	fi
	# shellcheck disable=SC2086
	clang -std=c17 -D_GNU_SOURCE -DBOOKTAPE_VERSION=\"fuzz\" -g -O1 -fsanitize=fuzzer,address,undefined \
		-Icore -Itests -I"$prog" -I"${BUILD:-build}/gen" \
		$cflags -o "$build/$name" "$src" core/*.c \
		"${BUILD:-build}/gen/schema_blob.c" "${extra[@]}" \
		$libs -lcsv -lm -pthread
	corpus="$build/corpus-$name"
	mkdir -p "$corpus"
	cp -n "tests/fuzz/corpus/$name/"* "$corpus/" 2>/dev/null || true
	"$build/$name" -max_total_time="$secs" "$corpus"
done
