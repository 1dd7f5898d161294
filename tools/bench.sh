#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench.sh BIN  (make bench)
#
# Throughput and memory, measured side by side in one run:
#  1. the engine alone: tests/bench/bench_engine.c generates BENCH_EVENTS
#     events (default 10 million) in memory and feeds them to the engine on
#     one core, next to a bare loop over the same events; it prints exact
#     table sizes and the measured memory per tracked attachment;
#  2. replay of a multi-GB binary record: the same workload, BENCH_REPLAY_EVENTS
#     events (default 20 million, 3.6 GB) generated as they are written, then
#     replayed by BIN (read, checksum, decode, pipeline, engine, report) on one
#     core, alternating the memory-mapped reader (the default) and the buffered
#     reads (DMABUF_AUDIT_NO_MMAP=1), BENCH_REPLAY_ROUNDS rounds (default 2);
#     then a record 1/20 the size, once each, for the maximum resident memory
#     against the file's size.  The records are deleted at the end.
# Not a timed test: it prints numbers and ratios; it fails only if something
# does not build or run, or the engine reports a finding on the (correct)
# workload (replay's exit status).
set -euo pipefail
bin=${1:?usage: bench.sh BIN}
build=${BUILD:-build}
cc=${CC:-gcc}
events=${BENCH_EVENTS:-10000000}
replay_events=${BENCH_REPLAY_EVENTS:-20000000}
rounds=${BENCH_REPLAY_ROUNDS:-2}
out=$build/bench/bench_engine
record=$build/bench/trace.bin
small=$build/bench/trace-small.bin
results=$build/bench/replay.txt

mkdir -p "$build/bench"
trap 'rm -f "$record" "$small"' EXIT
$cc -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
	-Iinclude -Isrc/core -o "$out" tests/bench/bench_engine.c \
	"$build/libdmabuf-audit-core.a" -ljansson -lz
"$out" "$events"

echo
"$out" --record-only "$replay_events" "$record"
"$out" --record-only $((replay_events / 20)) "$small"
# the records were just written: let their writeback finish, not compete with replay
sync "$record" "$small"

# one replay on one core: "READER EVENTS BYTES wall_s cpu_s maxrss_kb" appended to $results
replay_once() {
	local reader=$1 file=$2 n=$3
	python3 - "$reader" "$file" "$n" "$bin" >>"$results" <<'EOF'
import os, resource, subprocess, sys, time
reader, path, n, binary = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
env = dict(os.environ)
if reader == "buffered":
    env["DMABUF_AUDIT_NO_MMAP"] = "1"
start = time.monotonic()
subprocess.run(["taskset", "-c", "0", binary, "replay", "--format", "json", "-o", "/dev/null",
                path], env=env, check=True)
wall = time.monotonic() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(reader, n, os.path.getsize(path), f"{wall:.3f}", f"{ru.ru_utime + ru.ru_stime:.3f}",
      ru.ru_maxrss)
EOF
}

: >"$results"
for _ in $(seq "$rounds"); do
	replay_once mapped "$record" "$replay_events"
	replay_once buffered "$record" "$replay_events"
done
replay_once mapped "$small" $((replay_events / 20))
replay_once buffered "$small" $((replay_events / 20))

python3 - "$results" "$bin" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
big = max(int(r[2]) for r in rows)
print(f"\nreplay of a binary record by {sys.argv[2]}, one core (taskset -c 0), page cache warm")
print(f"  {'reader':<9} {'events':>10} {'MB':>7} {'wall s':>8} {'M ev/s':>8} {'CPU s':>7}"
      f" {'ns/ev CPU':>10} {'max RSS MB':>11}")
best = {}
for reader, n, size, wall, cpu, rss in rows:
    n, size, wall, cpu, rss = int(n), int(size), float(wall), float(cpu), int(rss)
    print(f"  {reader:<9} {n:>10} {size / 1e6:>7.0f} {wall:>8.3f} {n / wall / 1e6:>8.2f}"
          f" {cpu:>7.3f} {cpu * 1e9 / n:>10.1f} {rss / 1024:>11.1f}")
    if size == big and (reader not in best or wall < best[reader][0]):
        best[reader] = (wall, n)
    if size == big and (reader + " cpu" not in best or cpu < best[reader + " cpu"]):
        best[reader + " cpu"] = cpu
    if size == big:
        best.setdefault(reader + " rss", rss)
    else:
        best[reader + " small rss"] = rss
m, b = best["mapped"], best["buffered"]
print(f"  best of the {big / 1e9:.1f} GB record: mapped {m[1] / m[0] / 1e6:.2f} M events/s,"
      f" buffered {b[1] / b[0] / 1e6:.2f} M events/s; buffered/mapped time {b[0] / m[0]:.2f}x")
mc, bc = best["mapped cpu"], best["buffered cpu"]
print(f"  by CPU time (what a shared machine's wall time hides): mapped {m[1] / mc / 1e6:.2f},"
      f" buffered {b[1] / bc / 1e6:.2f} M events/s; buffered/mapped {bc / mc:.2f}x")
print(f"  max RSS, record 20x larger: mapped {best['mapped rss'] / 1024:.1f} MB vs"
      f" {best['mapped small rss'] / 1024:.1f} MB; buffered {best['buffered rss'] / 1024:.1f} MB"
      f" vs {best['buffered small rss'] / 1024:.1f} MB")
EOF
