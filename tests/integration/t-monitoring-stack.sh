#!/usr/bin/env bash
# The monitoring stack end to end, on 127.0.0.1 only: the simulator, a
# recorder, rotate and backup writing their textfiles, a real
# node_exporter, Prometheus with the shipped config and rules (1 s scrape
# and evaluation, only the rules' `for:` shortened), Alertmanager with the
# shipped config (webhook URL and group timings replaced) and a webhook
# receiver. Every dashboard query must return series; stopping the
# recorder must deliver BooktapeRecorderDown and BooktapeRecorderAbsent
# within for + one evaluation (+ scrape, group_wait and slack), restarting
# it must resolve them; stopping the simulator must fire
# BooktapeRecorderDisconnected (delivered) and BooktapeDataStale (fired,
# and inhibited under the former); a broken textfile must deliver
# BooktapeTextfileError, a missing one BooktapeTextfileMissing.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

M=$ROOT/scripts/monitoring
MCHECK=$ROOT/tests/integration/monitoring_check.py
SINK=$ROOT/tests/helpers/webhook_sink.py
FOR=2   # seconds: every rule's `for:` in this test
EVAL=1  # scrape and evaluation interval
GROUP=1 # Alertmanager group_wait and group_interval
# Detection (one scrape) + for + one evaluation + group_wait, plus slack
# for a loaded 2-core machine.
LIMIT=$(((1 + FOR + EVAL + GROUP + 3) * MULT))

for tool in prometheus prometheus-alertmanager prometheus-node-exporter promtool amtool; do
	command -v "$tool" >/dev/null || fail "$tool not installed (scripts/install-deps.sh)"
done

MON_PIDS=()
mon_cleanup() {
	local p
	for p in "${MON_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	rec_cleanup
}
trap mon_cleanup EXIT

# wait_http URL WHAT: until URL answers 2xx.
wait_http() {
	local i
	for i in $(seq 1 $((100 * MULT))); do
		curl -fs --max-time 1 "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "$2 did not answer $1"
}

# --- the recorder and the textfiles of rotate and backup
start_sim sim --pairs BTC_USDT,ETH_USDT
write_config "$TMP/rec.yml" '"BTC-USDT", "ETH-USDT"'
start_rec rec "$TMP/rec.yml"
wait_healthy 10

TEXTFILE=$TMP/textfile
mkdir -p "$TEXTFILE" "$TMP/nas"
printf 'config:\n  data_dir: "%s"\n  textfile_dir: "%s"\n' "$TMP/data" "$TEXTFILE" >"$TMP/rotate.yml"
"$BUILD/booktape-rotate" --config "$TMP/rotate.yml" >>"$TMP/rotate.log" 2>&1 || fail "rotate run"
cat >"$TMP/backup.yml" <<EOF
config:
  data_dir: "$TMP/data"
  textfile_dir: "$TEXTFILE"
  destinations:
    - name: "nas"
      url: "file://$TMP/nas"
EOF
"$BUILD/booktape-backup" --config "$TMP/backup.yml" push >>"$TMP/backup.log" 2>&1 || fail "backup push"
for f in booktape_rotate.prom booktape_backup.prom; do
	[ -s "$TEXTFILE/$f" ] || fail "no $f written"
done

NPORT=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NPORT" \
	--collector.disable-defaults --collector.textfile --collector.filesystem \
	--collector.textfile.directory="$TEXTFILE" >"$TMP/node-exporter.log" 2>&1 &
MON_PIDS+=($!)
wait_http "http://127.0.0.1:$NPORT/metrics" node_exporter

# --- webhook receiver and Alertmanager (the shipped file, URL and timings
# replaced)
python3 "$SINK" "$TMP/hook.port" "$TMP/hook.out" 2>"$TMP/webhook.log" &
MON_PIDS+=($!)
for _ in $(seq 1 $((100 * MULT))); do
	[ -s "$TMP/hook.port" ] && break
	sleep 0.05
done
[ -s "$TMP/hook.port" ] || fail "webhook receiver did not start"
HPORT=$(cat "$TMP/hook.port")

mkdir -p "$TMP/am"
sed -E -e "s|url: http://[^ ]*|url: http://127.0.0.1:$HPORT/booktape|" \
	-e "s/(group_wait|group_interval): .*/\1: ${GROUP}s/" \
	"$M/alertmanager.yml" >"$TMP/am/alertmanager.yml"
