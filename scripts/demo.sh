#!/usr/bin/env bash
# `make demo`: the whole pipeline on this machine, without internet.
#   1. start the exchange simulator (build/booktape-sim) on loopback;
#   2. run the recorder against it for about a minute;
#   3. keep a copy of what it wrote, then seal the hours with
#      booktape-rotate --now (past the recorded hours);
#   4. push the archives to a file:// destination;
#   5. delete the live and archive data (a disaster);
#   6. restore from the destination and show the restored files equal the
#      originals, byte for byte and by sha256.
# Env: BUILD (build dir), DEMO_SECONDS (recording time, default 60),
# DEMO_DIR (keep everything there instead of a temp dir).
set -euo pipefail
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
SECONDS_TO_RECORD=${DEMO_SECONDS:-60}
for b in booktape-sim booktape-recorder booktape-rotate booktape-backup; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "demo: $BUILD/$b is missing (make first)" >&2
		exit 1
	fi
done

if [ -n "${DEMO_DIR:-}" ]; then
	W=$DEMO_DIR
	mkdir -p "$W"
else
	W=$(mktemp -d /tmp/booktape-demo.XXXXXX)
fi
SIM_PID=
REC_PID=
cleanup() {
	if [ -n "$REC_PID" ]; then kill "$REC_PID" 2>/dev/null || true; fi
	if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	[ -z "${DEMO_DIR:-}" ] && [ "${KEEP:-}" = "" ] && rm -rf "$W"
	return 0
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

DATA=$W/data
mkdir -p "$DATA" "$W/prom" "$W/offsite" "$W/truth"

step "simulator"
# The simulator binds 127.0.0.1 only; port 0 picks a free one.
"$BUILD/booktape-sim" --port 0 --port-file "$W/sim.port" \
	--pairs BTC_USDT,ETH_USDT --truth-dir "$W/truth" 2>"$W/sim.log" &
SIM_PID=$!
for _ in $(seq 1 100); do [ -s "$W/sim.port" ] && break; sleep 0.1; done
PORT=$(cat "$W/sim.port")
echo "booktape-sim listening on 127.0.0.1:$PORT"

step "recorder (${SECONDS_TO_RECORD} s)"
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/recorder.yml" <<YML
config:
  connector_name: "gate_io"
  trading_pairs: ["BTC-USDT", "ETH-USDT"]
  data_dir: "$DATA"
  metrics_listen: "127.0.0.1:$MPORT"
  ws_url: "ws://127.0.0.1:$PORT/ws/v4/"
  rest_url: "http://127.0.0.1:$PORT/api/v4"
YML
"$BUILD/booktape-recorder" --config "$W/recorder.yml" 2>"$W/recorder.log" &
REC_PID=$!
sleep "$SECONDS_TO_RECORD"
kill -TERM "$REC_PID"
wait "$REC_PID" || { echo "recorder exited non-zero"; tail "$W/recorder.log"; exit 1; }
REC_PID=
kill "$SIM_PID" 2>/dev/null || true
wait "$SIM_PID" 2>/dev/null || true
SIM_PID=
nfiles=$(find "$DATA/live" -type f -name '*.csv' | wc -l)
echo "recorded $nfiles files, $(du -sh "$DATA/live" | cut -f1)"
[ "$nfiles" -gt 0 ] || { echo "nothing recorded"; tail "$W/recorder.log"; exit 1; }
cp -a "$DATA/live" "$W/originals"

step "rotate (--now past the recorded hours)"
cat >"$W/rotate.yml" <<YML
config:
  data_dir: "$DATA"
  textfile_dir: "$W/prom"
YML
NOW=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
"$BUILD/booktape-rotate" --config "$W/rotate.yml" --now "$NOW"
find "$DATA/archive" -type f | sed "s|$DATA/||" | sort

step "push to file://$W/offsite"
cat >"$W/backup.yml" <<YML
config:
  data_dir: "$DATA"
  textfile_dir: "$W/prom"
  destinations:
    - name: "offsite"
      url: "file://$W/offsite"
YML
"$BUILD/booktape-backup" --config "$W/backup.yml" push
"$BUILD/booktape-backup" --config "$W/backup.yml" verify --deep

step "disaster: delete $DATA/live and $DATA/archive"
rm -rf "$DATA/live" "$DATA/archive"

step "restore"
FROM=$(date -u -d '-1 day' +%Y-%m-%d)
TO=$(date -u -d '+1 day' +%Y-%m-%d)
for exdir in "$W/originals"/*/; do
	"$BUILD/booktape-backup" --config "$W/backup.yml" restore \
		--exchange "$(basename "$exdir")" --from "$FROM" --to "$TO"
done

step "summary"
( cd "$W/originals" && find . -type f -exec sha256sum {} + | sort -k2 ) >"$W/orig.sha"
( cd "$DATA/live" && find . -type f -exec sha256sum {} + | sort -k2 ) >"$W/rest.sha"
printf '%-60s %s\n' "file" "sha256 (original = restored)"
join -1 2 -2 2 "$W/orig.sha" "$W/rest.sha" | while read -r f a b; do
	if [ "$a" = "$b" ]; then mark=OK; else mark=DIFFERENT; fi
	printf '%-60s %.16s... %s\n' "$f" "$a" "$mark"
done
if diff -r "$W/originals" "$DATA/live" >/dev/null; then
	echo "RESULT: all $nfiles restored files are byte-identical to the originals"
else
	echo "RESULT: restored files differ from the originals"
	diff -rq "$W/originals" "$DATA/live" || true
	exit 1
fi
