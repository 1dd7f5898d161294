#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/ktap/run.sh BIN NEST_REPLAY: nested KTAP (docs/output.md "Nested KTAP")
# read by the kernel's own parser, kunit.py from linux-source-7.3
# (tests/vm/kunit-parser.sh), with the exact counts it must find.
#
# `run` cannot attach on the build machine (its kernel refuses BPF tracing),
# so the document is made by NEST_REPLAY (tests/ktap/nest_replay.c): the
# calls `run --format ktap -- CMD` makes, with `BIN replay` of a recorded
# trace as the audit.  The guest suite checks `run` itself the same way on
# the kernel's dma-buf selftests (tests/vm/compare.py).  Each case: a
# command printing KTAP as a kselftest does, a trace, the exit status, and
# what kunit.py must count.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
bin=${1:?usage: run.sh BIN NEST_REPLAY}
nest=${2:?usage: run.sh BIN NEST_REPLAY}
traces=$here/../replay/traces
clean_trace=$traces/ok-dynamic-move.jsonl
finding_trace=$traces/missing-fence-wait.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the checks that need no kunit.py: how the command's output is read (the heredocs
# stay at the left margin)
streaming_checks() {
# a child of the command keeps its standard output open: the run does not wait for it
cat >"$work/leaves-child" <<'SH'
#!/bin/sh
echo "TAP version 13"
echo "1..1"
echo "ok 1 parent"
(sleep 10; echo "late line") &
SH
chmod +x "$work/leaves-child"
start=$(date +%s)
"$nest" "$bin" "$clean_trace" -- "$work/leaves-child" >"$work/child.ktap" 2>&1
rc=$?
took=$(($(date +%s) - start))
if [ "$rc" = 0 ] && [ "$took" -lt 6 ] && ! grep -q "late line" "$work/child.ktap" &&
	grep -q '^# leaves-child: its standard output was still open 200 ms after it exited' \
		"$work/child.ktap" && tail -1 "$work/child.ktap" | grep -qx 'ok 2 dmabuf-audit'; then
	ok "a child holding the command's output open: the document ends without it (${took} s)"
else
	not_ok "a child holding the command's output open: the document ends without it" \
		"exit $rc after ${took} s
$(cat "$work/child.ktap")"
fi

# 50 MB of output: streamed through one line buffer, not held (the largest
# process is the replay's engine, about 27 MB, either way)
cat >"$work/big" <<'SH'
#!/bin/sh
echo "TAP version 13"
echo "1..1"
yes "output of a test that goes on and on" | head -n 1351351
echo "ok 1 big"
SH
chmod +x "$work/big"
maxrss=$(python3 -c 'import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=open(sys.argv[-1] + ".ktap", "w"))
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
	"$nest" "$bin" "$clean_trace" -- "$work/big")
lines=$(grep -c '^  # output of a test' "$work/big.ktap")
if [ "${maxrss% *}" = 0 ] && [ "${maxrss#* }" -lt 40000 ] && [ "$lines" = 1351351 ]; then
	ok "50 MB of output streamed: largest process ${maxrss#* } kB, all $lines lines relayed"
else
	not_ok "50 MB of output streamed" "exit and max RSS (kB): $maxrss; $lines lines relayed"
fi
}

if ! kunit=$("$here/../vm/kunit-parser.sh" 7.3 2>"$work/kunit.err"); then
	not_ok "kunit.py from linux-source-7.3" "$(tail -5 "$work/kunit.err")"
	streaming_checks
	tap_done
	exit
fi

