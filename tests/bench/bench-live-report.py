#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-live-report.py RESULTS.STREAM: the table of make bench-live.

Decodes the guest's result stream (the format of tests/vm/init: "=== DAT-FILE
name md5", base64, "=== DAT-END name"), takes the last complete bench.txt
(lines "ROUND SETTING PATH N TOTAL_NS" and "ROUND SETTING tool EVENTS LOST
CPU_TICKS TICKS_PER_S", written by tests/vm/bench.sh) and prints per path and
setting the best and median ns per operation over the rounds, and per path the
added cost of each dmabuf-audit setting over the floor divided by the empty
fentry/fexit pair's added cost.  The loss bursts (settings "burst-RING", lines
"ROUND burst-RING tool EVENTS LOST CPU_TICKS TICKS_PER_S WALL_S" and the reports
bench-burst-RING-ROUND.report) get a table of their own: events, losses,
whether every loss was counted, the entities made partial.  The start-up setting's
startup.txt (lines "ROUND SETTING MARK MONO_NS", tests/bench/startup-clock.c and
DMABUF_AUDIT_TIMING) gets one too: per tool the milliseconds from its start to CMD's
start, to the first event and to its exit, and dmabuf-audit's phases one by one.
Exit status 1 when no bench result arrived,
or a path failed in the kernel; timings are never judged (they are noisy).
"""
import base64
import hashlib
import json
import statistics
import sys

SETTINGS = ["floor", "pair", "mirror", "bpftrace", "watch", "modfentry", "kprobe", "stacks",
            "base"]
# mirror: watch's own programs on its own attach points, each returning at once
# (DMABUF_AUDIT_BENCH_MIRROR=1): what attaching there costs without our bodies
TOOLS = ["mirror", "watch", "modfentry", "kprobe", "stacks", "base"]
# the paths the bpftrace script hooks (map, unmap, invalidate): on the others it costs nothing
BPFTRACE_PATHS = ["map-unmap", "map-unmap-unlocked", "revoke"]


def decode(stream_path):
    files, name, md5, lines = {}, None, None, []
    with open(stream_path, "rb") as f:
        for raw in f:
            line = raw.decode("ascii", "replace").strip()
            if line.startswith("=== DAT-FILE "):
                parts = line.split()
                name, md5, lines = parts[2], parts[3] if len(parts) > 3 else "", []
            elif line.startswith("=== DAT-END ") and name:
                data = base64.b64decode("".join(lines))
                if hashlib.md5(data).hexdigest() == md5:
                    files[name] = data.decode("utf-8", "replace")
                name = None
            elif name:
                lines.append(line)
    return files


def parse(text):
    """{(setting, path): [ns per op per round]}, {setting: [(events, lost, cpu_s)]}, errors"""
    timing, tool, errors = {}, {}, []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 6 and f[2] == "prog" and f[-2].isdigit() and f[-1].isdigit():
            # "ROUND profile prog NAME [\t[bpf]] RUN_CNT RUN_NS" (the kallsyms line's module)
            tool.setdefault("prog", []).append((f[3], int(f[-2]), int(f[-1]), int(f[0])))
        elif len(f) == 8 and f[1].startswith("burst-") and f[2] == "tool" and f[3].isdigit():
            tool.setdefault(f[1], []).append((int(f[3]), int(f[4]), int(f[5]) / int(f[6]),
                                              int(f[7]), int(f[0])))
        elif len(f) >= 5 and f[2] == "tool":
            if len(f) == 7 and f[3].isdigit() and f[4].isdigit():
                tool.setdefault(f[1], []).append((int(f[3]), int(f[4]), int(f[5]) / int(f[6])))
            else:
                errors.append(line)
        elif len(f) == 5 and f[3].isdigit() and f[4].isdigit():
            timing.setdefault((f[1], f[2]), []).append(int(f[4]) / int(f[3]))
        elif line.strip():
            errors.append(line)
    return timing, tool, errors


def report_objs(text):
    objs = []
    for line in (text or "").splitlines():
        try:
            objs.append(json.loads(line))
        except ValueError:
            pass
    return objs


def summary_of(text):
    s = [o for o in report_objs(text) if o.get("type") == "summary"]
    return s[-1] if s else {}


def seed_records(text):
    """records of the buffers found at start (seed_buffer, seed_attachment: 6.16+ sends them
    through the ring with a seq); buffers the bench made while the seed ran are among them"""
    stats = [o for o in report_objs(text) if o.get("type") == "stats"]
    ops = stats[-1].get("events_by_op", {}) if stats else {}
    return ops.get("seed_buffer", 0) + ops.get("seed_attachment", 0)


def calibrate(files):
    """(events per cycle, set-up events) from the 1000-cycle burst with --events"""
    text = next((t for n, t in sorted(files.items()) if n.startswith("bench-burst-cal-")), None)
    if text is None:
        return None
    ops = {}
    for o in report_objs(text):
        if o.get("type") == "event":
            ops[o.get("op")] = ops.get(o.get("op"), 0) + 1
    per_cycle = sum(c for c in ops.values() if c == 1000) // 1000
    return per_cycle, summary_of(text).get("events", 0) - per_cycle * 1000 - seed_records(text)


def print_bursts(timing, tool, files):
    tags = [s for s in tool if s.startswith("burst-") and s != "burst-cal"]
    if not tags:
        return
    cal = calibrate(files)
    print()
    print("loss burst: N map/unmap cycles of a static importer (path map-unmap-unlocked) as fast"
          " as the kernel does them, under watch")
    if cal:
        print(f"calibration (1000 cycles, --events): {cal[0]} events per cycle,"
              f" {cal[1]} of the set-up and teardown")
    print(f"{'ring':>11} {'cycles':>8} {'ns/cycle':>9} {'events':>9} {'lost':>9} {'lost %':>7}"
          f" {'seed':>5} {'counted':>9} {'partial':>8} {'findings':>8} {'CPU s':>7} {'s/M ev':>7}"
          f" {'wall s':>7}")
    for tag in tags:
        for events, lost, cpu, wall, rnd in tool[tag]:
            t = timing.get((tag, "map-unmap-unlocked"), [])
            n = next((int(l.split()[3]) for l in files.get("bench.txt", "").splitlines()
                      if l.split()[:3] == [str(rnd), tag, "map-unmap-unlocked"]), 0)
            text = files.get(f"bench-burst-{tag[6:]}-{rnd}.report")
            summ = summary_of(text)
            found = sum(o.get("type") == "finding" for o in report_objs(text)) if summ else "?"
            partial = summ.get("partial_reasons", {}).get("lost", 0) if summ else "?"
            counted, seeds = "?", seed_records(text)
            if cal and n:
                want = cal[0] * n + cal[1] + seeds
                counted = "exact" if events + lost == want else f"{events + lost - want:+d}"
            ring = tag[6:]
            ring = f"{int(ring) >> 20} MiB" if ring.isdigit() else ring
            print(f"{ring:>11} {n:>8} {min(t) if t else 0:>9.0f} {events:>9} {lost:>9}"
                  f" {100 * lost / max(events + lost, 1):>6.1f}% {seeds:>5} {counted:>9}"
                  f" {partial:>8} {found:>8}"
                  f" {cpu:>7.1f} {cpu / max(events, 1) * 1e6:>7.1f} {wall:>7}")


def print_ratios(timing, settings, paths, ref):
    """the added cost of each dmabuf-audit setting over the floor / ref's added cost"""
    tools = [s for s in TOOLS if s in settings and s != ref]
    print(f"{'path':22}" + "".join(f"{s:>14}" for s in tools))
    for p in paths:
        floor, base = timing.get(("floor", p)), timing.get((ref, p))
        if not floor or not base or (ref == "bpftrace" and p not in BPFTRACE_PATHS):
            continue
        row = f"{p:22}"
        for s in tools:
            v = timing.get((s, p))
            added_ref = min(base) - min(floor)
            if not v or added_ref <= 0:
                row += f"{'-':>14}"
            else:
                row += f"{(min(v) - min(floor)) / added_ref:>13.2f}x"
        print(row)


