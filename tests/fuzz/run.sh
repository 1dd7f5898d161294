#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# run.sh FUZZ_DIR SECONDS [BIN]: run each libFuzzer target built in FUZZ_DIR
# (make fuzz) for SECONDS from seed corpora taken from the test fixtures, and
# print one TAP line per target ("ok N - fuzz record 15s, 123456 runs, no
# crash").  With BIN, the hand-written JSON traces are also recorded as
# binary seeds (they hold SCOPE, SYMBOL and LOST records the fixtures lack).
# A crash, a sanitizer report or a leak fails the target; the input that did
# it is kept as FUZZ_DIR/crash-TARGET-* (make it a regression test).
set -u
dir=$1
secs=${2:-15}
bin=${3:-}
here=$(dirname "$0")
top=$here/../..
. "$here/../lib/tap.sh"

# seeds: copied into a fresh directory, so nothing the fuzzer finds is
# written into the source tree
seed() {
	target=$1
	shift
	rm -rf "$dir/seeds-$target" "$dir/corpus-$target" "$dir"/crash-"$target"-*
	mkdir -p "$dir/seeds-$target" "$dir/corpus-$target"
	[ $# -eq 0 ] || cp "$@" "$dir/seeds-$target"
}

run_target() {
	name=$1
	log=$dir/fuzz-$name.log
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$dir/fuzz_$name" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$dir/crash-$name-" \
		"$dir/corpus-$name" "$dir/seeds-$name" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -eq 0 ] && [ -n "$runs" ] && ! grep -q 'ERROR: \|runtime error:' "$log"; then
		ok "fuzz $name ${secs}s, $runs runs, no crash"
	else
		not_ok "fuzz $name ${secs}s: exit $rc, log $log" \
			"$(grep -E 'ERROR:|runtime error:|SUMMARY:|Test unit written' "$log" | head -5)"
	fi
}

seed record "$top"/tests/replay/fixtures/*.rec
if [ -n "$bin" ]; then
	for t in "$top"/tests/replay/traces/*.jsonl; do
		"$bin" replay --record "$dir/seeds-record/$(basename "$t" .jsonl).bin" -o /dev/null \
			"$t" 2>/dev/null
	done
fi
seed jsonl "$top"/tests/replay/traces/*.jsonl "$top"/tests/replay/fixtures/*.live.json
seed policy "$top"/tests/vm/policy
cp "$top/tests/replay/fixtures/policy" "$dir/seeds-policy/fixtures-policy"
# BTF seeds: small kernels written by the bad-input suite's BTF writer
seed btf
"${PYTHON:-python3}" "$top/tests/lib/btf_writer.py" "$dir/seeds-btf"
for t in record jsonl policy btf; do
	run_target "$t"
done
tap_done
