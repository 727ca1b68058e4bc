#!/usr/bin/env bash
# The shipped monitoring files are valid as the Debian tools read them:
# promtool check rules and test rules (a firing and a not-firing case per
# alert), promtool check config (with the file_sd examples), amtool
# check-config, the dashboard JSON, and a runbook row in the README for
# every alert.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M=$ROOT/scripts/monitoring
CHECK=$ROOT/tests/integration/monitoring_check.py
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}
pass() {
	echo "PASS: $*"
}

for tool in promtool amtool; do
	command -v "$tool" >/dev/null || fail "$tool not installed (scripts/install-deps.sh)"
done

promtool check rules "$M/booktape-rules.yml" >"$T/out" 2>&1 || fail "promtool check rules: $(cat "$T/out")"
n=$(grep -c '^ *- alert:' "$M/booktape-rules.yml")
grep -q "SUCCESS: $n rules found" "$T/out" || fail "promtool found other than $n rules: $(cat "$T/out")"
pass "promtool check rules: $n alerts"

# promtool resolves rule_files against the test file's directory.
(cd "$M" && promtool test rules booktape-rules.test.yml) >"$T/out" 2>&1 ||
	fail "promtool test rules: $(cat "$T/out")"
pass "promtool test rules"

python3 "$CHECK" static "$M/booktape-rules.yml" "$M/booktape-rules.test.yml" \
	"$ROOT/README.md" >"$T/out" 2>&1 || fail "$(cat "$T/out")"
pass "$(cat "$T/out")"

# Checked from elsewhere: the paths in prometheus.yml are relative to it.
(cd "$T" && promtool check config "$M/prometheus.yml") >"$T/out" 2>&1 ||
	fail "promtool check config: $(cat "$T/out")"
pass "promtool check config (rules and file_sd examples)"

# A broken target file must be caught by the same check (so the one above
# really read the examples).
mkdir -p "$T/m"
cp -r "$M/prometheus.yml" "$M/booktape-rules.yml" "$M/targets" "$T/m/"
echo '- targets: [unclosed' >"$T/m/targets/node/broken.yml"
promtool check config "$T/m/prometheus.yml" >"$T/out" 2>&1 && fail "a broken file_sd file passed promtool"
grep -q 'broken\|targets/node' "$T/out" || fail "promtool did not name the broken file: $(cat "$T/out")"
pass "promtool check config reads the file_sd files"

amtool check-config "$M/alertmanager.yml" >"$T/out" 2>&1 || fail "amtool check-config: $(cat "$T/out")"
grep -q '1 receivers' "$T/out" || fail "amtool: $(cat "$T/out")"
pass "amtool check-config"

# Every job the rules name is a job of prometheus.yml.
grep -o 'job="[^"]*"' "$M/booktape-rules.yml" | sort -u | cut -d'"' -f2 >"$T/jobs"
while read -r job; do
	grep -q "job_name: $job\$" "$M/prometheus.yml" || fail "rules use job $job, prometheus.yml has none"
done <"$T/jobs"
pass "the rules' jobs are prometheus.yml's"

python3 "$CHECK" dashboard-lint "$M/grafana/booktape-dashboard.json" >"$T/out" 2>&1 || fail "$(cat "$T/out")"
pass "$(cat "$T/out")"
for f in "$M"/grafana/provisioning/*/booktape.yml; do
	grep -q '^apiVersion: 1$' "$f" || fail "$f: no apiVersion: 1"
done
uid=$(grep -o 'uid: [a-z-]*' "$M/grafana/provisioning/datasources/booktape.yml" | cut -d' ' -f2)
grep -q "\"value\": \"$uid\"" "$M/grafana/booktape-dashboard.json" ||
	fail "the dashboard's default datasource is not the provisioned $uid"
pass "dashboard JSON and provisioning files"