grep -q "127.0.0.1:$HPORT" "$TMP/am/alertmanager.yml" || fail "webhook URL not replaced"
amtool check-config "$TMP/am/alertmanager.yml" >"$TMP/amtool.log" 2>&1 || fail "amtool: $(cat "$TMP/amtool.log")"
APORT=$(free_port)
# An empty cluster address turns off gossip (it would listen on every
# interface).
prometheus-alertmanager --config.file="$TMP/am/alertmanager.yml" \
	--storage.path="$TMP/am/data" --web.listen-address="127.0.0.1:$APORT" \
	--cluster.listen-address= --log.level=warn >"$TMP/alertmanager.log" 2>&1 &
MON_PIDS+=($!)
wait_http "http://127.0.0.1:$APORT/-/ready" Alertmanager

# --- Prometheus: the shipped config and rules, test intervals, targets
P=$TMP/prom
mkdir -p "$P/targets/recorders" "$P/targets/node" "$P/targets/alertmanager" "$P/targets/extra"
sed -E -e "s/^(  (scrape_interval|scrape_timeout|evaluation_interval)): .*/\1: ${EVAL}s/" \
	"$M/prometheus.yml" >"$P/prometheus.yml"
sed -E "s/^( +for:) .*/\1 ${FOR}s/" "$M/booktape-rules.yml" >"$P/booktape-rules.yml"
# The expressions under test are the shipped ones: only `for:` differs.
diff <(grep -v '^ *for:' "$M/booktape-rules.yml") <(grep -v '^ *for:' "$P/booktape-rules.yml") \
	>"$TMP/rules.diff" || fail "test rules differ beyond for: $(cat "$TMP/rules.diff")"
[ "$(grep -c "^ *for: ${FOR}s\$" "$P/booktape-rules.yml")" -eq "$(grep -c '^ *for:' "$M/booktape-rules.yml")" ] ||
	fail "for: not replaced everywhere"
printf -- '- targets: ["127.0.0.1:%s"]\n  labels: {host: local, recorder: rec}\n' "$MPORT" \
	>"$P/targets/recorders/local.yml"
printf -- '- targets: ["127.0.0.1:%s"]\n  labels: {host: local, role: recorder}\n' "$NPORT" \
	>"$P/targets/node/local.yml"
printf -- '- targets: ["127.0.0.1:%s"]\n' "$APORT" >"$P/targets/alertmanager/local.yml"
PPORT=$(free_port)
# An extra target names its own job (what `monitor add-target` writes).
printf -- '- targets: ["127.0.0.1:%s"]\n  labels: {job: prometheus, host: local}\n' "$PPORT" \
	>"$P/targets/extra/prometheus.yml"
promtool check config "$P/prometheus.yml" >"$TMP/promtool.log" 2>&1 || fail "promtool: $(cat "$TMP/promtool.log")"
prometheus --config.file="$P/prometheus.yml" --storage.tsdb.path="$P/data" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$TMP/prometheus.log" 2>&1 &
MON_PIDS+=($!)
PROM=http://127.0.0.1:$PPORT
wait_http "$PROM/-/ready" Prometheus
python3 "$MCHECK" wait-query "$PROM" 'count(up{job=~"booktape-recorder|node|prometheus"} == 1) == 3' $((15 * MULT)) >/dev/null ||
	fail "targets not up: $(curl -s "$PROM/api/v1/targets")"
for _ in $(seq 1 $((100 * MULT))); do
	curl -s "$PROM/api/v1/alertmanagers" | grep -q "127.0.0.1:$APORT" && break
	sleep 0.1
done
curl -s "$PROM/api/v1/alertmanagers" | grep -q "127.0.0.1:$APORT" ||
	fail "Prometheus found no Alertmanager: $(curl -s "$PROM/api/v1/alertmanagers")"
pass "recorder, node_exporter, Prometheus (also as an extra target with its own job), Alertmanager and webhook up"

# --- the dashboard's queries
python3 "$MCHECK" dashboard "$PROM" "$M/grafana/booktape-dashboard.json" --timeout $((30 * MULT)) \
	>"$TMP/dash.out" || fail "$(cat "$TMP/dash.out")"
pass "$(cat "$TMP/dash.out")"