# the commands: each prints what a kselftest prints (kselftest.h's ksft_*)
cat >"$work/pass-3" <<'SH'
#!/bin/sh
echo "TAP version 13"
echo "1..3"
echo "# a diagnostic of the test itself"
echo "ok 1 alloc"
echo "a line that is not KTAP: ok 7 is not a result here"
printf 'ok 2 mmap\t\r\n'
echo "ok 3 import # SKIP no vgem"
echo "# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:1 error:0"
SH
cat >"$work/fail-1-of-3" <<'SH'
#!/bin/sh
echo "TAP version 13"
echo "1..3"
echo "ok 1 alloc"
echo "# the size was wrong"
echo "not ok 2 size"
echo "ok 3 release"
exit 1
SH
cat >"$work/killed" <<'SH'
#!/bin/sh
echo "TAP version 13"
echo "1..4"
echo "ok 1 first"
kill -9 $$
SH
cat >"$work/no-ktap" <<'SH'
#!/bin/sh
echo "hello from a command that prints no KTAP"
echo "# Subtest: not-a-header"
echo "ok 1 this-is-not-a-result"
echo "1..5"
SH
cat >"$work/nested-own" <<'SH'
#!/bin/sh
echo "KTAP version 1"
echo "1..1"
echo "  KTAP version 1"
echo "  1..2"
echo "  ok 1 inner_a"
echo "  not ok 2 inner_b"
echo "not ok 1 outer"
exit 1
SH
# a long line (three relay buffers), then many lines: streamed, not held
cat >"$work/long-lines" <<'SH'
#!/bin/sh
echo "TAP version 13"
echo "1..1"
head -c 10000 /dev/zero | tr '\0' x; echo
i=0
while [ $i -lt 20000 ]; do echo "progress $i not ok 9"; i=$((i + 1)); done
echo "ok 1 long"
SH
chmod +x "$work"/*

# case NAME CMD TRACE EXIT EXPECT: the document of CMD nested with TRACE's audit
case_() {
	local name=$1 cmd=$2 trace=$3 want_rc=$4 expect=$5 rc diag
	"$nest" "$bin" "$trace" -- "$work/$cmd" >"$work/$name.ktap" 2>"$work/$name.err"
	rc=$?
	if diag=$(python3 "$here/../lib/ktap_judge.py" "$kunit" "$work/$name.ktap" "$expect") &&
		[ "$rc" = "$want_rc" ]; then
		ok "$name: kunit.py reads the nested document right, exit $rc"
	else
		not_ok "$name: kunit.py reads the nested document right, exit $rc (expected $want_rc)" \
			"$diag
$(cat "$work/$name.err")
$(head -40 "$work/$name.ktap")"
	fi
}

audit_ok='["dmabuf-audit",{"tests":16,"passed":16,"failed":0,"failing":[]}]'
case_ "passing kselftest, no finding" pass-3 "$clean_trace" 0 \
	'{"total":{"tests":19,"passed":18,"failed":0,"skipped":1,"crashed":0,"errors":0},
	  "groups":[["pass-3",{"tests":3,"passed":2,"skipped":1,"failing":[]}],'"$audit_ok"']}'
case_ "failing kselftest, no finding" fail-1-of-3 "$clean_trace" 1 \
	'{"total":{"tests":19,"passed":18,"failed":1,"skipped":0,"crashed":0,"errors":0},
	  "groups":[["fail-1-of-3",{"tests":3,"passed":2,"failed":1,"failing":["size"]}],'"$audit_ok"']}'
case_ "passing kselftest, a finding" pass-3 "$finding_trace" 1 \
	'{"total":{"tests":19,"passed":17,"failed":1,"skipped":1,"crashed":0,"errors":0},
	  "groups":[["pass-3",{"tests":3,"failed":0}],
		    ["dmabuf-audit",{"tests":16,"passed":15,"failed":1,"failing":["missing-fence-wait"]}]]}'
# killed after 1 of 4: kunit.py counts the 3 missing as crashed (and says so:
# an error each), the audit's results after it are read as they are
case_ "kselftest killed by SIGKILL" killed "$clean_trace" 137 \
	'{"total":{"tests":20,"passed":17,"crashed":3,"errors":3},
	  "groups":[["killed",{"tests":4,"passed":1,"crashed":3}],'"$audit_ok"']}'
# no KTAP at all: its lines are diagnostics of a test without subtests
case_ "a command that prints no KTAP" no-ktap "$clean_trace" 0 \
	'{"total":{"tests":17,"passed":17,"failed":0,"errors":0},"groups":['"$audit_ok"']}'
case_ "a command with its own nested tests" nested-own "$finding_trace" 1 \
	'{"total":{"tests":18,"passed":16,"failed":2,"errors":0},
	  "groups":[["nested-own",{"tests":2,"passed":1,"failed":1}],
		    ["dmabuf-audit",{"tests":16,"failed":1,"failing":["missing-fence-wait"]}]]}'
case_ "a 10000-byte line and 20000 lines that look like results" long-lines "$clean_trace" 0 \
	'{"total":{"tests":17,"passed":17,"failed":0,"errors":0},
	  "groups":[["long-lines",{"tests":1,"passed":1}],'"$audit_ok"']}'

# the relay's lines: indented, the non-KTAP line and the tab made diagnostics
# and spaces, "# Subtest:" after the command's own version line
doc=$work/passing\ kselftest,\ no\ finding.ktap
want='KTAP version 1
1..2
  TAP version 13
  # Subtest: pass-3
  1..3
  # a diagnostic of the test itself
  ok 1 alloc
  # a line that is not KTAP: ok 7 is not a result here
  ok 2 mmap 
  ok 3 import # SKIP no vgem
  # Totals: pass:2 fail:0 xfail:0 xpass:0 skip:1 error:0
ok 1 pass-3
  KTAP version 1
  # Subtest: dmabuf-audit
  1..16'
if [ "$(head -15 "$doc")" = "$want" ]; then
	ok "the command's lines: indented, non-KTAP lines as diagnostics, the subtest named"
else
	not_ok "the command's lines: indented, non-KTAP lines as diagnostics, the subtest named" \
		"$(diff <(echo "$want") <(head -15 "$doc"))"
fi
long=$work/a\ 10000-byte\ line\ and\ 20000\ lines\ that\ look\ like\ results.ktap
if [ "$(sed -n 6p "$long" | wc -c)" = 10005 ] && sed -n 6p "$long" | grep -q '^  # x*$' &&
	[ "$(grep -c '^  # progress [0-9]* not ok 9$' "$long")" = 20000 ]; then
	ok "a long line is passed on whole (in pieces), each look-alike line as a diagnostic"
else
	not_ok "a long line is passed on whole (in pieces), each look-alike line as a diagnostic" \
		"line 6: $(sed -n 6p "$long" | head -c 80) ($(sed -n 6p "$long" | wc -c) bytes)"
fi

streaming_checks
tap_done