def print_profile(tool):
    """per BPF program: runs, and ns per run in the round where it cost least
    (kernel.bpf_stats_enabled; a preempted TCG thread inflates some rounds)"""
    progs = {}
    for name, cnt, ns, rnd in tool.get("prog", []):
        progs.setdefault(name, []).append((ns / cnt, cnt, ns))
    if not progs:
        return
    print()
    print("BPF programs of watch (kernel.bpf_stats_enabled, setting \"profile\"): runs per"
          " round, ns per run (best round / worst round)")
    for name, rows in sorted(progs.items(), key=lambda kv: -min(r[0] for r in kv[1])):
        print(f"  {name:24} {rows[0][1]:>9} {min(r[0] for r in rows):>9.0f}"
              f" / {max(r[0] for r in rows):>7.0f} ns")


# start-up milestones in the order they come, and what each is called in the table
STARTUP_MILESTONES = [
    ("cmd-start", "start -> CMD started"),
    ("first-event", "start -> first event read"),
    ("first-line", "start -> header (attached)"),
    ("exit", "start -> exit"),
]
# dmabuf-audit's DMABUF_AUDIT_TIMING phases: each one's time is from the mark before it
STARTUP_PHASES = ["start", "btf", "btf-facts", "kallsyms", "ftrace-list", "plan", "open",
                  "load", "attach", "module-hooks", "pipeline", "seed", "cmd-started"]
# and when CMD is done (stop: from CMD's last stamp)
TEARDOWN_PHASES = ["cmd-end", "stop", "detach", "drain", "report", "close", "exit"]


def startup_rounds(text):
    """{setting: [{mark: ns}]}, one dict per round, in the order the settings came"""
    runs = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) != 4 or not f[3].isdigit():
            continue
        per_round = runs.setdefault(f[1], {})
        per_round.setdefault(f[0], {})[f[2]] = int(f[3])
    return {s: list(r.values()) for s, r in runs.items()}


def best_median(values):
    return f"{min(values):>9.1f} {statistics.median(values):>9.1f}" if values else f"{'-':>19}"


