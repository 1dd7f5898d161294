#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bad input through the command line: issue 9's reproducers, end to end.

    tests/badinput/run.py build/dmabuf-audit

Each case writes its input (small, generated here), runs the binary and
checks the exit status, the exact error on standard error and what the
report says, and each bad input has a correct twin that must pass without
an error.  Binary records are written by this script from docs/output.md
(CRC-32C framing), independently of the C writer.  TAP output.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/dmabuf-audit")
TMP = tempfile.mkdtemp(prefix="dmabuf-audit-badinput.")
results = []

# ---- records, written by tests/lib/record_writer.py (from docs/output.md) ----

from record_writer import (  # noqa: E402
    REC_EVENT, REC_HEADER, REC_LOST, REC_STACK, REC_END, rec, s16 as sstr)
import record_writer as rw  # noqa: E402
import btf_writer  # noqa: E402  (tests/lib/btf_writer.py)

OP = {"export": 1, "invalidate": 12, "fence_wait": 13, "scope_enter": 15}
# struct da_event with its padding written out, so a case can make it non-zero
EVENT = struct.Struct("<11Qq3Ii5B3s16s32s")
assert EVENT.size == 168


def event(seq, op="export", fn=0, resv_held=0, usage=0, flags=0, comm=b"test", name=b"exp"):
    return EVENT.pack(seq, 1000 * seq, 0xB1000, 0, 0xC1000, 0, 0, 0, 0, 4096, 0, 0,
                      7, 7, 0, 0, OP[op] if isinstance(op, str) else op, flags, resv_held,
                      usage, fn, b"", comm, name)


def record(*records, events=None):
    """The file: header (one scope named), the given records, END."""
    header = struct.pack("<5I", 0x01020304, 168, 0, 0, 1) + sstr("test") + sstr("7.3.0") + \
        sstr("vfio_pci_dma_buf_move")
    body = b"".join(records)
    n = events if events is not None else sum(1 for r in records if r[:4] == struct.pack("<I", REC_EVENT))
    return b"DABUFREC" + struct.pack("<II", 2, 0) + rec(REC_HEADER, header) + body + \
        rec(REC_END, struct.pack("<Q", n))


# ---- running and checking ----

def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def run(*args, timeout=120, env=None):
    """exit status, stdout, stderr, seconds; a run past timeout is killed and
    reported as exit status "timeout" (issue 24: the binary once hung)"""
    t0 = time.monotonic()
    try:
        p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                           errors="replace", env=None if env is None else {**os.environ, **env})
    except subprocess.TimeoutExpired:
        return "timeout", "", "", time.monotonic() - t0
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}")
    if not ok and detail:
        for line in str(detail).splitlines()[:12]:
            print(f"#   {line}")


def expect_error(name, args, rc, stderr_has, stdout_has=None, stdout_empty=False, env=None):
    code, out, err, _ = run(*args, env=env)
    ok = code == rc and stderr_has in err
    if stdout_has is not None:
        ok = ok and stdout_has in out
    if stdout_empty:
        ok = ok and out == ""
    check(name, ok, f"exit {code}, stderr: {err}\nstdout: {out[-400:]}")


def expect_clean(name, args, rc=0):
    code, out, err, _ = run(*args)
    check(name, code == rc and err == "", f"exit {code}, stderr: {err}")
    return out


# ---- the cases ----

GOOD1 = rec(REC_EVENT, event(1))
OFF2 = 16 + len(rec(REC_HEADER, b"\0" * (20 + 6 + 7 + 23))) + len(GOOD1)


