#!/bin/sh
# run-suite.sh SUITE CMD [ARG...]
#
# Run one test suite.  Every test prints TAP lines ("ok N - name",
# "not ok N - name"); they are shown and kept in build/test-results/SUITE.tap
# for tools/test-summary.sh.  A suite that fails without saying which test
# failed is recorded as one failed test, so no failure goes uncounted.
# When the first argument after SUITE is a list of executables (unit tests),
# each is run in turn.
# The Python suites import the shared helpers of tests/lib/ by name (import
# harness): PYTHONPATH names that folder here, for every suite.
set -u
suite=$1
shift
PYTHONPATH=$(cd "$(dirname "$0")/../tests/lib" && pwd)${PYTHONPATH:+:$PYTHONPATH}
export PYTHONPATH
results=${BUILD:-build}/test-results
mkdir -p "$results"
out="$results/$suite.tap"
: >"$out"
status=0

if [ "$suite" = unit ]; then
	for t in "$@"; do
		log=$(mktemp)
		"$t" >"$log" 2>&1
		rc=$?
		cat "$log"
		grep -E '^(not )?ok\b' "$log" >>"$out"
		if [ $rc -ne 0 ] && ! grep -qE '^not ok\b' "$log"; then
			echo "not ok - $(basename "$t") exited with status $rc" | tee -a "$out"
		fi
		[ $rc -ne 0 ] && status=1
		rm -f "$log"
	done
	exit $status
fi

log=$(mktemp)
{ "$@"; echo $? >"$log.rc"; } 2>&1 | tee "$log"
rc=$(cat "$log.rc")
grep -E '^(not )?ok\b' "$log" >>"$out"
if [ "$rc" -ne 0 ] && ! grep -qE '^not ok\b' "$log"; then
	echo "not ok - $suite exited with status $rc" | tee -a "$out"
fi
if ! grep -qE '^(not )?ok\b' "$log" && [ "$rc" -eq 0 ]; then
	echo "not ok - $suite ran no test" | tee -a "$out"
	rc=1
fi
rm -f "$log" "$log.rc"
exit "$rc"
