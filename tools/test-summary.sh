#!/bin/sh
# test-summary.sh DIR: count the TAP results every suite left in DIR and
# print the line CI looks for: "N passed, N failed".  Exit 1 on any failure.
set -u
dir=${1:-build/test-results}
passed=0
failed=0
if [ -d "$dir" ]; then
	for f in "$dir"/*.tap; do
		[ -f "$f" ] || continue
		p=$(grep -cE '^ok\b' "$f")
		n=$(grep -cE '^not ok\b' "$f")
		printf '%-14s %4d passed, %4d failed\n' "$(basename "$f" .tap)" "$p" "$n"
		passed=$((passed + p))
		failed=$((failed + n))
		# each failure with its first diagnostic lines: the summary is
		# often all that is left of a CI run
		awk '/^not ok / { n = 6; print "    " $0; next }
		     n && /^#/ { n--; print "      " $0; next }
		     { n = 0 }' "$f"
	done
fi
if [ $((passed + failed)) -eq 0 ]; then
	echo "no test results in $dir"
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