# The checker itself: a query that does not parse, and one that returns
# nothing, must both fail it.
python3 - "$M/grafana/booktape-dashboard.json" "$TMP/bad-dash.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = [p for p in d["panels"] if p.get("targets")]
t[0]["targets"][0]["expr"] = "sum by (exchange) (rate(orderbook_collector_messages_received_total[1m])"
t[1]["targets"][0]["expr"] = "orderbook_collector_no_such_metric"
json.dump(d, open(sys.argv[2], "w"))
PY
python3 "$MCHECK" dashboard "$PROM" "$TMP/bad-dash.json" --timeout 0 >"$TMP/bad-dash.out" &&
	fail "the dashboard check passed a broken dashboard"
for want in 'parse error' 'no_such_metric: no series'; do
	grep -q "$want" "$TMP/bad-dash.out" ||
		fail "the dashboard check missed a broken query ($want): $(cat "$TMP/bad-dash.out")"
done

n=$(grep -c '^ *- alert:' "$M/booktape-rules.yml")
python3 "$MCHECK" rules-ok "$PROM" "$n" >"$TMP/rules.out" || fail "$(cat "$TMP/rules.out")"
pass "$(cat "$TMP/rules.out")"

for a in BooktapeRecorderDown BooktapeRecorderAbsent BooktapeRecorderDisconnected BooktapeDataStale \
	BooktapeRotateStale BooktapeBackupStale BooktapeTextfileError BooktapeTextfileMissing; do
	python3 "$MCHECK" wait-prom "$PROM" "$a" inactive 1 >/dev/null || fail "$a active on a healthy stack"
done
pass "no recorder, rotate, backup or textfile alert on a healthy stack"

# delivered NAME STATUS SINCE: the webhook got it within LIMIT s of SINCE
# (unix time); sets D to the seconds it took.
delivered() {
	python3 "$MCHECK" wait-webhook "$TMP/hook.out" "$1" "$2" "$3" "$LIMIT" >"$TMP/wait.out" ||
		fail "$(sed 's/^FAIL: //' "$TMP/wait.out") (Prometheus alerts: $(curl -s "$PROM/api/v1/alerts"))"
	D=$(cat "$TMP/wait.out")
}

# --- recorder stopped: down and absent; started again: resolved
t0=$(date +%s.%N)
stop_rec
delivered BooktapeRecorderDown firing "$t0"
d_down=$D
delivered BooktapeRecorderAbsent firing "$t0"
d_abs=$D
pass "recorder stopped: Down at the webhook after ${d_down} s, Absent after ${d_abs} s (for ${FOR} s, limit ${LIMIT} s)"

t1=$(date +%s.%N)
start_rec rec2 "$TMP/rec.yml"
delivered BooktapeRecorderDown resolved "$t1"
d_down=$D
delivered BooktapeRecorderAbsent resolved "$t1"
d_abs=$D
pass "recorder started: Down resolved after ${d_down} s, Absent after ${d_abs} s"
wait_healthy 10

# --- simulator stopped: disconnected and stale; a broken textfile
t2=$(date +%s.%N)
kill "$SIM_PID"
printf 'booktape_broken{a="b" 1\n' >"$TEXTFILE/broken.prom"
rm "$TEXTFILE/booktape_backup.prom"
python3 "$MCHECK" wait-prom "$PROM" BooktapeDataStale firing "$LIMIT" >"$TMP/stale.out" ||
	fail "$(sed 's/^FAIL: //' "$TMP/stale.out")"
d_stale=$(awk -v a="$t2" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
delivered BooktapeRecorderDisconnected firing "$t2"
d_disc=$D
delivered BooktapeTextfileError firing "$t2"
d_text=$D
delivered BooktapeTextfileMissing firing "$t2"
d_miss=$D
pass "simulator stopped: DataStale firing after ${d_stale} s, Disconnected at the webhook after ${d_disc} s"
pass "textfiles: a broken one delivered TextfileError after ${d_text} s, a missing one TextfileMissing after ${d_miss} s"
# The shipped inhibit rule: a disconnected recorder's stale pairs are not
# sent on their own.
sleep $((2 * GROUP))
python3 "$MCHECK" wait-webhook "$TMP/hook.out" BooktapeDataStale firing "$t2" 0 >/dev/null &&
	fail "BooktapeDataStale reached the webhook under BooktapeRecorderDisconnected"
pass "BooktapeDataStale inhibited by BooktapeRecorderDisconnected"
