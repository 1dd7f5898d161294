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

# ---- records, written by tests/replay/record_writer.py (from docs/output.md) ----

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "replay"))
from record_writer import (  # noqa: E402
    REC_EVENT, REC_HEADER, REC_LOST, REC_STACK, REC_END, rec, s16 as sstr)

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
    t0 = time.monotonic()
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                       errors="replace", env=None if env is None else {**os.environ, **env})
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def check(name, ok, detail=""):
    results.append(ok)
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
    pol = write("long.policy", "#" + "x" * 5000 + "\n")
    expect_error("a policy line over 4096 bytes -> exit 2", ["replay", "--policy", pol, trace], 2,
                 "long.policy:1: line longer than 4096 bytes")
    pol = write("ok.policy", "rule pin-leak off\n")
    expect_clean("the good policy line alone -> exit 0", ["replay", "--policy", pol, trace])


def ring_environment():
    """checked before the kernel is asked anything: the same error on any host"""
    for var, val, msg in (
            ("DMABUF_AUDIT_RINGBUF_SIZE", "3000", "DMABUF_AUDIT_RINGBUF_SIZE=3000: the ring buffer"
             " size must be a power of two"),
            ("DMABUF_AUDIT_RING_WAKEUP", "soon", "DMABUF_AUDIT_RING_WAKEUP=soon: 'always' or a"
             " number of bytes from 1 to the ring buffer size (67108864)"),
            ("DMABUF_AUDIT_RING_WAKEUP", "0", "DMABUF_AUDIT_RING_WAKEUP=0: 'always'")):
        expect_error(f"{var}={val} -> exit 2 before any BPF is loaded", ["watch"], 2,
                     "dmabuf-audit: " + msg, stdout_empty=True, env={var: val})
    expect_error("DMABUF_AUDIT_RING_WAKEUP above a 1 MiB ring -> exit 2", ["watch"], 2,
                 "DMABUF_AUDIT_RING_WAKEUP=2097152: 'always' or a number of bytes from 1 to the"
                 " ring buffer size (1048576)", env={"DMABUF_AUDIT_RINGBUF_SIZE": "1048576",
                                                    "DMABUF_AUDIT_RING_WAKEUP": "2097152"})


def main():
    for case in (bad_events, lost_records, stack_flood, json_pointers, json_symbols,
                 gzip_and_long_lines, policies, ring_environment):
        case()
    print(f"1..{len(results)}")
    print(f"# {sum(results)} passed, {len(results) - sum(results)} failed")
    subprocess.run(["rm", "-rf", TMP])
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
