# shellcheck shell=bash
# Shared by the t-backup-*.sh integration scripts: a sandbox with a trap
# for cleanup, PASS/FAIL bookkeeping and config writers.

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/skip.sh
. "$HERE/../skip.sh"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
BK=$BUILD/booktape-backup
# shellcheck disable=SC2034  # used by the scripts that source this
MKDATA=$HERE/backup_mkdata.py
# Tests never wait long for a retry.
export BOOKTAPE_BACKUP_RETRIES=${BOOKTAPE_BACKUP_RETRIES:-3}
export BOOKTAPE_BACKUP_RETRY_DELAY_MS=${BOOKTAPE_BACKUP_RETRY_DELAY_MS:-50}

T=$(mktemp -d /tmp/booktape-backup-test.XXXXXX)
FAILS=0
CLEANUPS=()
cleanup() {
	local c
	for c in "${CLEANUPS[@]}"; do eval "$c" || true; done
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "sandbox kept: $T"
	fi
}
trap cleanup EXIT

pass() { echo "PASS: $*"; }
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}
# check DESCRIPTION COMMAND...: PASS when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
	if [ "$FAILS" -eq 0 ]; then
		echo "all passed"
		exit 0
	fi
	echo "$FAILS check(s) failed"
	exit 1
}

# run_bk NAME ARGS...: run booktape-backup, keep rc in RC and stderr in
# $T/NAME.err.
run_bk() {
	local name=$1
	shift
	"$BK" "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	return 0
}

# expect_rc NAME WANT: compare the last RC, show stderr when it differs.
expect_rc() {
	if [ "$RC" -eq "$2" ]; then
		pass "$1 (exit $RC)"
	else
		fail "$1: exit $RC, expected $2"
		sed 's/^/    /' "$T/$1.err" 2>/dev/null | tail -n 20
	fi
}

# same_tree A B: every file of A is in B with identical bytes, and B has
# no other file.
same_tree() {
	diff -r "$1" "$2" >/dev/null
}

# write_config FILE DATA_DIR DESTINATION-YAML [secrets file]
write_config() {
	local f=$1 data=$2 dests=$3 sec=${4:-}
	{
		echo "config:"
		echo "  data_dir: \"$data\""
		echo "  textfile_dir: \"$T/prom\""
		[ -n "$sec" ] && echo "  secrets_file: \"$sec\""
		echo "  keep_local_days: 7"
		echo "  keep_remote_days: 365"
		echo "  destinations:"
		printf '%s\n' "$dests"
	} >"$f"
	mkdir -p "$T/prom"
}

# Every archive name at a file:// root is complete: its sha256 is the one
# of the local archive of the same name.
remote_complete() {
	local root=$1 local_dir=$2 f rel
	while IFS= read -r f; do
		rel=${f#"$root"/}
		[ -f "$local_dir/$rel" ] || return 1
		[ "$(sha256sum <"$f")" = "$(sha256sum <"$local_dir/$rel")" ] || return 1
	done < <(find "$root" -name '*.tar.gz' -type f)
	return 0
}
