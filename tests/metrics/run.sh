#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/metrics/run.sh BIN
#
# The metrics file and the shipped alert rules read by the real engines a fleet runs, Debian's
# promtool, prometheus-node-exporter and prometheus (docs/operations.md):
#   - promtool check metrics passes the file `replay --metrics` writes from a trace recorded in a
#     7.3 guest with a critical finding (and from its correct twin);
#   - promtool test rules passes tests/metrics/rules.test.yml (every alert and its quiet twin);
#   - node_exporter's textfile collector exports every family with our TYPE and HELP;
#   - a Prometheus scraping two node_exporters (the finding's file, the twin's) with the shipped
#     rules loaded fires DmabufAuditCriticalFinding for the first only (its HTTP API).
# Every server listens on 127.0.0.1 on a free port, runs under timeout, and is stopped by its PID;
# the temporary folder is removed. TAP output.
set -uo pipefail

bin=${1:?usage: tests/metrics/run.sh BIN}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
rules=$src/packaging/dmabuf-audit.rules.yml
bug_trace=$src/tests/replay/fixtures/7.3-missing-fence-wait.rec
ok_trace=$src/tests/replay/fixtures/7.3-ok-revoke.rec
# how long a server may live, and how long the test waits for the alert
SERVER_SECONDS=${METRICS_SERVER_SECONDS:-180}
ALERT_WAIT_SECONDS=${METRICS_ALERT_WAIT_SECONDS:-90}

. "$here/../lib/tap.sh"

work=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

for tool in promtool prometheus prometheus-node-exporter; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (Debian packages prometheus, prometheus-node-exporter: make deps)"
		tap_done
		exit
	fi
done

# a TCP port free on 127.0.0.1 now (the kernel picks it)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# get URL: the body on stdout, status 1 when it cannot be fetched
get() {
	python3 - "$1" <<'EOF'
import sys, urllib.request
try:
    sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except Exception as e:
    sys.stderr.write(f"{sys.argv[1]}: {e}\n")
    sys.exit(1)
EOF
}

# wait_for URL SECONDS: until it answers
wait_for() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		get "$1" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# ---- the files, by the real binary from recorded traces
mkdir -p "$work/bug" "$work/ok"
"$bin" replay --metrics "$work/bug/dmabuf-audit.prom" "$bug_trace" >"$work/bug.out" 2>&1
bug_rc=$?
"$bin" replay --metrics "$work/ok/dmabuf-audit.prom" "$ok_trace" >"$work/ok.out" 2>&1
ok_rc=$?
sample='dmabuf_audit_findings_total{rule="missing-fence-wait",severity="critical"} 1'
if [ $bug_rc -eq 1 ] && [ $ok_rc -eq 0 ] && grep -qxF "$sample" "$work/bug/dmabuf-audit.prom" &&
	! grep -q 'severity="critical"} [1-9]' "$work/ok/dmabuf-audit.prom" &&
	grep -qx 'dmabuf_audit_up 0' "$work/bug/dmabuf-audit.prom" &&
	grep -qx 'dmabuf_audit_build_info{version="[^"]*",kernel="7.3.4+deb13-amd64"} 1' \
		"$work/bug/dmabuf-audit.prom"; then
	ok "replay --metrics of a recorded 7.3 trace: the critical finding, build_info, up 0 at exit; none in its twin"
else
	not_ok "replay --metrics of a recorded 7.3 trace: the critical finding, build_info, up 0 at exit; none in its twin" \
		"exit $bug_rc (expected 1), twin $ok_rc (expected 0)
$(cat "$work/bug.out" "$work/ok.out" | tail -n 20)
$(grep -v '^#' "$work/bug/dmabuf-audit.prom" | head -n 5)"
fi