def bad_events():
    cases = [
        ("op 0", dict(op=0), "op 0 out of range (1-19)"),
        ("op 200", dict(op=200), "op 200 out of range (1-19)"),
        ("resv_held 9", dict(resv_held=9), "resv_held 9 out of range (0-2)"),
        ("invalidate fn 77", dict(op="invalidate", fn=77), "invalidate fn 77 out of range (0-1)"),
        ("wait usage 200", dict(op="fence_wait", usage=200),
         "fence wait usage 200 out of range (0-3)"),
        ("scope slot 250", dict(op="scope_enter", fn=250),
         "scope slot 250 beyond the 1 scope named so far"),
        ("comm without NUL", dict(comm=b"A" * 16), "comm without a terminating NUL"),
        ("phys flag off a map", dict(flags=0x80), "phys flag on op export (map only)"),
    ]
    for what, fields, why in cases:
        path = write("bad-event.bin", record(GOOD1, rec(REC_EVENT, event(2, **fields))))
        expect_error(f"record: an event with {what} -> exit 2 at its offset, report of the"
                     " event before", ["replay", path], 2,
                     f"bad-event.bin: corrupt record at byte offset {OFF2}: EVENT record: {why}",
                     stdout_has="Summary: 1 events")
    good = write("good.bin", record(GOOD1, rec(REC_EVENT, event(2, op="scope_enter", fn=0))))
    out = expect_clean("record: the same events in range -> exit 0, no error", ["replay", good])
    check("record: the correct twin's report counts both events", "Summary: 2 events" in out, out)
    events = expect_clean("record: --events --format json of it", ["replay", "--events", "--format",
                                                                    "json", good])
    again = write("good-events.jsonl", events)
    expect_clean("record: its --events JSON replays", ["replay", again])


def lost_records():
    path = write("lost.bin", record(GOOD1, rec(REC_LOST, struct.pack("<QQ", 2**64 - 16, 2**63))))
    expect_error("record: LOST of 2^63 events from seq 2^64-16 -> exit 2 at its offset",
                 ["replay", path], 2,
                 f"corrupt record at byte offset {OFF2}: LOST record: seq 18446744073709551600"
                 " + 9223372036854775808 lost events goes beyond 2^63-1")
    path = write("lost0.bin", record(GOOD1, rec(REC_LOST, struct.pack("<QQ", 5, 0))))
    expect_error("record: LOST of 0 events -> exit 2", ["replay", path], 2,
                 "LOST record: a loss of 0 events")
    path = write("lost-ok.bin", record(GOOD1, rec(REC_LOST, struct.pack("<QQ", 5, 3))))
    code, out, err, _ = run("replay", "--format", "json", path)
    lost = [json.loads(l) for l in out.splitlines() if '"kind":"lost"' in l]
    check("record: a LOST of 3 events from seq 5 is reported as such",
          code == 0 and err == "" and [(n["first_seq"], n["count"]) for n in lost] == [(5, 3)],
          f"exit {code}, {err}, {lost}")


def stack_flood():
    stacks = b"".join(rec(REC_STACK, struct.pack("<iI", i, 1) + sstr("f+0x1"))
                      for i in range(65537))
    path = write("stacks.bin", record(GOOD1, stacks))
    code, out, err, secs = run("replay", path)
    check("record: 65537 distinct STACK records -> exit 2, the bound named, in seconds",
          code == 2 and "more than 65536 distinct stacks" in err and secs < 20,
          f"exit {code} after {secs:.1f} s, stderr: {err}")


def json_pointers():
    for bad in ('"0x-1"', '"0x 2"', '"0x0x5"', '"0x+7"', '"0x12345678123456789"'):
        path = write("ptr.jsonl", '{"op":"export","buf":%s,"resv":"0xc1000","ret":0}\n' % bad)
        expect_error(f"JSON: buf {bad} -> exit 2, line 1", ["replay", path], 2,
                     f"ptr.jsonl: line 1: 'buf': {bad} is not a pointer (\"0x\" and 1 to 16"
                     " hex digits)")
    path = write("ptr.jsonl", '{"op":"export","buf":-16,"resv":"0xc1000","ret":0}\n')
    expect_error("JSON: buf -16 -> exit 2", ["replay", path], 2,
                 "ptr.jsonl: line 1: 'buf' must be a pointer, not the negative integer -16")
    path = write("ptr-ok.jsonl", '{"op":"export","buf":"0xFFFFffff00001000","resv":4096,'
                 '"ret":0}\n')
    expect_clean("JSON: 16 hex digits and a non-negative integer pointer -> exit 0", ["replay", path])