def print_phases(rounds, phases):
    """each phase's time from the mark before it that the round has"""
    for i, phase in enumerate(phases[1:], 1):
        ms = []
        for r in rounds:
            prev = next((r[b] for b in reversed(phases[:i]) if b in r), None)
            if phase in r and prev is not None:
                ms.append((r[phase] - prev) / 1e6)
        if ms:
            print(f"  {phase:14}{best_median(ms)}")


def print_startup(text):
    runs = startup_rounds(text)
    if not runs:
        return
    n = max(len(r) for r in runs.values())
    print(f"start-up, ms from the tool's start (best / median of {n} rounds):")
    print(f"{'tool':13}{'milestone':31}{'best':>9} {'median':>9}")
    for setting, rounds in runs.items():
        for mark, label in STARTUP_MILESTONES:
            ms = [(r[mark] - r["t0"]) / 1e6 for r in rounds if mark in r and "t0" in r]
            if ms:
                print(f"{setting:13}{label:31}{best_median(ms)}")
        lag = [(r["first-event"] - r["cmd-trigger"]) / 1e6 for r in rounds
               if "first-event" in r and "cmd-trigger" in r]
        if lag:
            print(f"{setting:13}{'CMD dma-buf call -> read':31}{best_median(lag)}")
        failed = [r.get("status") for r in rounds if r.get("status")]
        if failed:
            print(f"{setting:13}exit status {failed} in {len(failed)} of {len(rounds)} rounds")
    for setting, rounds in runs.items():
        if not any("start" in r for r in rounds):
            continue
        print()
        print(f"{setting}: phases, ms each (best / median); start = exec to the live session")
        print_phases(rounds, ["t0"] + STARTUP_PHASES)
        print(f"{setting}: after CMD, ms each; stop = CMD's end to the trace's end")
        print_phases(rounds, TEARDOWN_PHASES)
    print()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench-live-report.py RESULTS.STREAM")
    files = decode(sys.argv[1])
    if "bench.txt" not in files and "startup.txt" not in files:
        print("bench-live: no bench result arrived from the guest")
        return 1
    timing, tool, errors = parse(files.get("bench.txt", ""))
    kernel = next((l.split(" ", 1)[1] for l in files.get("guest.txt", "").splitlines()
                   if l.startswith("kernel ")), "?")
    guest = dict(l.split(" ", 1) for l in files.get("guest.txt", "").splitlines() if " " in l)
    kernel = f"{kernel}, clocksource {guest.get('clocksource', '?')}, {guest.get('cpus', '?')} CPUs"
    # ring-BYTES, wake-MODE: watch with another ring buffer size or wakeup
    # policy, tool settings like watch
    rings = sorted({k[0] for k in timing if k[0].startswith("ring-")},
                   key=lambda s: int(s[5:]) if s[5:].isdigit() else 0)
    rings += sorted({k[0] for k in timing if k[0].startswith("wake-")})
    TOOLS.extend(rings)
    settings = [s for s in SETTINGS if any(k[0] == s for k in timing)] + rings
    paths = []
    for (_, p) in timing:
        if p not in paths:
            paths.append(p)
    rounds = max((len(v) for v in timing.values()), default=0)
    if not timing:
        print(f"kernel {kernel}")
        print_startup(files.get("startup.txt", ""))
        for e in errors:
            print(f"bench-live: {e}")
        return 1 if errors else 0
    print(f"kernel {kernel}, {rounds} rounds; ns per operation, best / median")
    print(f"{'path':22}" + "".join(f"{s:>18}" for s in settings))
    for p in paths:
        row = f"{p:22}"
        for s in settings:
            v = timing.get((s, p))
            row += f"{min(v):>9.0f} /{statistics.median(v):>6.0f}" if v else f"{'-':>18}"
        print(row)
    print()
    print("added cost over the floor (best), as a multiple of the empty pair's:")
    print_ratios(timing, settings, paths, "pair")
    if "mirror" in settings:
        print()
        print("added cost over the floor (best), as a multiple of the mirror's (watch's own"
              " attach points, empty programs):")
        print_ratios(timing, settings, paths, "mirror")
    if "bpftrace" in settings:
        print()
        print("added cost over the floor (best), as a multiple of bpftrace's, on the paths its"
              " script hooks:")
        print_ratios(timing, settings, paths, "bpftrace")
    print()
    for s in TOOLS:
        runs = tool.get(s)
        if not runs:
            continue
        events = sum(r[0] for r in runs)
        lost = sum(r[1] for r in runs)
        cpu = sum(r[2] for r in runs)
        per_m = cpu / events * 1e6 if events else 0
        print(f"{s}: {events} events, {lost} lost, consumer CPU {cpu:.2f} s"
              f" ({per_m:.2f} s per million events)")
        if s == "mirror" and events:
            errors.append(f"mirror: {events} events: a program ran past DA_MIRROR_GUARD()")
    print_profile(tool)
    print_bursts(timing, tool, files)
    print()
    print_startup(files.get("startup.txt", ""))
    for e in errors:
        print(f"bench-live: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
