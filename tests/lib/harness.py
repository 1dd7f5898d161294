# SPDX-License-Identifier: GPL-2.0
"""What the Python suites share (the replay cases in tests/replay/run.py first,
the service, pictures and bad-input suites too): TAP output, running the tool,
and reading its JSON Lines reports and the hand-written traces.

Python stdlib only; JSON is compared parsed, never grepped.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRACES = os.path.join(HERE, "..", "replay", "traces")

# The stable rule IDs of the contract (docs/rules.md), in da_rules order.
RULES = [
    "access-after-revoke", "access-attempt-after-revoke", "missing-fence-wait",
    "weak-fence-wait", "fence-wait-incomplete", "revoke-unhandled-importer",
    "non-revocable-importer-accepted", "pinning-importer-missing-pin", "pin-leak",
    "unbalanced-unpin", "mapping-leak", "unbalanced-unmap", "resv-not-held",
    "revoke-stalled", "use-after-release", "pinned-importer-left-revoked",
]
SEVERITIES = ["info", "warning", "high", "critical"]

# ---------------------------------------------------------------- TAP
class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, name, ok, why=""):
        self.n += 1
        if ok:
            print(f"ok {self.n} - {name}")
        else:
            self.failed += 1
            print(f"not ok {self.n} - {name}")
            for line in str(why).splitlines()[:30]:
                print(f"#   {line}")
        sys.stdout.flush()

    def check(self, name, fn):
        try:
            why = fn()
        except Failure as e:
            why = str(e)
        except Exception as e:  # a crash of the check itself is a failure, with its reason
            why = f"{type(e).__name__}: {e}"
        self.result(name, why is None, why)


class Failure(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Failure(why)


# ---------------------------------------------------------------- running the tool
BIN = None  # the dmabuf-audit binary under test (setup)
TMP = None  # a temporary folder for the files a case writes (setup)


def setup(binary, tmp_dir):
    global BIN, TMP
    BIN, TMP = binary, tmp_dir


def run(args, stdin=None):
    p = subprocess.run([BIN] + args, input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def parse_jsonl(text, what):
    objs = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            raise Failure(f"{what}: line {i} is blank")
        try:
            o = json.loads(line)
        except json.JSONDecodeError as e:
            raise Failure(f"{what}: line {i} does not parse: {e}: {line[:200]}")
        if not isinstance(o, dict) or "type" not in o:
            raise Failure(f"{what}: line {i} is not an object with a type")
        objs.append(o)
    return objs


def json_report(args, stdin=None, want_rc=None):
    """Run with --format json; return (rc, objects, stderr)."""
    rc, out, err = run(["replay", "--format", "json"] + args, stdin)
    if want_rc is not None and rc != want_rc:
        raise Failure(f"exit status {rc}, expected {want_rc}; stderr: {err.strip()}")
    return rc, parse_jsonl(out, "report"), err


def split(objs):
    header = [o for o in objs if o["type"] == "header"]
    events = [o for o in objs if o["type"] == "event"]
    findings = [o for o in objs if o["type"] == "finding"]
    notices = [o for o in objs if o["type"] == "notice"]
    summary = [o for o in objs if o["type"] == "summary"]
    return header, events, findings, notices, summary


def key(f):
    att = f["attachment"]["ptr"] if f.get("attachment") else None
    return (f["rule"], f["severity"], f["buffer"]["ptr"], att)


def fkey(f):
    """A finding without what legitimately differs between replays of one trace."""
    return (f["rule"], f["severity"], f["seq"], f["buffer"]["ptr"],
            f["attachment"]["ptr"] if f.get("attachment") else None, f["message"])


def check_structure(objs, what):
    header, events, findings, notices, summary = split(objs)
    expect(objs and objs[0]["type"] == "header", f"{what}: the first line is not the header")
    expect(len(header) == 1, f"{what}: {len(header)} header lines")
    expect(objs[-1]["type"] == "summary" and len(summary) == 1,
           f"{what}: the last line is not the only summary")
    h = header[0]
    for k in ("schema", "tool", "version", "kernel", "source", "hooks"):
        expect(k in h, f"{what}: header has no '{k}'")
    expect(h["schema"] == 1 and h["tool"] == "dmabuf-audit", f"{what}: header {h}")
    s = summary[0]
    for k in ("events", "lost", "buffers", "attachments", "partial", "findings", "by_rule"):
        expect(k in s, f"{what}: summary has no '{k}'")
    expect(sorted(s["by_rule"]) == sorted(RULES),
           f"{what}: by_rule lists {sorted(s['by_rule'])}, not every rule")
    expect(sorted(s["findings"]) == sorted(SEVERITIES), f"{what}: findings {s['findings']}")
    for r in RULES:
        n = sum(1 for f in findings if f["rule"] == r)
        expect(s["by_rule"][r] == n, f"{what}: by_rule[{r}] = {s['by_rule'][r]}, {n} finding lines")
    for sev in SEVERITIES:
        n = sum(1 for f in findings if f["severity"] == sev)
        expect(s["findings"][sev] == n, f"{what}: findings[{sev}] = {s['findings'][sev]}, {n} lines")
    for f in findings:
        for k in ("rule", "severity", "seq", "ts_ns", "pid", "tid", "comm", "buffer", "attachment",
                  "message", "history"):
            expect(k in f, f"{what}: finding has no '{k}': {f}")
        expect(f["rule"] in RULES and f["severity"] in SEVERITIES, f"{what}: finding {f}")
        # "seeded" (extension) only on what existed before the start, and then true
        buf, att = dict(f["buffer"]), dict(f["attachment"] or {})
        expect(buf.pop("seeded", True) is True and att.pop("seeded", True) is True,
               f"{what}: seeded present but not true: {f}")
        expect(sorted(buf) == ["exporter", "ino", "ptr", "size"], f"{what}: buffer {f}")
        if f["attachment"] is not None:
            expect(sorted(att) == ["dev", "importer_ops", "invalidate_cb", "ptr"],
                   f"{what}: attachment {f['attachment']}")
        seqs = [e["seq"] for e in f["history"]]
        expect(seqs == sorted(seqs), f"{what}: history not oldest first: {seqs}")
        expect(isinstance(f["message"], str) and f["message"] and "\n" not in f["message"],
               f"{what}: message {f['message']!r}")
    seqs = [e["seq"] for e in events]
    expect(seqs == sorted(seqs), f"{what}: events out of seq order")
    return header[0], events, findings, notices, summary[0]


def trace_path(name):
    return os.path.join(TRACES, name + ".jsonl")


def load_expect(name):
    with open(os.path.join(TRACES, name + ".expect.json")) as f:
        return json.load(f)


def trace_events(name):
    """The event lines of a hand-written trace, parsed."""
    out = []
    with open(trace_path(name)) as f:
        for line in f:
            if line.strip():
                o = json.loads(line)
                if o.get("type", "event") == "event":
                    out.append(o)
    return out


def tmp(name):
    return os.path.join(TMP, name)