def json_symbols():
    lines = ['{"op":"export","buf":"0xb1000","resv":"0xc1000","ret":0}']
    lines += ['{"op":"attach","buf":"0xb1000","attach":"0x%x","importer_ops":"ops_%d",'
              '"invalidate_cb":"cb_%d","ret":0}' % (0x100000 + 16 * i, i, i) for i in range(40000)]
    path = write("symbols.jsonl", "\n".join(lines) + "\n")
    code, out, err, secs = run("replay", "--max-attachments", "65536", path)
    check("JSON: 80000 distinct symbol names replay in seconds (no scan per name)",
          code in (0, 1) and "replay:" not in err and secs < 15,
          f"exit {code} after {secs:.1f} s, stderr: {err[:300]}")


def gzip_and_long_lines():
    text = "".join('{"op":"export","buf":"0x%x","resv":"0xc1000","ret":0}\n' % (0x1000 + i)
                   for i in range(40))
    path = write("cut.jsonl.gz", gzip.compress(text.encode())[:20])
    expect_error("gzip cut inside its first read -> exit 2, offset named, no report",
                 ["replay", path], 2,
                 "cut.jsonl.gz: read error at byte offset 0 of the uncompressed stream:"
                 " compressed stream cut short", stdout_empty=True)
    path = write("whole.jsonl.gz", gzip.compress(text.encode()))
    expect_clean("gzip: the whole file -> exit 0", ["replay", path])
    path = write("long.jsonl", "{" + " " * (16 << 20) + "}\n")
    expect_error("JSON: a first line over 16 MiB -> exit 2, 'line 1'", ["replay", path], 2,
                 "long.jsonl: line 1: read error: line longer than 16777216 bytes")
    os.unlink(path)


def policies():
    trace = write("ok.jsonl", '{"op":"export","buf":"0xb1000","resv":"0xc1000","ret":0}\n')
    expect_error("--policy /dev/zero -> exit 2, file and line named", ["replay", "--policy",
                 "/dev/zero", trace], 2, "dmabuf-audit: /dev/zero:1: NUL byte in line")
    pol = write("nul.policy", b"rule pin-leak off\n" + b"\0" * (1 << 20))
    expect_error("a policy line of 1 MiB of NUL bytes -> exit 2, line 2", ["replay", "--policy",
                 pol, trace], 2, "nul.policy:2: NUL byte in line (not a text file?)",
                 stdout_empty=True)
    pol = write("long.policy", "rule pin-leak off\nstub-callback " + "x" * 5000 + "\n")
    expect_error("a directive line over 4096 bytes -> exit 2", ["replay", "--policy", pol, trace],
                 2, "long.policy:2: line longer than 4096 bytes")
    pol = write("ok.policy", "rule pin-leak off\n")
    expect_clean("the good policy line alone -> exit 0", ["replay", "--policy", pol, trace])


def ring_environment():
    """checked before the kernel is asked anything: the same error on any host"""
    for var, val, msg in (
            ("DMABUF_AUDIT_RINGBUF_SIZE", "3000", "DMABUF_AUDIT_RINGBUF_SIZE=3000: the ring buffer"
             " size must be a power of two"),
            ("DMABUF_AUDIT_RING_WAKEUP", "soon", "DMABUF_AUDIT_RING_WAKEUP=soon: 'always' or a"
             " number of bytes from 1 to the ring buffer size (67108864)"),
            ("DMABUF_AUDIT_RING_WAKEUP", "0", "DMABUF_AUDIT_RING_WAKEUP=0: 'always'"),
            ("DMABUF_AUDIT_TIMING", "yes", "DMABUF_AUDIT_TIMING=yes: 1 (print the start-up's"
             " phases) or 0"),
            ("DMABUF_AUDIT_BENCH_MIRROR", "yes", "DMABUF_AUDIT_BENCH_MIRROR=yes: 1 (every program"
             " returns at once) or 0")):
        expect_error(f"{var}={val} -> exit 2 before any BPF is loaded", ["watch"], 2,
                     "dmabuf-audit: " + msg, stdout_empty=True, env={var: val})
    expect_error("DMABUF_AUDIT_RING_WAKEUP above a 1 MiB ring -> exit 2", ["watch"], 2,
                 "DMABUF_AUDIT_RING_WAKEUP=2097152: 'always' or a number of bytes from 1 to the"
                 " ring buffer size (1048576)", env={"DMABUF_AUDIT_RINGBUF_SIZE": "1048576",
                                                    "DMABUF_AUDIT_RING_WAKEUP": "2097152"})


