#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench.sh BIN  (make bench)
#
# Throughput and memory, measured side by side in one run:
#  1. the engine alone: tests/bench/bench_engine.c generates BENCH_EVENTS
#     events (default 10 million) in memory and feeds them to the engine on
#     one core, next to a bare loop over the same events; it prints exact
#     table sizes and the measured memory per tracked attachment;
#  2. replay: the same events written as a binary record, replayed by BIN
#     (read, checksum, decode, pipeline, engine, report) on the same core.
# Not a timed test: it prints numbers; it fails only if something does not
# build or run, or the engine reports a finding on the (correct) workload.
set -euo pipefail
bin=${1:?usage: bench.sh BIN}
build=${BUILD:-build}
cc=${CC:-gcc}
events=${BENCH_EVENTS:-10000000}
out=$build/bench/bench_engine
record=$build/bench/trace.bin

mkdir -p "$build/bench"
$cc -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
	-Iinclude -Isrc/core -o "$out" tests/bench/bench_engine.c \
	"$build/libdmabuf-audit-core.a" -ljansson -lz
"$out" "$events" "$record"

# the record was just written: let its writeback finish, not compete with replay
sync "$record"
cpu=0
echo
echo "replay of the binary record ($(du -m "$record" | cut -f1) MB) by $bin, one core"
for i in 1 2 3; do
	start=$(date +%s.%N)
	taskset -c "$cpu" "$bin" replay --format json -o /dev/null "$record"
	end=$(date +%s.%N)
	awk -v s="$start" -v e="$end" -v n="$events" -v i="$i" 'BEGIN {
		t = e - s; printf "  replay #%d  %8.3f s  %8.1f M events/s\n", i, t, n / t / 1e6 }'
done
rm -f "$record"
