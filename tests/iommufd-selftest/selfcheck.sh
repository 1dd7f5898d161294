#!/bin/sh
# selfcheck.sh BIN: the iommufd selftest guest's judge (check.py) judged on
# the host, without a kernel: a guest result made by synth.py from the
# sequence the 7.3 kernel produces must pass every check, and each broken
# one (synth.py's MUTATIONs) must fail at least one.  TAP on standard output.
set -u
bin=${1:?usage: selfcheck.sh BIN}
here=$(dirname "$0")
work=${BUILD:-build}/iommufd-selftest/selfcheck
n=0
failed=0
result() { # result OK NAME
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}
for mutation in none unrevoke-as-revoke refused-map-granted other-case-finding selftest-failed; do
	rm -rf "$work/$mutation"
	mkdir -p "$work/$mutation"
	arg=$mutation
	[ "$mutation" = none ] && arg=
	python3 "$here/synth.py" "$bin" "$work/$mutation" $arg >"$work/$mutation.synth.log" 2>&1
	python3 "$here/check.py" "$bin" "$work/$mutation" >"$work/$mutation.tap" 2>&1
	rc=$?
	bad=$(grep -c '^not ok' "$work/$mutation.tap")
	if [ "$mutation" = none ]; then
		[ "$rc" = 0 ] && [ "$bad" = 0 ] && ok=1 || ok=0
		result $ok "check.py passes the expected guest result ($(grep -c '^ok' "$work/$mutation.tap") checks)"
	else
		[ "$rc" = 1 ] && [ "$bad" -gt 0 ] && ok=1 || ok=0
		result $ok "check.py fails a guest result with $mutation ($bad failed checks)"
	fi
	[ "$ok" = 1 ] || sed 's/^/# /' "$work/$mutation.tap" | head -40
done
echo "1..$n"
exit $failed