# ---- issue 24: what a root service writes, a malformed BTF, a hostile trace ----

TRACES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "replay", "traces")
OK_TRACE = os.path.join(TRACES, "ok-dynamic-move.jsonl")


def fresh_dir(name):
    path = os.path.join(TMP, name)
    subprocess.run(["rm", "-rf", path])
    os.makedirs(path)
    return path


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def metrics_complete(prom):
    """the whole file: its first family and, at the end, its last one (no # EOF in this format)"""
    data = read_bytes(prom)
    return (data.startswith(b"# HELP dmabuf_audit_build_info ") and
            data.endswith(b"\ndmabuf_audit_journal_entries_dropped_total 0\n"))


def metrics_planted_link():
    """defect 1: a symlink planted at FILE.tmp (the old fixed temporary name)"""
    d = fresh_dir("metrics-link")
    victim, prom = os.path.join(d, "victim"), os.path.join(d, "m.prom")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, prom + ".tmp")
    code, out, err, _ = run("replay", "-o", "/dev/null", "--metrics", prom, OK_TRACE)
    check("--metrics with a symlink planted at FILE.tmp -> the link's target untouched, FILE"
          " written", code == 0 and err == "" and read_bytes(victim) == b"precious\n" and
          os.path.isfile(prom) and not os.path.islink(prom) and
          metrics_complete(prom),
          f"exit {code}, stderr: {err}, victim now {read_bytes(victim)[:60]!r}")
    left = sorted(n for n in os.listdir(d) if n not in ("victim", "m.prom", "m.prom.tmp"))
    check("--metrics leaves no temporary file behind", left == [], left)
    code, out, err, _ = run("replay", "-o", "/dev/null", "--metrics", prom, OK_TRACE)
    check("--metrics over its own regular file (the correct twin) -> replaced, mode 0644",
          code == 0 and err == "" and metrics_complete(prom) and
          os.stat(prom).st_mode & 0o777 == 0o644, f"exit {code}, stderr: {err}")


def metrics_device_node():
    """defect 1: --metrics naming a device node (a FIFO when not root)"""
    d = fresh_dir("metrics-node")
    node = os.path.join(d, "node")
    if os.geteuid() == 0:
        os.mknod(node, 0o644 | 0o020000, os.makedev(1, 3))  # what /dev/null is
        kind, test = "a character device", os.path.stat.S_ISCHR
    else:
        os.mkfifo(node)
        kind, test = "a FIFO", os.path.stat.S_ISFIFO
    code, out, err, _ = run("replay", "--metrics", node, OK_TRACE, timeout=30)
    check(f"--metrics naming {kind} -> exit 2, refused by name, the node left as it was",
          code == 2 and f"--metrics {node}: it is {kind}, not a regular file: refusing to"
          " replace it" in err and out == "" and test(os.lstat(node).st_mode),
          f"exit {code}, stderr: {err}, mode now {oct(os.lstat(node).st_mode)}")


