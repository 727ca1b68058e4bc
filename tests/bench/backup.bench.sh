#!/usr/bin/env bash
# `make bench`: booktape-backup push throughput to an sftp destination on
# loopback, beside scp of the same files in the same run (same sshd, same
# key). Prints MB/s for each and the ratio; the target is >= 0.9x scp.
# Reports only: machines are shared, so nothing is asserted on time.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
# shellcheck source=tests/sim/sshd.sh
. "$REPO/tests/sim/sshd.sh"
HOURS=${BENCH_BACKUP_HOURS:-6}
PAD=${BENCH_BACKUP_PAD:-8000000}   # ~8 MB of incompressible rows per archive

T=$(mktemp -d /tmp/booktape-backup-bench.XXXXXX)
trap 'sshd_stop; rm -rf "$T"' EXIT
sshd_setup "$T/k" >/dev/null
sshd_start "$T/k" || exit 1
python3 "$REPO/tests/helpers/backup_mkdata.py" --data-dir "$T/data" \
	--start 2026-11-20T00 --hours "$HOURS" --symbols BENCH_USDT \
	--pad-bytes "$PAD" || exit 1
mapfile -t files < <(find "$T/data/archive" -name '*.tar.gz' | sort)
bytes=$(cat "${files[@]}" | wc -c)
mkdir -p "$T/scp" "$T/sftp"
user=$(id -un)

now() { date +%s.%N; }
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }

# Warm the page cache so both read the same way.
cat "${files[@]}" >/dev/null
s=$(now)
scp -q -i "$T/k/id_ed25519" -o UserKnownHostsFile="$T/k/known_hosts" \
	-o StrictHostKeyChecking=yes -o BatchMode=yes -P "$SSHD_PORT" \
	"${files[@]}" "$user@127.0.0.1:$T/scp/" || exit 1
e=$(now)
scp_s=$(awk -v a="$s" -v b="$e" 'BEGIN { print b - a }')

cat >"$T/b.yml" <<YML
config:
  data_dir: "$T/data"
  textfile_dir: "$T"
  destinations:
    - name: "bench"
      url: "sftp://$user@127.0.0.1:$SSHD_PORT$T/sftp"
      identity: "$T/k/id_ed25519"
      known_hosts: "$T/k/known_hosts"
YML
s=$(now)
"$BUILD/booktape-backup" --config "$T/b.yml" push 2>"$T/push.err" || {
	cat "$T/push.err"
	exit 1
}
e=$(now)
push_s=$(awk -v a="$s" -v b="$e" 'BEGIN { print b - a }')
n=$(find "$T/sftp" -name '*.tar.gz' | wc -l)
[ "$n" -eq "$HOURS" ] || { echo "push shipped $n of $HOURS"; exit 1; }

ratio=$(awk -v a="$scp_s" -v b="$push_s" 'BEGIN { printf "%.2f", a / b }')
printf 'backup: %d archives, %.1f MB over sftp on loopback\n' "$HOURS" \
	"$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')"
printf '  scp                    %6.2f s  %s MB/s\n' "$scp_s" "$(mbps "$scp_s")"
printf '  booktape-backup push   %6.2f s  %s MB/s\n' "$push_s" "$(mbps "$push_s")"
printf '  ratio push/scp         %sx (target >= 0.9x)\n' "$ratio"
