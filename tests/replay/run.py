#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Replay, format and bad-input tests for dmabuf-audit (make replay-tests).

    tests/replay/run.py BIN

Prints TAP ("ok N - name" / "not ok N - name") and exits 1 when a test fails.

* traces/*.jsonl with traces/*.expect.json: hand-written event traces and the
  exact findings they must give (rule, severity, buffer, attachment; an empty
  list for correct flows), plus the exit status.
* round trips: JSON Lines -> binary record (plain and .gz) -> replay, and
  --events --format json output replayed again, give the same events,
  findings and summary.
* formats: JSON Lines structure, KTAP structure (Documentation/dev-tools/
  ktap.rst), JUnit XML (xml.etree), text report.
* bad input: truncated and corrupt records, wrong magic, newer version,
  malformed JSON lines: exit 2, a message naming the offset or line, and the
  report of the events before the bad point.
* the record format as docs/output.md describes it, written by
  tests/lib/record_writer.py (an independent writer), read by the tool.

This file is the cases and their table (the end of the file);
tests/lib/harness.py has what they share (TAP, running the tool, reading
reports), found through PYTHONPATH (tools/run-suite.sh sets it).  Python stdlib
only; JSON is compared parsed, never grepped.
"""

import gzip
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import harness
import identity
from harness import (RULES, SEVERITIES, TRACES, Failure, Tap, check_structure, expect, fkey,
                     json_report, key, load_expect, parse_jsonl, run, split, tmp, trace_events,
                     trace_path)
from record_writer import (EVENT, MAGIC, F_DYNAMIC, F_HAS_REVOKED, F_INTR, F_LOCKED, F_PEER2PEER,
                           F_REVOKED, F_STACK, REC_END, REC_EVENT, REC_HEADER, REC_STACK, crc32c, end_record,
                           event_record, header_record, lost_record, rec, record_file,
                           scope_record, stack_record, symbol_record, tick_record, walk_records)


# ---------------------------------------------------------------- the tests
def test_trace(tap, name):
    exp = load_expect(name)
    want = sorted(tuple(x[k] for k in ("rule", "severity", "buf", "attach")) for x in exp["findings"])
    state = {}

    def structure():
        rc, objs, err = json_report([trace_path(name)])
        expect(rc in (0, 1), f"exit status {rc}: {err.strip()}")
        h, events, findings, notices, s = check_structure(objs, name)
        n_events = len(trace_events(name))
        expect(s["events"] == n_events, f"summary.events {s['events']}, the trace has {n_events}")
        expect(h["source"] == trace_path(name), f"header source {h['source']}")
        state["findings"], state["summary"], state["rc"] = findings, s, rc

    tap.check(f"{name}: JSON report structure", structure)

    def findings():
        expect("findings" in state, "no report (see the structure test)")
        got = sorted(key(f) for f in state["findings"])
        expect(got == want, f"findings {got}\n  expected {want}\n  " +
               "\n  ".join(f"{f['rule']}: {f['message']}" for f in state["findings"]))
        s = state["summary"]
        for k, v in exp.get("summary", {}).items():
            if k == "partial_min":
                expect(s["partial"] >= v, f"summary.partial {s['partial']} < {v}")
            else:
                expect(s[k] == v, f"summary.{k} = {s[k]}, expected {v}")
        want_rc = exp.get("exit", 1 if any(w[1] in ("high", "critical") for w in want) else 0)
        expect(state["rc"] == want_rc, f"exit status {state['rc']}, expected {want_rc}")

    label = "no findings" if not want else ", ".join(sorted({w[0] for w in want}))
    tap.check(f"{name}: {label}", findings)


def report_of(args, what, stdin=None):
    rc, out, err = run(["replay", "--format", "json", "--events"] + args, stdin)
    expect(rc in (0, 1), f"{what}: exit status {rc}: {err.strip()}")
    h, events, findings, notices, s = check_structure(parse_jsonl(out, what), what)
    return rc, out, h, events, findings, s


def test_roundtrip(tap, name):
    src = trace_path(name)

    def record(suffix):
        def fn():
            path = tmp(f"{name}{suffix}")
            rc0, out0, h0, ev0, f0, s0 = report_of([src], "direct")
            rc1, out1, h1, ev1, f1, s1 = report_of(["--record", path, src], "while recording")
            expect(out1 == out0, "the report changes when --record is added")
            with open(path, "rb") as f:
                data = f.read()
            if suffix.endswith(".gz"):
                expect(data[:2] == b"\x1f\x8b", "a .gz record is not gzip-compressed")
                data = gzip.decompress(data)
            expect(data[:8] == MAGIC, "the record does not start with the magic")
            recs = walk_records(data)
            expect(recs[0][1] == REC_HEADER and recs[-1][1] == REC_END, "no HEADER/END records")
            n_ev = sum(1 for r in recs if r[1] == REC_EVENT)
            expect(n_ev == len(ev0), f"{n_ev} EVENT records for {len(ev0)} events")
            rc2, out2, h2, ev2, f2, s2 = report_of([path], "replay of the record")
            expect(h2["source"] == path, f"source {h2['source']}")
            for k in ("kernel", "hooks", "quirks", "scopes"):
                expect(h2.get(k) == h0.get(k), f"header {k}: {h2.get(k)} != {h0.get(k)}")
            expect(ev2 == ev0, "events differ:\n" + "\n".join(
                f"{a}\n{b}" for a, b in zip(ev0, ev2) if a != b))
            expect(f2 == f0, f"findings differ: {[fkey(f) for f in f2]} != {[fkey(f) for f in f0]}")
            expect(s2 == s0, f"summary differs: {s2} != {s0}")
            expect(rc2 == rc0, f"exit status {rc2} != {rc0}")
        return fn

    tap.check(f"{name}: JSON Lines -> record -> replay gives the same report", record(".bin"))
    tap.check(f"{name}: JSON Lines -> record.gz -> replay gives the same report", record(".bin.gz"))

    def events_json():
        rc0, out0, h0, ev0, f0, s0 = report_of([src], "direct")
        path = tmp(f"{name}.events.jsonl")
        with open(path, "w") as f:
            f.write(out0)
        rc1, out1, h1, ev1, f1, s1 = report_of([path], "replay of --events --format json output")
        expect(ev1 == ev0, "events differ:\n" + "\n".join(
            f"{a}\n{b}" for a, b in zip(ev0, ev1) if a != b))
        expect(f1 == f0, f"findings differ: {[fkey(f) for f in f1]} != {[fkey(f) for f in f0]}")
        expect(s1 == s0, f"summary differs: {s1} != {s0}")

    tap.check(f"{name}: --events --format json output replayed gives the same report", events_json)


# ---- KTAP (Documentation/dev-tools/ktap.rst)
KTAP_RESULT = re.compile(r"^(ok|not ok) (\d+)(?: ([^#]*?))?(?: # ?(.*))?$")


def ktap_parse(text):
    """A strict structure check of one flat KTAP v1 document; returns [(ok, num, name, directive)]."""
    lines = text.split("\n")
    expect(lines[-1] == "", "KTAP output does not end with a newline")
    lines = lines[:-1]
    expect(lines and lines[0] == "KTAP version 1", f"first line {lines[:1]}, not 'KTAP version 1'")
    expect(len(lines) > 1 and re.fullmatch(r"1\.\.\d+", lines[1]),
           f"second line {lines[1:2]} is not a plan")
    plan = int(lines[1][3:])
    results = []
    for i, line in enumerate(lines[2:], 3):
        if line.startswith("#"):
            expect(line == "#" or line.startswith("# "), f"line {i}: diagnostic without '# ': {line}")
            continue
        m = KTAP_RESULT.match(line)
        expect(m, f"line {i}: neither a result nor a diagnostic line: {line!r}")
        ok, num, name, directive = m.group(1) == "ok", int(m.group(2)), m.group(3), m.group(4)
        expect(num == len(results) + 1, f"line {i}: test number {num}, expected {len(results) + 1}")
        expect(name and "#" not in name, f"line {i}: no test name")
        if directive is not None:
            expect(directive.split()[0] in ("SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR"),
                   f"line {i}: unknown directive {directive!r}")
        results.append((ok, num, name.strip(), directive))
    expect(len(results) == plan, f"plan 1..{plan} but {len(results)} results")
    return results


def ktap_check(args, findings, fail_on, disabled=()):
    rc, out, err = run(["replay", "--format", "ktap"] + args)
    expect(rc in (0, 1), f"exit status {rc}: {err.strip()}")
    results = ktap_parse(out)
    expect([r[2] for r in results] == RULES, f"tests {[r[2] for r in results]}, not the rules")
    thr = SEVERITIES.index(fail_on)
    for ok, num, name, directive in results:
        failing = [f for f in findings if f["rule"] == name and SEVERITIES.index(f["severity"]) >= thr]
        if name in disabled:
            expect(ok and directive and directive.startswith("SKIP"),
                   f"disabled rule {name}: {ok} {directive}")
            continue
        expect(directive is None, f"{name}: unexpected directive {directive}")
        expect(ok == (not failing), f"{name}: {'ok' if ok else 'not ok'} with {len(failing)} "
                                    f"findings at or above {fail_on}")
    # every finding is told as a diagnostic before its rule's result line
    lines = out.splitlines()
    for f in findings:
        idx = [i for i, l in enumerate(lines) if l.startswith(f"# {f['severity']}")
               and f" {f['rule']} " in l + " " and f"seq {f['seq']}" in l]
        expect(idx, f"finding {f['rule']} at seq {f['seq']} is not in the KTAP diagnostics")
    return rc


def junit_check(args, findings, fail_on, disabled=()):
    rc, out, err = run(["replay", "--format", "junit"] + args)
    expect(rc in (0, 1), f"exit status {rc}: {err.strip()}")
    try:
        root = ET.fromstring(out)
    except ET.ParseError as e:
        raise Failure(f"JUnit XML does not parse: {e}")
    expect(root.tag == "testsuite" and root.get("name") == "dmabuf-audit", f"root {root.tag}")
    cases = root.findall("testcase")
    expect([c.get("name") for c in cases] == RULES, "a testcase per rule, in order")
    expect(all(c.get("classname") == "dmabuf-audit" for c in cases), "classname")
    expect(root.get("tests") == str(len(RULES)), f"tests={root.get('tests')}")
    thr = SEVERITIES.index(fail_on)
    failing_cases = 0
    for c in cases:
        mine = [f for f in findings if f["rule"] == c.get("name")]
        fails = sorted((f["severity"], f["message"]) for f in mine
                       if SEVERITIES.index(f["severity"]) >= thr)
        got = sorted((x.get("type"), x.get("message")) for x in c.findall("failure"))
        expect(got == fails, f"{c.get('name')}: failures {got}, expected {fails}")
        failing_cases += bool(fails)
        if c.get("name") in disabled:
            expect(c.find("skipped") is not None, f"{c.get('name')} disabled but not skipped")
        else:
            expect(c.find("skipped") is None, f"{c.get('name')} skipped")
        below = [f for f in mine if SEVERITIES.index(f["severity"]) < thr]
        if below:
            so = c.find("system-out")
            expect(so is not None and all(f["message"] in so.text for f in below),
                   f"{c.get('name')}: findings below --fail-on not in its system-out")
    expect(root.get("failures") == str(failing_cases),
           f"failures={root.get('failures')}, {failing_cases} failing testcases")
    expect(root.get("skipped") == str(len(disabled)), f"skipped={root.get('skipped')}")
    return rc


def test_formats(tap, name):
    src = trace_path(name)

    def get_findings(extra=()):
        rc, objs, err = json_report(list(extra) + [src])
        expect(rc in (0, 1), f"exit status {rc}: {err.strip()}")
        return split(objs)[2]

    def ktap():
        f = get_findings()
        for fail_on in ("high", "info"):
            ktap_check(["--fail-on", fail_on, src], f, fail_on)

    def junit():
        f = get_findings()
        for fail_on in ("high", "info"):
            junit_check(["--fail-on", fail_on, src], f, fail_on)

    def text():
        f = get_findings()
        rc, out, err = run(["replay", "--color", "never", src])
        expect(rc in (0, 1), f"exit status {rc}: {err.strip()}")
        expect("\x1b[" not in out, "colour codes with --color never")
        expect(out.startswith("dmabuf-audit "), f"text report starts with {out[:40]!r}")
        expect("Summary:" in out, "no summary in the text report")
        if not f:
            expect("No findings." in out, "no 'No findings.' for a clean trace")
        # findings grouped under "Buffer ..." headings, one block each
        blocks = re.findall(r"^  (critical|high|warning|info)\s+(\S+)\s+at ", out, re.M)
        expect(sorted(blocks) == sorted((x["severity"], x["rule"]) for x in f),
               f"text blocks {blocks} vs findings {[(x['severity'], x['rule']) for x in f]}")
        heads = re.findall(r"^Buffer ino (\d+|unknown).*\((0x[0-9a-f]+)\): (\d+) findings?$", out, re.M)
        expect(sum(int(h[2]) for h in heads) == len(f), f"buffer headings {heads}")
        for h in heads:
            n = sum(1 for x in f if x["buffer"]["ptr"] == h[1])
            expect(n >= int(h[2]), f"heading {h} but {n} findings on that buffer")
        rc2, out2, err2 = run(["replay", "--color", "always", src])
        if f:
            expect("\x1b[" in out2, "no colour with --color always")

    tap.check(f"{name}: KTAP structure and verdicts", ktap)
    tap.check(f"{name}: JUnit XML testcases and failures", junit)
    tap.check(f"{name}: text report", text)


def test_policy_disable(tap):
    pol = tmp("policy-off")
    with open(pol, "w") as f:
        f.write("# test: switch one rule off\nrule missing-fence-wait off\n")
    src = trace_path("missing-fence-wait")

    def fn():
        rc, objs, err = json_report(["--policy", pol, src])
        f = split(objs)[2]
        expect(not any(x["rule"] == "missing-fence-wait" for x in f), "disabled rule reported")
        ktap_check(["--policy", pol, src], f, "high", disabled=("missing-fence-wait",))
        junit_check(["--policy", pol, src], f, "high", disabled=("missing-fence-wait",))
    tap.check("policy: a disabled rule is SKIP in KTAP, skipped in JUnit, absent in JSON", fn)


def test_exit_status(tap):
    cases = [
        ("access-after-revoke", [], 1),
        ("access-after-revoke", ["--error-exitcode", "7"], 7),
        ("access-after-revoke", ["--fail-on", "critical"], 1),
        ("weak-fence-wait", [], 0),
        ("weak-fence-wait", ["--fail-on", "warning"], 1),
        ("weak-fence-wait", ["--fail-on", "warning", "--error-exitcode", "3"], 3),
        ("weak-fence-wait", ["--fail-on", "high", "--error-exitcode", "3"], 0),
        ("pinned-importer-left-revoked", ["--fail-on", "info"], 1),
        ("pinned-importer-left-revoked", ["--fail-on", "warning"], 0),
        ("ok-vfio-revoke", ["--fail-on", "info"], 0),
        ("ok-vfio-revoke", ["--fail-on", "info", "--error-exitcode", "9"], 0),
    ]
    for name, args, want in cases:
        def fn(name=name, args=args, want=want):
            for fmt in ("text", "json", "ktap", "junit"):
                rc, out, err = run(["replay", "--format", fmt] + args + [trace_path(name)])
                expect(rc == want, f"--format {fmt}: exit status {rc}, expected {want}; {err.strip()}")
        tap.check(f"exit status: replay {' '.join(args) or '(defaults)'} {name} -> {want}", fn)

    def usage():
        for args in (["replay"], ["replay", "a", "b"], ["replay", "--format", "yaml", "x"],
                     ["replay", "--fail-on", "bad", "x"]):
            rc, out, err = run(args)
            expect(rc == 2 and err.strip(), f"{args}: exit {rc}, stderr {err!r}")
    tap.check("exit status: usage errors exit 2 with a message", usage)


def lines_of(name):
    with open(trace_path(name)) as f:
        return [l for l in f.read().splitlines()]


def test_bad_json(tap):
    name = "access-after-revoke"
    lines = lines_of(name)
    # the successful map after the revoke is line 11; the bad line goes after it
    cut = next(i for i, l in enumerate(lines, 1) if '"sgt":"0x52000"' in l and '"op":"map"' in l)
    bads = [
        ("garbage JSON line", "this is not JSON", "invalid JSON"),
        ("a line missing op", '{"buf":"0xb1000","attach":"0xa1000","sgt":"0x52000","ret":0}', "missing 'op'"),
        ("a map missing ret", '{"op":"map","attach":"0xa1000","buf":"0xb1000","sgt":"0x52000"}', "needs 'ret'"),
        ("a map missing sgt", '{"op":"map","attach":"0xa1000","buf":"0xb1000","ret":0}', "needs 'sgt'"),
        ("a bad pointer", '{"op":"release","buf":"b1000"}', "'buf' must be a pointer"),
        ("an unknown op", '{"op":"frobnicate","buf":"0xb1000"}', 'unknown op "frobnicate"'),
        ("an unknown field", '{"op":"release","buf":"0xb1000","bfu":1}', "unknown field 'bfu'"),
        ("a JSON array", '[1, 2, 3]', "expected a JSON object"),
        ("a second header", '{"type":"header","schema":1}', "header line after the first line"),
    ]
    prefix = tmp("prefix.jsonl")
    with open(prefix, "w") as f:
        f.write("\n".join(lines[:cut]) + "\n")
    state = {}

    def prefix_report():
        rc, objs, err = json_report([prefix])
        state["prefix"] = split(objs)
    tap.check("bad JSON: replay of the good prefix", prefix_report)
    for label, bad, msg in bads:
        def fn(bad=bad, msg=msg):
            path = tmp("bad.jsonl")
            with open(path, "w") as f:
                f.write("\n".join(lines[:cut] + [bad] + lines[cut:]) + "\n")
            out = tmp("bad.report.json")
            rc, stdout, err = run(["replay", "--format", "json", "-o", out, path])
            expect(rc == 2, f"exit status {rc}, expected 2")
            expect(f"line {cut + 1}:" in err and msg in err,
                   f"stderr does not name line {cut + 1} and '{msg}': {err.strip()}")
            with open(out) as f:
                h, ev, findings, notices, s = check_structure(parse_jsonl(f.read(), "report"), "report")
            expect(s["events"] == cut, f"the report covers {s['events']} events, expected {cut}")
            pf = state["prefix"][2]
            expect([fkey(x) for x in findings] == [fkey(x) for x in pf],
                   "findings before the bad line differ from the prefix's")
        tap.check(f"bad JSON: {label} -> exit 2, line {cut + 1} named, report of the lines before", fn)

    def kept():
        expect("prefix" in state, "no prefix report")
        expect(any(f["rule"] == "access-after-revoke" for f in state["prefix"][2]),
               "the access-after-revoke before the bad line is not reported")
        path = tmp("bad2.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(lines[:cut] + ["{oops"]) + "\n")
        rc, stdout, err = run(["replay", "--format", "json", path])
        f = split(parse_jsonl(stdout, "report"))[2]
        expect(rc == 2 and any(x["rule"] == "access-after-revoke" for x in f),
               f"exit {rc}, findings {[x['rule'] for x in f]}")
    tap.check("bad JSON: the finding before the bad line is still reported", kept)

    def seq_order():
        path = tmp("seq.jsonl")
        with open(path, "w") as f:
            f.write('{"seq":5,"op":"release","buf":"0x1"}\n{"seq":4,"op":"release","buf":"0x2"}\n')
        rc, out, err = run(["replay", "--format", "json", path])
        expect(rc == 2 and "line 2:" in err and "seq 4" in err, f"exit {rc}: {err.strip()}")
    tap.check("bad JSON: seq going backwards -> exit 2, line named", seq_order)


def recorded(name, suffix=".bin", extra=()):
    path = tmp(name + suffix)
    rc, out, err = run(["replay", "--format", "json", "--record", path] + list(extra) + [trace_path(name)])
    expect(rc in (0, 1), f"recording: exit {rc}: {err.strip()}")
    with open(path, "rb") as f:
        return path, f.read()


def test_bad_record(tap):
    name = "access-after-revoke"
    state = {}

    def setup():
        path, data = recorded(name)
        state["data"] = data
        state["recs"] = walk_records(data)
        events = trace_events(name)
        state["events"] = events
        # findings of the first k events, from JSON prefixes of the trace
        state["prefix"] = {}
    tap.check("bad record: record a trace", setup)
    if "data" not in state:
        return
    data, recs = state["data"], state["recs"]
    ev_recs = [r for r in recs if r[1] == REC_EVENT]

    def prefix_findings(k):
        if k not in state["prefix"]:
            path = tmp(f"prefix{k}.jsonl")
            with open(path, "w") as f:
                f.write("".join(json.dumps(e) + "\n" for e in state["events"][:k]))
            rc, objs, err = json_report([path])
            state["prefix"][k] = [fkey(x) for x in split(objs)[2]]
        return state["prefix"][k]

    def check_cut(n_bytes, blob, want_offset, want_events, words):
        state["cuts"] = state.get("cuts", 0) + 1
        path = tmp(f"cut{state['cuts']}.bin")
        with open(path, "wb") as f:
            f.write(blob)
        out = tmp(f"cut{state['cuts']}.report.json")
        rc, stdout, err = run(["replay", "--format", "json", "-o", out, path])
        expect(rc == 2, f"exit status {rc}, expected 2 ({err.strip()})")
        expect(f"byte offset {want_offset}" in err, f"stderr does not name byte offset {want_offset}: {err.strip()}")
        for w in words:
            expect(w in err, f"stderr does not say '{w}': {err.strip()}")
        if want_events is None:
            # nothing could be judged: no report at all, only the error
            expect(not os.path.exists(out), "a report was written for an unreadable header")
            return
        with open(out) as f:
            h, ev, findings, notices, s = check_structure(parse_jsonl(f.read(), "report"), "report")
        expect(s["events"] == want_events, f"report covers {s['events']} events, expected {want_events}")
        expect([fkey(x) for x in findings] == prefix_findings(want_events),
               "findings differ from those of the events before the cut")

    first_ev = ev_recs[0][0]
    mid = ev_recs[len(ev_recs) // 2]
    end_rec = recs[-1]
    cuts = [
        ("inside the magic", 5, 5, None, ["truncated"]),
        ("inside the file header", 12, 12, None, ["truncated"]),
        ("inside the HEADER record", 30, 16, None, ["truncated", "HEADER"]),
        ("after the HEADER record", first_ev, first_ev, 0, ["truncated", "END"]),
        ("inside the first EVENT", first_ev + 100, first_ev, 0, ["truncated", "EVENT"]),
        ("inside a middle EVENT", mid[0] + 7, mid[0], ev_recs.index(mid), ["truncated", "EVENT"]),
        ("just before END", end_rec[0], end_rec[0], len(ev_recs), ["truncated", "END"]),
        ("inside END", end_rec[0] + 10, end_rec[0], len(ev_recs), ["truncated", "END"]),
    ]
    for label, n, off, nev, words in cuts:
        tap.check(f"bad record: truncated {label} (byte {n}) -> exit 2, offset {off} named",
                  lambda n=n, off=off, nev=nev, words=words: check_cut(n, data[:n], off, nev, words))

    def flipped():
        blob = bytearray(data)
        blob[mid[0] + 8 + 40] ^= 0x10     # a byte of the event's payload
        check_cut(None, bytes(blob), mid[0], ev_recs.index(mid), ["checksum"])
    tap.check("bad record: a flipped byte -> exit 2, checksum mismatch at its record's offset", flipped)

    def bad_length():
        blob = bytearray(data)
        struct.pack_into("<I", blob, mid[0] + 4, 1000)
        check_cut(None, bytes(blob), mid[0], ev_recs.index(mid), ["corrupt", "length 1000"])
    tap.check("bad record: an EVENT record with a wrong length -> exit 2, offset named", bad_length)

    def unknown_type():
        blob = bytearray(data)
        struct.pack_into("<I", blob, mid[0], 77)
        check_cut(None, bytes(blob), mid[0], ev_recs.index(mid), ["unknown record type 77"])
    tap.check("bad record: an unknown record type -> exit 2, offset named", unknown_type)

    def wrong_magic():
        path = tmp("magic.bin")
        with open(path, "wb") as f:
            f.write(b"DABUFXEC" + data[8:])
        rc, out, err = run(["replay", "--format", "json", path])
        expect(rc == 2 and "wrong magic" in err and out == "", f"exit {rc}: {err.strip()}")
    tap.check("bad record: wrong magic -> exit 2, clear message, no report", wrong_magic)

    def newer():
        path = tmp("newer.bin")
        with open(path, "wb") as f:
            f.write(data[:8] + struct.pack("<I", 99) + data[12:])
        rc, out, err = run(["replay", "--format", "json", path])
        expect(rc == 2 and "newer" in err and "version 99" in err and out == "",
               f"exit {rc}: {err.strip()}")
    tap.check("bad record: newer format version -> exit 2, clear message", newer)

    def layout():
        path = tmp("layout.bin")
        with open(path, "wb") as f:
            f.write(record_file([header_record(evsize=EVENT.size + 8), end_record(0)]))
        rc, out, err = run(["replay", "--format", "json", path])
        expect(rc == 2 and "event layout" in err, f"exit {rc}: {err.strip()}")
        with open(path, "wb") as f:
            f.write(record_file([header_record(bom=0x04030201), end_record(0)]))
        rc, out, err = run(["replay", "--format", "json", path])
        expect(rc == 2 and "byte order" in err, f"exit {rc}: {err.strip()}")
    tap.check("bad record: another event layout or byte order -> exit 2, clear message", layout)

    def end_count():
        blob = bytearray(data)
        struct.pack_into("<Q", blob, end_rec[0] + 8, len(ev_recs) + 5)
        struct.pack_into("<I", blob, end_rec[0] + 16, crc32c(bytes(blob[end_rec[0]:end_rec[0] + 16])))
        check_cut(None, bytes(blob), end_rec[0], len(ev_recs), ["END", f"wrote {len(ev_recs) + 5} events"])
    tap.check("bad record: END count that does not match -> exit 2", end_count)

    def trailing():
        check_cut(None, data + b"junk", len(data), len(ev_recs), ["after the END record"])
    tap.check("bad record: data after END -> exit 2, offset named", trailing)

    def gz_cut():
        gz = gzip.compress(data * 1)
        big_path, big = recorded(name, ".big.bin.gz")
        path = tmp("cut.bin.gz")
        with open(path, "wb") as f:
            f.write(gz[: len(gz) * 2 // 3])
        rc, out, err = run(["replay", "--format", "json", path])
        expect(rc == 2 and "byte offset" in err and "uncompressed" in err and "cut short" in err,
               f"exit {rc}: {err.strip()}")
        parse_jsonl(out, "report of a cut .gz")
        # a gzip'd record replays the same as the plain one
        rc1, o1, e1 = run(["replay", "--format", "json", "--events", tmp(name + ".bin")])
        rc2, o2, e2 = run(["replay", "--format", "json", "--events", big_path])
        expect(rc1 == rc2 and o1.splitlines()[1:] == o2.splitlines()[1:], "plain and .gz replays differ")
    tap.check("bad record: a cut .gz -> exit 2, offset in the uncompressed stream named", gz_cut)

    def other_errors():
        rc, out, err = run(["replay", tmp("does-not-exist.bin")])
        expect(rc == 2 and "cannot open" in err, f"missing file: exit {rc}: {err.strip()}")
        empty = tmp("empty")
        open(empty, "w").close()
        rc, out, err = run(["replay", empty])
        expect(rc == 2 and "empty" in err, f"empty file: exit {rc}: {err.strip()}")
        rc, out, err = run(["replay", "-o", "/dev/full", trace_path(name)])
        expect(rc == 2 and "cannot write" in err, f"-o /dev/full: exit {rc}: {err.strip()}")
        rc, out, err = run(["replay", "--record", "/nonexistent-dir/x.bin", trace_path(name)])
        expect(rc == 2 and "cannot create" in err, f"bad --record: exit {rc}: {err.strip()}")
        rc, out, err = run(["replay", "--record", "/dev/full", trace_path(name)])
        expect(rc == 2 and "cannot write" in err, f"--record /dev/full: exit {rc}: {err.strip()}")
        path, data = recorded(name, ".self.bin")
        rc, out, err = run(["replay", "--record", path, path])
        expect(rc == 2 and "refusing to overwrite" in err, f"--record onto the input: exit {rc}: {err.strip()}")
        with open(path, "rb") as f:
            expect(f.read() == data, "the input was changed")
    tap.check("bad input: missing, empty, unwritable outputs -> exit 2 with a message", other_errors)


def test_stdin(tap):
    name = "access-after-revoke"

    def fn():
        rc0, out0, h0, ev0, f0, s0 = report_of([trace_path(name)], "file")
        with open(trace_path(name), "rb") as f:
            rc1, out1, h1, ev1, f1, s1 = report_of(["-"], "stdin", stdin=f.read())
        expect(h1["source"] == "-" and ev1 == ev0 and f1 == f0 and s1 == s0, "JSON Lines on stdin")
        path, data = recorded(name, ".stdin.bin.gz")
        with open(path, "rb") as f:
            rc2, out2, h2, ev2, f2, s2 = report_of(["-"], "stdin", stdin=f.read())
        expect(ev2 == ev0 and f2 == f0 and s2 == s0, "gzip'd record on stdin")
    tap.check("replay - reads JSON Lines and gzip'd records from standard input", fn)


def test_writer_format(tap):
    """The record format of docs/output.md, written here, read by the tool."""
    B, A, R, S = 0xffff888004a10000, 0xffff888006c10000, 0xffff888004a10200, 0xffff888007e10000
    OPSYM, CBSYM = 0xffffffffc0a01000, 0xffffffffc0a02340
    recs = [
        header_record("6.1.0-56-amd64", quirks=1,
                      hooks=[("dma_buf_export", "fexit", True, ""),
                             ("dma_buf_map_attachment_unlocked", "absent", False, "not in this kernel")],
                      scopes=["vfio_pci_dma_buf_move"]),
        event_record(1, "export", ts=10, buf=B, resv=R, ino=77, size=4096, comm=b"writer", name=b"dat_exporter", pid=5, tid=6, cpu=1),
        symbol_record(OPSYM, "dat_dynamic_importer_ops"),
        symbol_record(CBSYM, "dat_dynamic_invalidate"),
        event_record(2, "attach", ts=11, buf=B, attach=A, importer_ops=OPSYM, invalidate_cb=CBSYM,
                     flags=F_DYNAMIC | F_PEER2PEER, name=b"dat_importer", resv=R),
        event_record(3, "map", ts=12, buf=B, attach=A, sgt=S, flags=F_LOCKED, resv_held=2, resv=R),
        lost_record(4, 2),
        event_record(4, "fence_wait", ts=13, resv=R, usage=3, timeout=100, ret=5, flags=F_INTR),
        tick_record(20),
        scope_record(1, "dat_exporter_revoke"),
        event_record(8, "scope_enter", ts=21, importer_ops=0xf000, flags=F_HAS_REVOKED | F_REVOKED, fn=1),
        event_record(9, "invalidate", ts=22, buf=B, resv_held=1, fn=1, resv=R),
        event_record(10, "scope_exit", ts=23, importer_ops=0xf000, flags=F_HAS_REVOKED, fn=1),
        event_record(11, "unmap", ts=24, buf=B, attach=A, sgt=S, resv_held=0, resv=R),
        end_record(8),
    ]
    path = tmp("written.bin")
    with open(path, "wb") as f:
        f.write(record_file(recs))

    def checksums():
        """Version 1 files (zlib CRC-32) still replay; the table CRC-32C and the
        SSE4.2 instruction agree (with each other and with this script)."""
        data = record_file(recs)
        v1 = bytearray(data[:8] + struct.pack("<II", 1, 0))
        for off, rtype, length in walk_records(data):
            v1 += rec(rtype, data[off + 8:off + 8 + length], version=1)
        old = tmp("written-v1.bin")
        with open(old, "wb") as f:
            f.write(bytes(v1))
        base = subprocess.run([harness.BIN, "replay", "--format", "json", "--events", path],
                              capture_output=True, text=True)
        expect(base.returncode in (0, 1), f"v2: exit {base.returncode}: {base.stderr.strip()}")
        for what, args, env in (("version 1", [old], None),
                                ("table CRC-32C", [path], dict(os.environ, DA_RECORD_SOFT_CRC="1"))):
            p = subprocess.run([harness.BIN, "replay", "--format", "json", "--events"] + args,
                               capture_output=True, text=True, env=env)
            strip = lambda text: [o for o in map(json.loads, text.splitlines()) if o["type"] != "header"]
            expect(p.returncode == base.returncode and strip(p.stdout) == strip(base.stdout),
                   f"{what}: exit {p.returncode}: {p.stderr.strip()}")
        # a flipped payload byte is caught by the table path too
        bad = bytearray(data)
        bad[walk_records(data)[2][0] + 20] ^= 0x40
        bad_path = tmp("written-bad.bin")
        with open(bad_path, "wb") as f:
            f.write(bytes(bad))
        p = subprocess.run([harness.BIN, "replay", "--format", "json", bad_path], capture_output=True,
                           text=True, env=dict(os.environ, DA_RECORD_SOFT_CRC="1"))
        expect(p.returncode == 2 and "checksum" in p.stderr, f"exit {p.returncode}: {p.stderr.strip()}")
        return None
    tap.check("record format: version 1 (zlib CRC-32) still reads; CRC-32C table == instruction",
              checksums)

    def fn():
        rc, out, err = run(["replay", "--format", "json", "--events", path])
        expect(rc in (0, 1), f"exit {rc}: {err.strip()}")
        h, events, findings, notices, s = check_structure(parse_jsonl(out, "report"), "report")
        expect(h["kernel"] == "6.1.0-56-amd64" and h["quirks"] == ["legacy-locking"], f"header {h}")
        expect(h["hooks"] == [{"function": "dma_buf_export", "mode": "fexit", "attached": True},
                              {"function": "dma_buf_map_attachment_unlocked", "mode": "absent",
                               "attached": False, "reason": "not in this kernel"}], f"hooks {h['hooks']}")
        expect(h["scopes"] == ["vfio_pci_dma_buf_move"], f"scopes {h['scopes']}")
        hx = lambda v: f"0x{v:x}"
        common = lambda seq, ts, op, pid=0, tid=0, cpu=0, comm=None: {
            "type": "event", "seq": seq, "ts_ns": ts, "cpu": cpu, "pid": pid, "tid": tid, "comm": comm, "op": op}
        want = [
            dict(common(1, 10, "export", 5, 6, 1, "writer"), buf=hx(B), ino=77, exporter="dat_exporter", size=4096, resv=hx(R), ret=0),
            dict(common(2, 11, "attach"), buf=hx(B), attach=hx(A), dev="dat_importer", dynamic=True,
                 importer_ops="dat_dynamic_importer_ops", invalidate_cb="dat_dynamic_invalidate", peer2peer=True, ret=0, resv=hx(R)),
            dict(common(3, 12, "map"), attach=hx(A), buf=hx(B), sgt=hx(S), locked=True, resv_held=True, ret=0, resv=hx(R)),
            dict(common(4, 13, "fence_wait"), resv=hx(R), usage="bookkeep", intr=True, timeout=100, ret=5),
            dict(common(8, 21, "scope_enter"), scope="dat_exporter_revoke", revoked=True, object="0xf000"),
            dict(common(9, 22, "invalidate"), buf=hx(B), resv_held=False, fn="dma_buf_invalidate_mappings", resv=hx(R)),
            dict(common(10, 23, "scope_exit"), scope="dat_exporter_revoke", revoked=False, object="0xf000"),
            dict(common(11, 24, "unmap"), attach=hx(A), buf=hx(B), sgt=hx(S), locked=False, resv_held=None, resv=hx(R)),
        ]
        for got, exp in zip(events, want):
            expect(got == exp, f"event decoded as\n{json.dumps(got, sort_keys=True)}\nexpected\n{json.dumps(exp, sort_keys=True)}")
        expect(len(events) == len(want), f"{len(events)} events")
        # 2 lost by the LOST record (no gap) + seq 5..7 missing (a gap of 3)
        expect(s["lost"] == 5 and s["events"] == 8, f"summary lost {s['lost']} events {s['events']}")
        lost = [n for n in notices if n["kind"] == "lost"]
        expect([(n["first_seq"], n["count"], n["seq_gap"]) for n in lost] == [(4, 2, False), (5, 3, True)],
               f"lost notices {lost}")
        # the same through JSON: the counted loss travels in its notice
        jpath = tmp("written.jsonl")
        with open(jpath, "w") as f:
            f.write(out)
        rc2, out2, err2 = run(["replay", "--format", "json", "--events", jpath])
        h2, ev2, f2, n2, s2 = check_structure(parse_jsonl(out2, "report"), "report")
        expect(ev2 == events and s2 == s and f2 == findings, f"JSON replay differs: {s2} vs {s}")
    tap.check("record format: a record written from docs/output.md decodes field by field", fn)

    def odd_bytes():
        bad = [header_record("7.3.4"),
               event_record(1, "export", buf=B, resv=R, ino=5, size=4096, name=b"bad\xffname<&>",
                            comm=b"t\x01sk\xc3"),
               event_record(2, "release", buf=B),
               event_record(3, "vmap", buf=B, ret=0),
               end_record(3)]
        path2 = tmp("odd.bin")
        with open(path2, "wb") as f:
            f.write(record_file(bad))
        rc, out, err = run(["replay", "--format", "json", "--events", path2])
        h, ev, findings, notices, s = check_structure(parse_jsonl(out, "report"), "report")
        expect(ev[0]["exporter"] == "bad?name<&>" and ev[0]["comm"] == "t\x01sk?",
               f"exporter {ev[0]['exporter']!r}, comm {ev[0]['comm']!r}")
        for fmt in ("junit", "ktap", "text"):
            rc, out, err = run(["replay", "--format", fmt, "--events", "--fail-on", "info", path2])
            expect(rc in (0, 1), f"--format {fmt}: exit {rc}: {err.strip()}")
            if fmt == "junit":
                try:
                    ET.fromstring(out)
                except ET.ParseError as e:
                    raise Failure(f"JUnit with odd bytes does not parse: {e}")
            if fmt == "ktap":
                ktap_parse(out)
            expect("\x01" not in out, f"--format {fmt} lets a control character through")
    tap.check("record format: names with invalid UTF-8 and control characters stay valid in every format", odd_bytes)

    def stacks():
        frames = ["dat_exporter_map+0x21/0x80 [dmabuf_audit_test]", "dma_buf_map_attachment+0x4c/0x120",
                  "dat_trigger_ioctl+0x1f0/0x300 [dmabuf_audit_test]",
                  "0xffffffffc0a01234"]  # a frame no symbol covers
        recs2 = [header_record("7.3.4", scopes=["vfio_pci_dma_buf_move"])]
        body = [
            event_record(1, "export", buf=B, resv=R, ino=1, size=4096, name=b"vfio_pci_core"),
            event_record(2, "attach", buf=B, attach=A, importer_ops=OPSYM, invalidate_cb=CBSYM, flags=F_DYNAMIC, name=b"iommu"),
            event_record(3, "pin", buf=B, attach=A, resv_held=2),
            event_record(4, "map", buf=B, attach=A, sgt=S, flags=F_LOCKED, resv_held=2),
            event_record(5, "scope_enter", importer_ops=0xf000, flags=F_HAS_REVOKED | F_REVOKED, fn=0),
            event_record(6, "invalidate", buf=B, resv_held=2, fn=1),
            event_record(7, "unmap", buf=B, attach=A, sgt=S, flags=F_LOCKED, resv_held=2),
            event_record(8, "fence_wait", resv=R, usage=3, ret=1),
            event_record(9, "scope_exit", importer_ops=0xf000, flags=F_HAS_REVOKED | F_REVOKED, fn=0),
            stack_record(42, frames),
            event_record(10, "map", buf=B, attach=A, sgt=S + 0x1000, flags=F_LOCKED | F_STACK, resv_held=2, stack_id=42),
        ]
        path2 = tmp("stacks.bin")
        with open(path2, "wb") as f:
            f.write(record_file(recs2 + body + [end_record(10)]))
        rc, out, err = run(["replay", "--format", "json", "--stacks", path2])
        f = [x for x in split(parse_jsonl(out, "report"))[2] if x["rule"] == "access-after-revoke"]
        expect(f, f"no access-after-revoke finding: {err.strip()}")
        expect(f[0].get("stack") == frames, f"stack {f[0].get('stack')}")
        # --addresses hashed: the bare address is hashed, symbol+offset frames stay
        rc, out, err = run(["replay", "--format", "json", "--stacks", "--addresses", "hashed", path2])
        fh = [x for x in split(parse_jsonl(out, "report"))[2] if x["rule"] == "access-after-revoke"]
        st = fh[0].get("stack") if fh else []
        expect(st[:3] == frames[:3] and len(st) == 4 and re.fullmatch(r"h:[0-9a-f]{16}", st[3]),
               f"hashed stack {st}")
        again = tmp("stacks2.bin")
        rc, out, err = run(["replay", "--format", "json", "--stacks", "--record", again, path2])
        rc, out2, err = run(["replay", "--format", "json", "--stacks", again])
        f2 = [x for x in split(parse_jsonl(out2, "report"))[2] if x["rule"] == "access-after-revoke"]
        expect(f2 and f2[0].get("stack") == frames, f"re-recorded stack {f2[:1]}")
        data = open(again, "rb").read()
        kinds = [r[1] for r in walk_records(data)]
        expect(kinds.index(REC_STACK) < max(i for i, k in enumerate(kinds) if k == REC_EVENT),
               "the STACK record does not precede its event")
    tap.check("record format: STACK records give findings their stack, and survive re-recording", stacks)


# ---- recorded fixtures: real guest runs, recorded with --record, and the
# live report `run` printed at the same time (tests/replay/fixtures/)
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def test_fixtures(tap):
    names = sorted(f[:-len(".rec")] for f in os.listdir(FIXTURES) if f.endswith(".rec"))
    tap.result("recorded guest fixtures are present", bool(names), f"none in {FIXTURES}")
    policy = os.path.join(FIXTURES, "policy")
    for n in names:
        def check(n=n):
            with open(os.path.join(FIXTURES, n + ".live.json")) as f:
                live = parse_jsonl(f.read(), n + ".live.json")
            _, replayed, _ = json_report(["--policy", policy, os.path.join(FIXTURES, n + ".rec")])
            lh, _, lf, _, ls = split(live)
            rh, _, rf, _, rs = split(replayed)
            expect(sorted(map(fkey, lf)) == sorted(map(fkey, rf)),
                   f"findings differ: live {sorted(map(fkey, lf))}, replayed {sorted(map(fkey, rf))}")
            expect(ls[0] == rs[0], f"summary differs: live {ls[0]}, replayed {rs[0]}")
            expect(lh[0]["kernel"] == rh[0]["kernel"] and lh[0]["kernel"],
                   f"kernel release not carried: {lh[0]['kernel']!r} vs {rh[0]['kernel']!r}")
            # the symbol table travels with the record: importer ops are named here,
            # on a host that never had that kernel's kallsyms
            for f in rf:
                att = f.get("attachment")
                if att and att.get("importer_ops"):
                    expect(not str(att["importer_ops"]).startswith("0x"),
                           f"importer ops not named in the replay: {att}")
            return None
        tap.check(f"fixture {n}: the guest's record replays to the live report", check)


# ---------------------------------------------------------------- the case table
# Run once per hand-written trace (traces/NAME.jsonl), each over every trace in turn.
PER_TRACE_CASES = (test_trace, test_roundtrip, test_formats)
# Run once, in this order.
SUITE_CASES = (test_policy_disable, test_exit_status, test_bad_json, test_bad_record, test_stdin,
               test_writer_format, test_fixtures, identity.test_hashed_hides_addresses,
               identity.test_hashed_messages,
               identity.test_hashed_stable_within_run, identity.test_workload_identity)


def test_every_trace_has_expectations(tap, names):
    for n in names:
        if not os.path.exists(os.path.join(TRACES, n + ".expect.json")):
            tap.result(f"{n}: has an expectation file", False, "traces/" + n + ".expect.json missing")
    fired = {x["rule"] for n in names if os.path.exists(os.path.join(TRACES, n + ".expect.json"))
             for x in load_expect(n)["findings"]}
    tap.result("every rule has a trace that fires it", fired == set(RULES),
               f"no trace fires: {sorted(set(RULES) - fired)}")


def main():
    if len(sys.argv) != 2:
        print("usage: run.py BIN", file=sys.stderr)
        return 2
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="dmabuf-audit-replay.") as d:
        harness.setup(os.path.abspath(sys.argv[1]), d)
        names = sorted(f[:-len(".jsonl")] for f in os.listdir(TRACES) if f.endswith(".jsonl"))
        test_every_trace_has_expectations(tap, names)
        for case in PER_TRACE_CASES:
            for n in names:
                case(tap, n)
        for case in SUITE_CASES:
            case(tap)
    print(f"1..{tap.n}")
    print(f"# {tap.n - tap.failed} passed, {tap.failed} failed")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