def outputs_through_links():
    """every file written as root: a symbolic link at the name is not followed"""
    d = fresh_dir("out-links")
    for opt in ("-o", "--record", "--timeline"):
        victim, link = os.path.join(d, "victim"), os.path.join(d, "out" + opt.strip("-"))
        with open(victim, "w") as f:
            f.write("precious\n")
        os.symlink(victim, link)
        code, out, err, _ = run("replay", opt, link, OK_TRACE)
        check(f"{opt} naming a symbolic link -> exit 2, the link's target untouched",
              code == 2 and f"{opt} {link}: it is a symbolic link, not a regular file" in err and
              read_bytes(victim) == b"precious\n", f"exit {code}, stderr: {err}")
        os.unlink(link)
        with open(link, "w") as f:
            f.write("old report, longer than the new one? no matter\n" * 100)
        code, out, err, _ = run("replay", opt, link, OK_TRACE)
        check(f"{opt} naming an existing regular file (the twin) -> rewritten from the start",
              code == 0 and err == "" and b"old report" not in read_bytes(link),
              f"exit {code}, stderr: {err}")


def colliding_outputs():
    """defect 6: two outputs that are one file"""
    d = fresh_dir("collide")
    rep, same = os.path.join(d, "report.txt"), os.path.join(d, "sub", "..", "report.txt")
    os.makedirs(os.path.join(d, "sub"))
    for opt, path in (("--timeline", rep), ("--record", same), ("--metrics", rep)):
        if os.path.exists(rep):
            os.unlink(rep)
        code, out, err, _ = run("replay", "-o", rep, opt, path, OK_TRACE)
        check(f"-o and {opt} naming one new file -> exit 2 before anything is written",
              code == 2 and f"-o {rep} and {opt} {path} are the same file" in err and
              not os.path.exists(rep), f"exit {code}, stderr: {err}")
    with open(rep, "w") as f:
        f.write("x\n")
    link = os.path.join(d, "hardlink.json")
    os.link(rep, link)
    code, out, err, _ = run("replay", "-o", rep, "--timeline", link, OK_TRACE)
    check("-o and --timeline naming one inode (a hard link) -> exit 2, the file untouched",
          code == 2 and "are the same file" in err and read_bytes(rep) == b"x\n",
          f"exit {code}, stderr: {err}")
    tl = os.path.join(d, "timeline.json")
    code, out, err, _ = run("replay", "-o", rep, "--timeline", tl, OK_TRACE)
    check("-o and --timeline naming two files (the twin) -> both written", code == 0 and
          err == "" and b"report" in read_bytes(rep) and json.loads(read_bytes(tl)),
          f"exit {code}, stderr: {err}")


def btf_files():
    """defects 2 and 3: hooks --btf on a crafted BTF"""
    good = write("good.btf", btf_writer.kernel_61())
    code, out, err, _ = run("hooks", "--btf", good, "--format", "json", timeout=30)
    view = json.loads(out) if code == 0 else {}
    export = [h for h in view.get("hooks", []) if h["hook"] == "export"]
    check("hooks --btf on a small well-formed BTF (the twin) -> its facts read",
          code == 0 and err == "" and view["quirks"] == ["legacy-locking"] and
          view["resv_owner"] is True and view["callback_field"] == "move_notify" and
          export and export[0]["available"], f"exit {code}, stderr: {err}, {out[:300]}")
    bad = write("bad-name.btf", btf_writer.bad_member_name())
    code, out, err, _ = run("hooks", "--btf", bad, timeout=30)
    check("hooks --btf: a member name offset past the strings -> exit 2, the type named"
          " (was SIGSEGV)", code == 2 and out == "" and f"malformed BTF in {bad}: type 2: member"
          " name offset 65535 is beyond the string section" in err, f"exit {code}, stderr: {err}")
    cyc = write("cycle.btf", btf_writer.kernel_61(base_type=btf_writer.typedef_cycle))
    code, out, err, secs = run("hooks", "--btf", cyc, timeout=30)
    check("hooks --btf: a typedef cycle -> exit 2 at once, the cycle named (was: never"
          " returned)", code == 2 and out == "" and "its chain of typedefs and modifiers comes"
          " back to type" in err and secs < 10, f"exit {code} after {secs:.1f} s, stderr: {err}")