# ---- dmabuf_audit_rules_enforceable from the trace's hooks, judged as `hooks` judges them:
# the 7.3 guest's header as recorded (all 16 rules), without the fence wait hook (the three
# fence-wait rules go), with the test module's revoke scopes not loaded (revoke-stalled and
# pinned-importer-left-revoked go), with PREEMPT_RT's quirk (resv-not-held goes)
enforceable() { # NAME CHANGE: the count in the metrics of that header over a correct trace
	"$bin" replay --format json "$bug_trace" | head -n 1 | python3 -c '
import json, sys
h, change = json.loads(sys.stdin.readline()), sys.argv[1]
for x in h["hooks"]:
    if change == "no-fence-wait" and x["function"] == "dma_resv_wait_timeout":
        x["attached"], x["mode"] = False, "absent"
    if change == "no-scopes" and x["function"] in h["scopes"]:
        x["attached"], x["mode"] = False, "module"
if change == "rt":
    h["quirks"] = ["no-resv-owner"]
print(json.dumps(h))
sys.stdout.write(open(sys.argv[2]).read())
' "$2" "$src/tests/replay/traces/ok-static-import.jsonl" >"$work/$1.jsonl"
	"$bin" replay --metrics "$work/$1.prom" "$work/$1.jsonl" >/dev/null 2>&1
	sed -n 's/^dmabuf_audit_rules_enforceable //p' "$work/$1.prom"
}
got="$(enforceable all none) $(enforceable fw no-fence-wait) $(enforceable sc no-scopes) $(enforceable rt rt)"
rules_known=$(sed -n 's/^dmabuf_audit_rules //p' "$work/all.prom")
want="$rules_known $((rules_known - 3)) $((rules_known - 2)) $((rules_known - 1))"
if [ "$got" = "$want" ] && [ "$rules_known" = "$(grep -c '^### `' "$src/docs/rules.md")" ]; then
	ok "rules_enforceable: all $rules_known rules with every hook, 3 fewer without the fence wait, 2 without scopes, 1 on RT"
else
	not_ok "rules_enforceable: all rules with every hook, 3 fewer without the fence wait, 2 without scopes, 1 on RT" \
		"got $got, expected $want; docs/rules.md has $(grep -c '^### `' "$src/docs/rules.md") rules"
fi
jsonl_trace=$src/tests/replay/traces/ok-static-import.jsonl
"$bin" replay --metrics "$work/nohooks.prom" "$jsonl_trace" >/dev/null 2>&1
if grep -qx "dmabuf_audit_rules $rules_known" "$work/nohooks.prom" && ! grep -q rules_enforceable "$work/nohooks.prom"; then
	ok "rules_enforceable: left out for a trace that lists no hooks (JSON Lines without a header)"
else
	not_ok "rules_enforceable: left out for a trace that lists no hooks" \
		"$(grep rules "$work/nohooks.prom")"
fi

