# SPDX-License-Identifier: GPL-2.0
# tests/lib/tap.sh: TAP for the shell suites, sourced (POSIX sh and bash).
#
#   ok NAME              "ok N - NAME"
#   not_ok NAME [DETAIL] "not ok N - NAME", then DETAIL as "# " lines
#   tap_done             the plan "1..N"; its status is 0 when nothing failed,
#                        so a suite ends with it
n=0
fails=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
	if [ -n "${2:-}" ]; then
		printf '%s\n' "$2" | sed 's/^/# /'
	fi
}

tap_done() {
	echo "1..$n"
	[ "$fails" -eq 0 ]
}