def hostile_trace(kernel, exporter, dev, ops, cb, scope):
    """access-after-revoke.jsonl with its names replaced, and a header naming kernel and scope"""
    lines = [json.dumps({"type": "header", "schema": 1, "kernel": kernel, "source": "live",
                         "hooks": [], "quirks": [], "scopes": [scope]})]
    with open(os.path.join(TRACES, "access-after-revoke.jsonl")) as f:
        for line in f:
            ev = json.loads(line)
            ev.pop("comment", None)
            for key, val in (("exporter", exporter), ("dev", dev), ("importer_ops", ops),
                             ("invalidate_cb", cb), ("scope", scope)):
                if key in ev:
                    ev[key] = val
            lines.append(json.dumps(ev))
    return "\n".join(lines) + "\n"


CONTROL = set(range(0x20)) - {0x0A} | {0x7F}


def has_controls(text):
    """a control character other than the line ends, or a C1 control"""
    return any(ord(c) in CONTROL or 0x80 <= ord(c) <= 0x9F for c in text)


def hostile_strings():
    """defect 4: names with line breaks and terminal escapes in text and KTAP"""
    twin = write("names-twin.jsonl", hostile_trace("7.3.4", "vfio_pci_core", "iommu", "ops",
                                                   "cb", "vfio_pci_dma_buf_move"))
    bad = write("names-bad.jsonl", hostile_trace(
        "7.3.4\nnot ok 91 - kernel", "vfio\nnot ok 92 - exporter",
        "iommu\x1b[2J\x1b]0;title\x07\u009b31m", "ops\nnot ok 93 - ops", "cb\rnot ok 94 - cb",
        "vfio_pci_dma_buf_move\nnot ok 95 - scope"))
    for fmt in ("text", "ktap"):
        _, want, _, _ = run("replay", "--events", "--format", fmt, twin)
        code, out, err, _ = run("replay", "--events", "--format", fmt, bad)
        results_twin = [l for l in want.splitlines() if not l.startswith("#")]
        results_bad = [l for l in out.splitlines() if not l.startswith("#")]
        same_lines = len(out.splitlines()) == len(want.splitlines()) and (
            fmt == "text" or results_bad == results_twin)
        check(f"{fmt}: trace names with newlines and escapes add no line (the twin's line count"
              " and result lines), no control character", code == 1 and same_lines and
              not has_controls(out) and "vfio?not ok 92 - exporter" in out and
              "not ok 95 - scope" in out, f"exit {code}, {len(out.splitlines())} lines, twin "
              f"{len(want.splitlines())}: {[l for l in out.splitlines() if 'not ok 9' in l][:4]}")


def perfetto_record(name, comm, dev):
    """export, attach, map, unmap, detach, release with the given names"""
    b, a = 0xB1000, 0xA1000
    recs = [rw.header_record("7.3.4"),
            rw.event_record(1, "export", ts=1000, buf=b, ino=7, size=4096, tid=5, comm=comm,
                            name=name),
            rw.event_record(2, "attach", ts=2000, buf=b, attach=a, tid=5, comm=comm, name=dev,
                            flags=rw.F_DYNAMIC, importer_ops=0x1000, invalidate_cb=0x2000),
            rw.event_record(3, "map", ts=3000, buf=b, attach=a, sgt=0x51000, tid=5, comm=comm),
            rw.event_record(4, "unmap", ts=4000, buf=b, attach=a, sgt=0x51000, tid=5, comm=comm),
            rw.event_record(5, "detach", ts=5000, buf=b, attach=a, tid=5, comm=comm),
            rw.event_record(6, "release", ts=6000, buf=b, tid=5, comm=comm),
            rw.end_record(6)]
    return rw.record_file(recs)