# ---- promtool
for t in bug ok; do
	out=$(promtool check metrics <"$work/$t/dmabuf-audit.prom" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok "promtool check metrics: the $t trace's file is clean"
	else
		not_ok "promtool check metrics: the $t trace's file is clean" "exit $rc
$out"
	fi
done

out=$(promtool check rules "$rules" 2>&1)
if [ $? -eq 0 ]; then
	ok "promtool check rules: the shipped rules ($(sed -n 's/.*SUCCESS: //p' <<<"$out"))"
else
	not_ok "promtool check rules: the shipped rules" "$out"
fi
out=$(cd "$here" && promtool test rules rules.test.yml 2>&1)
if [ $? -eq 0 ]; then
	ok "promtool test rules: every alert fires where it should and stays quiet on its twin"
else
	not_ok "promtool test rules: every alert fires where it should and stays quiet on its twin" "$out"
fi

# ---- node_exporter (Debian's prometheus-node-exporter), one per file
start_node_exporter() { # NAME: sets port_NAME
	local port
	port=$(free_port)
	timeout "$SERVER_SECONDS" prometheus-node-exporter --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$work/$1" \
		--web.listen-address="127.0.0.1:$port" >"$work/node-$1.log" 2>&1 &
	pids+=($!)
	eval "port_$1=$port"
}
start_node_exporter bug
start_node_exporter ok
# shellcheck disable=SC2154
if wait_for "http://127.0.0.1:$port_bug/metrics" 30 && wait_for "http://127.0.0.1:$port_ok/metrics" 30; then
	get "http://127.0.0.1:$port_bug/metrics" >"$work/scrape-bug.txt"
	get "http://127.0.0.1:$port_ok/metrics" >"$work/scrape-ok.txt"
else
	: >"$work/scrape-bug.txt"
fi
scrape=$work/scrape-bug.txt
help=$(grep -F '# HELP dmabuf_audit_findings_total ' "$work/bug/dmabuf-audit.prom")
if grep -qxF '# TYPE dmabuf_audit_findings_total counter' "$scrape" && [ -n "$help" ] &&
	grep -qxF "$help" "$scrape" && grep -qxF "$sample" "$scrape" &&
	grep -qx 'node_textfile_scrape_error 0' "$scrape"; then
	ok "node_exporter scrape: # TYPE dmabuf_audit_findings_total counter, our HELP, the finding"
else
	not_ok "node_exporter scrape: # TYPE dmabuf_audit_findings_total counter, our HELP, the finding" \
		"$(grep -E 'dmabuf_audit_findings_total|textfile' "$scrape" | head -n 8)
$(tail -n 5 "$work/node-bug.log")"
fi
# every family of the file as node_exporter exports it: no untyped, no lost HELP, same samples
missing=$(grep -E '^# (HELP|TYPE) ' "$work/bug/dmabuf-audit.prom" | grep -vxF -f "$scrape")
samples=$(grep -vc '^#' "$work/bug/dmabuf-audit.prom")
exported=$(grep -c '^dmabuf_audit_' "$scrape")
if [ -z "$missing" ] && [ "$samples" -eq "$exported" ] && ! grep -q '^# TYPE dmabuf_audit_.* untyped' "$scrape"; then
	ok "node_exporter scrape: all $exported samples, every family's TYPE and HELP as written"
else
	not_ok "node_exporter scrape: all samples, every family's TYPE and HELP as written" \
		"$samples samples in the file, $exported exported; lines not exported:
$missing"
fi

# ---- Prometheus with the shipped rules, scraping both node_exporters every second
prom_port=$(free_port)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $rules
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$port_bug', '127.0.0.1:$port_ok']
EOF
timeout "$SERVER_SECONDS" prometheus --config.file="$work/prometheus.yml" \
	--storage.tsdb.path="$work/tsdb" --web.listen-address="127.0.0.1:$prom_port" \
	>"$work/prometheus.log" 2>&1 &
pids+=($!)
api=http://127.0.0.1:$prom_port/api/v1
# the firing alerts as "alertname instance rule" lines, sorted
firing() {
	get "$api/alerts" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["state"] == "firing":
        l = a["labels"]
        print(l["alertname"], l.get("instance", "-"), l.get("rule", "-"), l.get("severity", "-"))
' | sort
}
alerts=
if wait_for "$api/status/runtimeinfo" 60; then
	for ((i = 0; i < ALERT_WAIT_SECONDS; i++)); do
		alerts=$(firing 2>/dev/null)
		grep -q '^DmabufAuditCriticalFinding ' <<<"$alerts" && break
		sleep 1
	done
fi
want="DmabufAuditCriticalFinding 127.0.0.1:$port_bug missing-fence-wait critical"
if [ "$(grep '^DmabufAuditCriticalFinding ' <<<"$alerts")" = "$want" ]; then
	ok "Prometheus with the shipped rules: DmabufAuditCriticalFinding fires for the recorded trace's finding only"
else
	not_ok "Prometheus with the shipped rules: DmabufAuditCriticalFinding fires for the recorded trace's finding only" \
		"expected: $want
firing: $alerts
$(tail -n 8 "$work/prometheus.log")"
fi
# no alert but the finding's (DmabufAuditDown waits 5 minutes), and every rule evaluates
others=$(grep -v '^DmabufAuditCriticalFinding ' <<<"$alerts")
bad_rules=$(get "$api/rules" | python3 -c '
import json, sys
groups = json.load(sys.stdin)["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
print(len(rules))
for r in rules:
    if r["health"] != "ok":
        print(r["name"], r["health"], r.get("lastError", ""))
')
nrules=$(grep -c '^  *- alert:' "$rules")
if [ -z "$others" ] && [ "$bad_rules" = "$nrules" ]; then
	ok "Prometheus: all $nrules shipped rules load and evaluate, no other alert fires"
else
	not_ok "Prometheus: all shipped rules load and evaluate, no other alert fires" \
		"other alerts: $others
rules loaded (then unhealthy ones): $bad_rules (the file has $nrules)"
fi
tap_done
