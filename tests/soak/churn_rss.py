#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The soak's memory question without a kernel: does anything in the engine
or the pipeline grow under churn?  `replay -` reads a churn trace from a
pipe, fed in batches, while this samples its VmRSS after each batch.  Every
cycle is a new buffer address, attachment and ino, from one of 30 000 pids
with one of 5 000 task names, 5 exporters, 11 devices, 7 importer ops
(export, attach, map, unmap, detach, release: no finding).  After the first
quarter (the tables allocated once are touched as entries are first used)
the second half (200 000 cycles) may grow by at most GROWTH_KB besides one jump of at most a
huge page (khugepaged, where transparent huge pages are `always`): a leak of
two bytes per cycle fails.  docs/performance.md "Resident memory of watch".

    churn_rss.py BIN     TAP on standard output
"""

import json
import os
import subprocess
import sys
import time

CYCLES = 400_000
BATCHES = 40
GROWTH_KB = 256
HUGE_KB = 2048
EDGE = 5


def churn(first, n):
    lines = []
    for i in range(first, first + n):
        t = i * 1000
        pid = 1000 + (i * 7919) % 30000
        b = "0x%x" % (0xffff888000000000 + i * 0x1000)
        a = "0x%x" % (0xffff889000000000 + i * 0x400)
        sgt = "0x%x" % (0xffff88a000000000 + i * 0x100)
        task = '"pid":%d,"tid":%d,"comm":"w%d"' % (pid, pid, pid % 5000)
        seq = 6 * i
        for k, ev in enumerate((
                '"op":"export","buf":"%s","ino":%d,"exporter":"exp%d","size":4096,'
                '"resv":"%s8","ret":0' % (b, 5000 + i, i % 5, b[:-1]),
                '"op":"attach","buf":"%s","attach":"%s","dev":"dev%d","importer_ops":'
                '"imp_ops_%d","invalidate_cb":null,"peer2peer":false,"ret":0'
                % (b, a, i % 11, i % 7),
                '"op":"map","buf":"%s","attach":"%s","sgt":"%s","ret":0' % (b, a, sgt),
                '"op":"unmap","buf":"%s","attach":"%s","sgt":"%s"' % (b, a, sgt),
                '"op":"detach","buf":"%s","attach":"%s"' % (b, a),
                '"op":"release","buf":"%s"' % b)):
            lines.append('{"seq":%d,"ts_ns":%d,%s,%s}\n' % (seq + k + 1, t, task, ev))
    return "".join(lines).encode()


def vmrss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def median(v):
    v = sorted(v)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def main():
    binary = os.path.abspath(sys.argv[1])
    p = subprocess.Popen([binary, "replay", "--format", "json", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    header = '{"type":"header","hooks":[],"scopes":[]}\n'
    p.stdin.write(header.encode())
    per = CYCLES // BATCHES
    samples = []
    for n in range(BATCHES):
        p.stdin.write(churn(n * per, per))
        p.stdin.flush()
        time.sleep(0.05)
        samples.append(vmrss_kb(p.pid))
    out, err = p.communicate()
    lines = [json.loads(x) for x in out.decode().splitlines() if x.strip()]
    summary = lines[-1] if lines else {}
    findings = [x for x in lines if x.get("type") == "finding"]
    ok_run = (p.returncode == 0 and summary.get("type") == "summary" and
              summary.get("events") == 6 * CYCLES and not findings)
    print(f"{'ok' if ok_run else 'not ok'} 1 - churn replay: {6 * CYCLES} events judged, "
          f"no finding, exit 0")
    if not ok_run:
        print(f"#   exit {p.returncode}, summary {json.dumps(summary)[:300]}, "
              f"{len(findings)} findings; stderr {err.decode()[:300]}")
    second = samples[BATCHES // 2:]
    jumps = [b - a for a, b in zip(second, second[1:])]
    big = max(jumps, default=0)
    forgiven = big if 0 < big <= HUGE_KB + 64 else 0
    growth = median(second[-EDGE:]) - median(second[:EDGE]) - forgiven
    ok_rss = growth <= GROWTH_KB and min(samples) > 0
    print(f"{'ok' if ok_rss else 'not ok'} 2 - churn replay: VmRSS flat in the second half "
          f"({second[0]} -> {second[-1]} kB, {growth:+.0f} kB besides one jump of {forgiven})")
    print(f"# VmRSS per {per} cycles: {samples}")
    print("1..2")
    return 0 if ok_run and ok_rss else 1


if __name__ == "__main__":
    sys.exit(main())