def perfetto_utf8():
    """defect 5: names that are not UTF-8 in --format perfetto and --timeline"""
    twin = write("utf8-twin.bin", perfetto_record(b"udmabuf", b"task", b"vgem"))
    bad = write("utf8-bad.bin", perfetto_record(b"udma\xffbuf\xc3", b"t\xe9sk", b"vg\xfe\xed\xa0em"))
    _, want, _, _ = run("replay", "--format", "perfetto", twin)
    want_n = len(json.loads(want)["traceEvents"])
    code, out, err, _ = run("replay", "--format", "perfetto", bad)
    try:
        trace = json.loads(out)
    except ValueError as e:
        trace = {"error": str(e)}
    names = [e["args"]["name"] for e in trace.get("traceEvents", [])
             if e.get("ph") == "M" and e.get("name") in ("process_name", "thread_name")]
    check("perfetto: names that are not UTF-8 -> exit 0, every entry of the twin kept, bytes"
          " as '?'", code == 0 and err == "" and len(trace.get("traceEvents", [])) == want_n and
          any("udma?buf?" in n for n in names) and any("t?sk" in n for n in names),
          f"exit {code}, stderr: {err}, {len(trace.get('traceEvents', []))} entries of {want_n},"
          f" names {names}")
    tl = os.path.join(TMP, "utf8-timeline.json")
    code, out, err, _ = run("replay", "-o", "/dev/null", "--timeline", tl, bad)
    n = len(json.loads(read_bytes(tl))["traceEvents"]) if code == 0 else -1
    check("--timeline: the same names -> exit 0, all entries", code == 0 and err == "" and
          n == want_n, f"exit {code}, stderr: {err}, {n} entries of {want_n}")


def policy_small_ones():
    """issue 24's four small ones"""
    trace = OK_TRACE
    pol = write("bom.policy", b"\xef\xbb\xbfrule pin-leak off\n")
    code, out, err, _ = run("replay", "--policy", pol, trace)
    check("a policy starting with a UTF-8 BOM -> read as without it", code == 0 and err == "",
          f"exit {code}, stderr: {err!r}")
    fifo = os.path.join(TMP, "policy.fifo")
    os.mkfifo(fifo)
    code, out, err, secs = run("replay", "--policy", fifo, trace, timeout=20)
    check("a FIFO as --policy -> exit 2 at once, said (was: blocked for ever)",
          code == 2 and f"{fifo}: not a policy file: a FIFO or pipe" in err and secs < 10,
          f"exit {code} after {secs:.1f} s, stderr: {err}")
    pol = write("long-comment.policy", "#" + "x" * 5000 + "\nrule pin-leak off  # " + "y" * 5000
                + "\n")
    code, out, err, _ = run("replay", "--policy", pol, trace)
    check("comments over 4096 bytes (a line of its own, after a directive) -> accepted",
          code == 0 and err == "", f"exit {code}, stderr: {err}")
    pol = write("many.policy", "".join(f"pinning-importer imp{i}\n" for i in range(63)))
    expect_error("63 pinning-importers on top of the defaults -> exit 2, the defaults and"
                 " 'clear' named", ["replay", "--policy", pol, trace], 2,
                 "many.policy:63: too many pinning-importer names (at most 64, the built-in"
                 " defaults included; 'clear pinning-importers' first makes room)")
    pol = write("many-cleared.policy", "clear pinning-importers\n" +
                "".join(f"pinning-importer imp{i}\n" for i in range(64)))
    expect_clean("64 pinning-importers after 'clear pinning-importers' -> exit 0",
                 ["replay", "--policy", pol, trace])


def main():
    for case in (bad_events, lost_records, stack_flood, json_pointers, json_symbols,
                 gzip_and_long_lines, policies, ring_environment, metrics_planted_link,
                 metrics_device_node, outputs_through_links, colliding_outputs, btf_files,
                 hostile_strings, perfetto_utf8, policy_small_ones):
        case()
    print(f"1..{len(results)}")
    print(f"# {sum(results)} passed, {len(results) - sum(results)} failed")
    subprocess.run(["rm", "-rf", TMP])
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
