#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The pictures of a run (docs/output.md "Timelines"), TAP output; `make pictures-tests`.

    tests/pictures/run.py build/dmabuf-audit

On every replay trace (tests/replay/traces/*.jsonl) and every record of a real
guest run (tests/replay/fixtures/*.rec):

- --format perfetto: the Chrome trace event JSON's structure (every event has
  the fields its phase needs; every track and process is named; slices nest
  per track; timestamps in microseconds, never going back on a track; every
  flow starts at an event instant and ends at a finding instant, and names
  an event the finding's evidence names), the same findings as --format json,
  one process per buffer; --timeline FILE next to --format json writes the
  same trace and leaves the report as it was;
- --format html rendered by headless Chromium (Debian's chromium): the DOM it
  dumps has one finding row per finding, with its rule and buffer, and none
  for a correct trace; screenshots are not blank.

Plus: lost-event gaps, a run past the timeline's cap (marked truncated), a
10k-event run (the HTML draws only the buffer with a finding unless
--all-buffers), refused options.  Python standard library only.
"""
import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TRACES = sorted(glob.glob(os.path.join(REPO, "tests/replay/traces/*.jsonl")))
RECORDS = sorted(glob.glob(os.path.join(REPO, "tests/replay/fixtures/*.rec")))
CAP_EVENTS = 100000  # DA_TIMELINE_MAX_EVENTS, src/core/timeline.h
CRITICAL_RGB = (0xB0, 0x00, 0x20)  # the critical severity's colour in the HTML

from harness import Tap  # noqa: E402  the TAP counter the replay suite uses (tests/lib)


def run(args, timeout=300):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=timeout)


def rel(path):
    return os.path.relpath(path, REPO)


# ---------------------------------------------------------------- Perfetto JSON

PHASES = {"X", "B", "E", "i", "I", "M", "s", "t", "f"}
METADATA = {"process_name", "thread_name", "process_sort_index", "thread_sort_index"}


def ns(us):
    """the format's microseconds back to integer nanoseconds"""
    return round(us * 1000)


def check_fields(ev, where):
    ph = ev.get("ph")
    if ph not in PHASES:
        return f"{where}: unknown phase {ph!r}"
    for key, kind in (("name", str), ("pid", int), ("tid", int)):
        if not isinstance(ev.get(key), kind):
            return f"{where}: {key} missing or not {kind.__name__}"
    if ph == "M":
        if ev["name"] not in METADATA or not isinstance(ev.get("args"), dict):
            return f"{where}: metadata {ev['name']!r} without args"
        return None
    if not isinstance(ev.get("ts"), (int, float)) or ev["ts"] < 0:
        return f"{where}: ts missing or negative"
    if not isinstance(ev.get("cat"), str):
        return f"{where}: cat missing"
    if ph == "X" and (not isinstance(ev.get("dur"), (int, float)) or ev["dur"] < 0):
        return f"{where}: X without a duration"
    if ph in ("i", "I") and ev.get("s") not in ("t", "p", "g"):
        return f"{where}: instant without scope s"
    if ph in ("s", "t", "f") and not isinstance(ev.get("id"), int):
        return f"{where}: flow event without id"
    if ev.get("cat") == "event" and not {"seq", "op"} <= set(ev.get("args", {})):
        return f"{where}: event instant without seq and op in args"
    if ev.get("cat") == "finding" and not {"rule", "severity", "message"} <= set(ev.get("args", {})):
        return f"{where}: finding instant without rule, severity and message in args"
    return None


def check_track(key, evs):
    """file order is time order on a track; slices (X, or B/E) nest"""
    stack = []  # ends (ns) of the open slices; None for an open B
    last = -1
    for n, ev in evs:
        ts = ns(ev["ts"])
        if ts < last:
            return f"track {key}: event {n} at {ts} ns goes back (after {last} ns)"
        last = ts
        if ev["ph"] in ("s", "t", "f"):
            continue  # flows are in time order too, and bind to what is drawn there
        if ev["ph"] == "E":
            if not stack or stack[-1] is not None:
                return f"track {key}: E at event {n} without its B"
            stack.pop()
            continue
        end = ts + (ns(ev["dur"]) if ev["ph"] == "X" else 0)
        # close what ended before this starts (a slice starting at a parent's end is a sibling)
        while stack and stack[-1] is not None and (stack[-1] < ts or (stack[-1] == ts and end > ts)):
            stack.pop()
        if stack and stack[-1] is not None and end > stack[-1]:
            return f"track {key}: event {n} [{ts}, {end}] overlaps its parent ending at {stack[-1]}"
        if ev["ph"] == "X":
            stack.append(end)
        elif ev["ph"] == "B":
            stack.append(None)
    if any(e is None for e in stack):
        return f"track {key}: B without E"
    return None


def check_flows(doc, instants):
    flows = {}
    for n, ev in enumerate(doc["traceEvents"]):
        if ev["ph"] in ("s", "f"):
            flows.setdefault(ev["id"], {})
            if ev["ph"] in flows[ev["id"]]:
                return f"flow {ev['id']}: two {ev['ph']} events"
            flows[ev["id"]][ev["ph"]] = ev
    for fid, pair in flows.items():
        if set(pair) != {"s", "f"}:
            return f"flow {fid}: only {sorted(pair)}"
        s, f = pair["s"], pair["f"]
        src = instants.get((s["pid"], s["tid"], ns(s["ts"]), "event"))
        dst = instants.get((f["pid"], f["tid"], ns(f["ts"]), "finding"))
        if not src or not dst:
            return f"flow {fid}: does not start at an event ({bool(src)}) or end at a finding ({bool(dst)})"
        if ns(s["ts"]) > ns(f["ts"]):
            return f"flow {fid}: goes back in time"
        named = any(e["args"]["seq"] == d["args"]["seq"] or
                    re.search(rf"\bseq {e['args']['seq']}\b", d["args"]["message"])
                    for e in src for d in dst)
        if not named:
            return f"flow {fid}: its event is not one the finding's evidence names"
    return None


def validate(doc):
    """None when the trace is well formed, else the first problem"""
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        return "not a JSON object with traceEvents"
    if doc.get("displayTimeUnit") not in ("ns", "ms"):
        return "displayTimeUnit missing"
    named_procs, named_threads, tid_pid, tracks, instants = set(), set(), {}, {}, {}
    for n, ev in enumerate(doc["traceEvents"]):
        why = check_fields(ev, f"event {n}")
        if why:
            return why
        if tid_pid.setdefault(ev["tid"], ev["pid"]) != ev["pid"] and ev["ph"] != "M":
            return f"event {n}: tid {ev['tid']} used in two processes"
        if ev["ph"] == "M":
            if ev["name"] == "process_name":
                named_procs.add(ev["pid"])
            elif ev["name"] == "thread_name":
                named_threads.add((ev["pid"], ev["tid"]))
            continue
        tracks.setdefault((ev["pid"], ev["tid"]), []).append((n, ev))
        if ev["ph"] in ("i", "I"):
            instants.setdefault((ev["pid"], ev["tid"], ns(ev["ts"]), ev["cat"]), []).append(ev)
    for key, evs in tracks.items():
        if key[0] not in named_procs or key not in named_threads:
            return f"track {key} has no process_name or thread_name"
        why = check_track(key, evs)
        if why:
            return why
    return check_flows(doc, instants)


def perfetto(path, *extra):
    out = os.path.join(WORK, "trace.json")
    r = run(["replay", path, "--format", "perfetto", "-o", out, *extra])
    if r.returncode not in (0, 1):
        raise AssertionError(f"exit {r.returncode}: {r.stderr}")
    with open(out) as f:
        return json.load(f)


def report(path):
    """(findings as [(rule, buffer ptr)], summary) from --format json"""
    r = run(["replay", path, "--format", "json"])
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    found = sorted((l["rule"], l["buffer"]["ptr"] or "0x0") for l in lines if l["type"] == "finding")
    return found, lines[-1]


def trace_findings(doc):
    return sorted((e["args"]["rule"], e["args"]["buffer"] or "0x0")
                  for e in doc["traceEvents"] if e.get("cat") == "finding")


def perfetto_case(path):
    def check():
        doc = perfetto(path)
        why = validate(doc)
        if why:
            return why
        want, summary = report(path)
        got = trace_findings(doc)
        if got != want:
            return f"findings {got}, --format json has {want}"
        buffers = [e for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "process_name"
                   and e["args"]["name"].startswith("buffer ")]
        if len(buffers) != summary["buffers"]:
            return f"{len(buffers)} buffer processes, the summary counts {summary['buffers']} buffers"
        flows = sum(1 for e in doc["traceEvents"] if e["ph"] == "f")
        if want and not flows:
            return "findings without any flow to the events of their evidence"
        return None
    return check


def timeline_case(path):
    def check():
        alone = run(["replay", path, "--format", "json"])
        side = os.path.join(WORK, "side.json")
        both = run(["replay", path, "--format", "json", "--timeline", side])
        if (both.returncode, both.stdout) != (alone.returncode, alone.stdout):
            return "--timeline changed the report or the exit status"
        with open(side) as f:
            got = json.load(f)
        if got != perfetto(path):
            return "--timeline FILE differs from --format perfetto"
        return None
    return check


def slices(doc, cat):
    return [e for e in doc["traceEvents"] if e["ph"] == "X" and e["cat"] == cat]


def instants_named(doc, name):
    return [e for e in doc["traceEvents"] if e["ph"] == "i" and e["name"] == name]


def check_elements():
    """scopes, fence waits, mappings, pins as slices; invalidates and unpins as instants"""
    doc = perfetto(os.path.join(REPO, "tests/replay/traces/ok-vfio-revoke.jsonl"))
    fences, scopes = slices(doc, "fence_wait"), slices(doc, "revoke_scope")
    if not fences or not scopes:
        return f"{len(fences)} fence wait and {len(scopes)} scope slices"
    inside = [s for s in scopes for f in fences if (s["pid"], s["tid"]) == (f["pid"], f["tid"])
              and ns(s["ts"]) <= ns(f["ts"]) and ns(f["ts"] + f["dur"]) <= ns(s["ts"] + s["dur"])]
    if not inside:
        return "no fence wait inside a revoke scope on its task's track"
    if not instants_named(doc, "invalidate"):
        return "no invalidate instant"
    doc = perfetto(os.path.join(REPO, "tests/replay/fixtures/7.3-missing-fence-wait.rec"))
    if not slices(doc, "mapping") or not instants_named(doc, "unmap"):
        return "the guest record's map and unmap are not a mapping slice and an unmap instant"
    doc = perfetto(os.path.join(REPO, "tests/replay/traces/pin-leak.jsonl"))
    pins = slices(doc, "pin")
    if not pins or not any(p["args"]["open_at_end"] for p in pins):
        return f"pin-leak: pin slices {pins}, none open at the end"
    return None


def check_demo_flow():
    """the demo's finding: arrows from the invalidate (seq 5) and the scope exit (seq 8)"""
    doc = perfetto(os.path.join(REPO, "tests/replay/fixtures/7.3-missing-fence-wait.rec"))
    starts = {(e["pid"], e["tid"], ns(e["ts"])) for e in doc["traceEvents"] if e["ph"] == "s"}
    seqs = sorted(e["args"]["seq"] for e in doc["traceEvents"] if e.get("cat") == "event"
                  and (e["pid"], e["tid"], ns(e["ts"])) in starts)
    return None if seqs == [5, 8] else f"flows start at seqs {seqs}, want [5, 8]"


def check_lost_gap():
    doc = perfetto(os.path.join(REPO, "tests/replay/traces/ok-lost-gap.jsonl"))
    gaps = slices(doc, "lost")
    marks = [e for e in doc["traceEvents"] if e.get("cat") == "mark" and e.get("s") == "g"]
    if not gaps or not marks:
        return f"lost slices {gaps}, global marks {marks}"
    if not re.match(r"\d+ events? lost \(seq \d+", gaps[0]["name"]):
        return f"gap named {gaps[0]['name']!r}"
    return None


# ---------------------------------------------------------------- generated runs

def write_trace(path, n_buffers, maps_per_buffer, bug_buffer):
    """n_buffers buffers, each exported, attached, mapped/unmapped many times; one revoked
    without a fence wait (missing-fence-wait); seqs and times increase"""
    seq = 0
    lines = []

    def ev(**kw):
        nonlocal seq
        seq += 1
        kw.setdefault("tid", 100)
        kw.setdefault("comm", "gen")
        lines.append(json.dumps(dict(seq=seq, ts_ns=seq * 1000, **kw)))

    for b in range(n_buffers):
        buf, att, resv = hex(0x100000 + b * 0x1000), hex(0x900000 + b * 0x1000), hex(0x500000 + b * 0x1000)
        ev(op="export", buf=buf, ino=1000 + b, exporter="vfio_pci_core", size=4096, resv=resv, ret=0)
        ev(op="attach", buf=buf, attach=att, dev="gen", importer_ops="gen_ops",
           invalidate_cb="gen_cb", ret=0, tid=200)
        for m in range(maps_per_buffer):
            ev(op="map", attach=att, buf=buf, sgt=hex(0x700000 + m * 16), ret=0, tid=200)
            ev(op="unmap", attach=att, buf=buf, sgt=hex(0x700000 + m * 16), tid=200)
        if b == bug_buffer:
            ev(op="scope_enter", scope="vfio_pci_dma_buf_move", revoked=True, object="0xf000")
            ev(op="invalidate", buf=buf, resv_held=True, fn="dma_buf_move_notify")
            ev(op="scope_exit", scope="vfio_pci_dma_buf_move", revoked=True)
        ev(op="detach", buf=buf, attach=att, tid=200)
        ev(op="release", buf=buf, tid=200)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return seq


def check_truncated():
    path = os.path.join(WORK, "big.jsonl")
    total = write_trace(path, 10, (CAP_EVENTS + 40) // 20 + 1, 9)
    doc = perfetto(path)
    why = validate(doc)
    if why:
        return why
    other = doc["otherData"]
    if other["truncated"] is not True or other["events_not_drawn"] != total - CAP_EVENTS:
        return f"otherData {other}, {total} events"
    marks = [e["name"] for e in doc["traceEvents"] if e.get("cat") == "mark"]
    if not any(m.startswith(f"truncated: {total - CAP_EVENTS} later events") for m in marks):
        return f"no truncation mark: {marks}"
    html = os.path.join(WORK, "big.html")
    run(["replay", path, "--format", "html", "-o", html])
    with open(html) as f:
        if "Truncated: only the first" not in f.read():
            return "the HTML does not say it is truncated"
    return None


def check_10k_html():
    path = os.path.join(WORK, "10k.jsonl")
    write_trace(path, 100, 48, 37)
    html = os.path.join(WORK, "10k.html")
    r = run(["replay", path, "--format", "html", "-o", html])
    if r.returncode != 1:
        return f"exit {r.returncode}: {r.stderr}"
    with open(html) as f:
        text = f.read()
    drawn = re.findall(r'<h3 id="buffer-\d+">([^<]*)</h3>', text)
    if drawn != ["buffer ino 1037 vfio_pci_core (0x125000)"]:
        return f"drawn by default: {drawn[:5]}"
    rows = re.findall(r'<tr class="finding" data-rule="([^"]+)" data-buffer="([^"]+)"', text)
    if rows != [("missing-fence-wait", "0x125000")]:
        return f"finding rows {rows}"
    r = run(["replay", path, "--format", "html", "--all-buffers", "-o", html])
    with open(html) as f:
        n = len(re.findall(r'<h3 id="buffer-', f.read()))
    if n != 100:
        return f"--all-buffers drew {n} buffers, not 100"
    return screenshot_check(html, 1200, 800, need_critical=True)


def check_disorder():
    """times that go back across CPUs, mappings that overlap without nesting, a scope
    exit never entered and one closing an inner scope, a pin never unpinned: still
    monotonic tracks and nested slices, each mapping on a track of its own"""
    evs = [
        dict(op="export", buf="0xb1", ino=7, exporter="vfio_pci_core", size=4096, resv="0xe1", ret=0, ts_ns=5000),
        dict(op="attach", buf="0xb1", attach="0xa1", dev="d", importer_ops="ops", invalidate_cb="cb", ret=0, tid=2, ts_ns=4000),
        dict(op="pin", attach="0xa1", buf="0xb1", ret=0, tid=2, ts_ns=6000),
        dict(op="pin", attach="0xa1", buf="0xb1", ret=0, tid=3, ts_ns=5500),
        dict(op="map", attach="0xa1", buf="0xb1", sgt="0x51", ret=0, tid=2, ts_ns=7000),
        dict(op="map", attach="0xa1", buf="0xb1", sgt="0x52", ret=0, tid=3, ts_ns=6900),
        dict(op="unmap", attach="0xa1", buf="0xb1", sgt="0x51", tid=2, ts_ns=8000),
        dict(op="scope_exit", scope="vfio_pci_dma_buf_move", revoked=True, ts_ns=8100),
        dict(op="scope_enter", scope="vfio_pci_dma_buf_cleanup", ts_ns=8200),
        dict(op="scope_enter", scope="vfio_pci_dma_buf_move", revoked=True, ts_ns=8300),
        dict(op="invalidate", buf="0xb1", resv_held=True, fn="dma_buf_move_notify", ts_ns=8250),
        dict(op="fence_wait", resv="0xe1", usage="bookkeep", ret=1, ts_ns=9000),
        dict(op="fence_wait", resv="0xe9", usage="read", ret=1, ts_ns=9100),
        dict(op="scope_exit", scope="vfio_pci_dma_buf_cleanup", ts_ns=9200),
        dict(op="unmap", attach="0xa1", buf="0xb1", sgt="0x52", tid=3, ts_ns=9300),
        dict(op="unpin", attach="0xa1", buf="0xb1", tid=3, ts_ns=9400),
    ]
    path = os.path.join(WORK, "disorder.jsonl")
    with open(path, "w") as f:
        for seq, ev in enumerate(evs, 1):
            ev.setdefault("tid", 1)
            f.write(json.dumps(dict(seq=seq, comm="t", **ev)) + "\n")
    doc = perfetto(path)
    why = validate(doc)
    if why:
        return why
    maps = slices(doc, "mapping")
    if len(maps) != 2 or len({m["tid"] for m in maps}) != 2:
        return f"overlapping mappings not on two tracks: {maps}"
    pins = slices(doc, "pin")
    if sorted(p["args"]["open_at_end"] for p in pins) != [False, True]:
        return f"pins {pins}"
    scopes = sorted((s["pid"], s["name"]) for s in slices(doc, "revoke_scope"))
    want = [(1, "scope vfio_pci_dma_buf_cleanup"), (1, "scope vfio_pci_dma_buf_move"),
            (2, "scope vfio_pci_dma_buf_cleanup"), (2, "scope vfio_pci_dma_buf_move")]
    return None if scopes == want else f"scopes {scopes}"


def check_refused():
    r = run(["replay", TRACES[0], "--format", "svg"])
    want = "dmabuf-audit: invalid value 'svg' for --format: expected text, json, ktap, junit, perfetto or html"
    if r.returncode != 2 or r.stderr.strip() != want:
        return f"exit {r.returncode}, stderr {r.stderr!r}"
    r = run(["replay", TRACES[0], "--timeline", "/nonexistent/dir/t.json"])
    want = "cannot open /nonexistent/dir/t.json: No such file or directory"
    if r.returncode != 2 or want not in r.stderr:
        return f"exit {r.returncode}, stderr {r.stderr!r}"
    copy = os.path.join(WORK, "input.jsonl")
    shutil.copy(TRACES[0], copy)
    r = run(["replay", copy, "--timeline", copy])
    want = f"dmabuf-audit replay: {copy} is the input: refusing to overwrite it with --timeline"
    if r.returncode != 2 or r.stderr.strip() != want:
        return f"exit {r.returncode}, stderr {r.stderr!r}"
    with open(copy) as a, open(TRACES[0]) as b:
        if a.read() != b.read():
            return "the input was overwritten"
    return None


# ---------------------------------------------------------------- HTML in Chromium

def chromium(*args):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=WORK)
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", f"--user-data-dir={profile}", *args],
                       capture_output=True, text=True, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    return r


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG"""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise AssertionError(f"PNG depth {depth} colour type {ctype}")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


def colours(path):
    width, bpp, rows = png_pixels(path)
    seen = set()
    for row in rows:
        for x in range(0, width * bpp, bpp):
            seen.add(tuple(row[x:x + 3]))
    return seen


def screenshot_check(html, w, h, need_critical):
    shot = os.path.join(WORK, "shot.png")
    if os.path.exists(shot):
        os.remove(shot)
    r = chromium(f"--screenshot={shot}", f"--window-size={w},{h}", "file://" + html)
    if not os.path.exists(shot):
        return f"no screenshot: {r.stderr[-500:]}"
    seen = colours(shot)
    if len(seen) < 16:
        return f"blank screenshot: {len(seen)} colours"
    if need_critical and CRITICAL_RGB not in seen:
        return "the critical finding's colour is not on the screenshot"
    return None


def html_case(path, shoot):
    def check():
        html = os.path.join(WORK, "report.html")
        r = run(["replay", path, "--format", "html", "-o", html])
        if r.returncode not in (0, 1):
            return f"exit {r.returncode}: {r.stderr}"
        dom = chromium("--dump-dom", "file://" + html)
        if "</html>" not in dom.stdout:
            return f"no DOM dumped: {dom.stderr[-500:]}"
        rows = sorted(re.findall(r'<tr class="finding" data-rule="([^"]+)" data-buffer="([^"]+)"',
                                 dom.stdout))
        want, _ = report(path)
        if rows != want:
            return f"finding rows {rows}, --format json has {want}"
        for rule, buf in want:
            if f'href="docs/rules.md#{rule}--' not in dom.stdout:
                return f"no link to the section of {rule} in docs/rules.md"
            if buf != "0x0" and f"({buf})" not in dom.stdout:
                return f"buffer {buf} not named"
        if not want and '<p class="none">No findings.</p>' not in dom.stdout:
            return "a correct trace without 'No findings.'"
        if shoot:
            return screenshot_check(html, 1200, 700, need_critical=any(
                r in ("missing-fence-wait", "access-after-revoke") for r, _ in want))
        return None
    return check


def main():
    global BIN, WORK, CHROMIUM
    BIN = os.path.abspath(sys.argv[1])
    WORK = tempfile.mkdtemp(prefix="dmabuf-audit-pictures-")
    CHROMIUM = shutil.which("chromium")
    tap = Tap()
    try:
        for path in TRACES + RECORDS:
            tap.check(f"perfetto {rel(path)}: well formed, same findings", perfetto_case(path))
        for path in RECORDS + TRACES[:3]:
            tap.check(f"--timeline next to --format json: {rel(path)}", timeline_case(path))
        tap.check("scopes, fence waits, mappings, pins are slices; invalidates instants",
                  check_elements)
        tap.check("the demo's finding has arrows from seq 5 and seq 8", check_demo_flow)
        tap.check("lost events are a gap slice and a global mark", check_lost_gap)
        tap.check("disorder: times back, overlapping maps, odd scopes stay well formed",
                  check_disorder)
        tap.check(f"past {CAP_EVENTS} events the pictures say they are truncated", check_truncated)
        tap.check("refused --format, unwritable --timeline, --timeline over the input",
                  check_refused)
        if not CHROMIUM:
            tap.check("chromium is installed (make deps)", lambda: "chromium not found in PATH")
        else:
            for path in TRACES + RECORDS:
                tap.check(f"html {rel(path)} in Chromium: one row per finding",
                          html_case(path, path in RECORDS))
            tap.check("10k events: html draws the buffer with the finding, --all-buffers all",
                      check_10k_html)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"1..{tap.n}")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
