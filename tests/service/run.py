#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The service behaviour of dmabuf-audit (docs/output.md "Service"), without
a kernel: `replay` shares the pipeline of `watch` (--log journal, repeats held
back per suppress-window, --metrics, stats records), so traces with repeated
findings give exact expected values.  The journal side is checked twice: on a
datagram socket of the test's own, parsed by the documented native protocol
(journal_proto.py), and against the real systemd-journald (journald.sh) read
back with journalctl -o json.  sd_notify is checked by test_notify.c.

    run.py BIN NOTIFY    TAP on standard output (NOTIFY: the test_notify.c driver)
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

from harness import Tap, Failure, expect, parse_jsonl, split, RULES  # noqa: E402
from journal_proto import JournalSocket, SEALS_ALL  # noqa: E402
import traces  # noqa: E402

BIN = None
TMP = None
PRIORITY = {"critical": b"2", "high": b"3", "warning": b"4", "info": b"6"}
REPO = os.path.join(HERE, "..", "..")
CATALOG = os.path.join(REPO, "packaging", "dmabuf-audit.catalog")


def doc_table(path, heading):
    """{first column: second column} of the markdown table under `heading` (`code` cells)."""
    with open(os.path.join(REPO, path)) as f:
        text = f.read()
    part = text[text.index(heading):]
    rows = re.findall(r"^\| `([a-z-]+)` \| `([0-9a-f]{32})`", part.split("\n## ")[0]
                      if part.startswith("## ") else part, re.M)
    return dict(rows)


# the contract: the MESSAGE_IDs docs/rules.md and docs/output.md list
RULE_IDS = doc_table("docs/rules.md", "## Journal MESSAGE_IDs")
NOTICE_IDS = doc_table("docs/output.md", "Notice `MESSAGE_ID`s")
SUMMARY_ID = "ff7e53287bec4c36957ac8ae740811ac"


def tmp(name):
    return os.path.join(TMP, name)


def write(name, text):
    with open(tmp(name), "w") as f:
        f.write(text)
    return tmp(name)


def run(args, env=None, timeout=120):
    e = dict(os.environ)
    for k in ("JOURNAL_STREAM", "INVOCATION_ID", "NOTIFY_SOCKET", "DMABUF_AUDIT_JOURNAL_SOCKET"):
        e.pop(k, None)
    e.update(env or {})
    p = subprocess.run([BIN] + args, capture_output=True, env=e, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def journal_run(args, env=None):
    """Run with the journal at a socket of our own: (rc, stdout, stderr, entries)."""
    path = tmp("journal.sock")
    with JournalSocket(path) as js:
        rc, out, err = run(args, dict(env or {}, DMABUF_AUDIT_JOURNAL_SOCKET=path))
    expect(not js.errors, "protocol errors: " + "; ".join(js.errors))
    return rc, out, err, js.entries


def findings_of(entries):
    return [e for e in entries if "DMABUF_RULE" in e["fields"]]


def text(entry, key):
    return entry["fields"][key].decode()


def json_run(args, want_rc=None):
    rc, out, err = run(["replay", "--format", "json"] + args)
    if want_rc is not None and rc != want_rc:
        raise Failure(f"exit status {rc}, expected {want_rc}; stderr: {err.strip()}")
    return parse_jsonl(out, "report")


def policy(text_):
    return write("policy", text_)


# ---------------------------------------------------------------- journal: fields
def expected_fields(f):
    """What docs/output.md says a finding's entry carries, from its JSON."""
    e = {"PRIORITY": PRIORITY[f["severity"]], "SYSLOG_IDENTIFIER": b"dmabuf-audit",
         "MESSAGE_ID": RULE_IDS[f["rule"]].encode(), "DMABUF_RULE": f["rule"].encode(), "DMABUF_SEVERITY": f["severity"].encode(),
         "DMABUF_SEQ": str(f["seq"]).encode(), "DMABUF_COUNT": str(f.get("repeats", 0)).encode()}
    b, a = f["buffer"], f["attachment"]
    if b["exporter"]:
        e["DMABUF_EXPORTER"] = b["exporter"].encode()
    if b["ino"]:
        e["DMABUF_INO"] = str(b["ino"]).encode()
    if a and a.get("importer_ops") is not None:
        e["DMABUF_IMPORTER_OPS"] = a["importer_ops"].encode()
    if a and a.get("dev"):
        e["DMABUF_DEVICE"] = a["dev"].encode()
    if f["comm"]:
        e["DMABUF_TASK"] = f["comm"].encode()
    if f["pid"] is not None:
        # no OBJECT_PID in a replay: the recorded pids are not this host's tasks now
        e["DMABUF_PID"] = str(f["pid"]).encode()
    return e


def check_trace_fields(path):
    objs = json_run([path])
    _, _, findings, _, _ = split(objs)
    # raw: the entries are compared with the JSON report's pointers (hashed: test_journal_hashed)
    rc, out, err, entries = journal_run(["replay", "--log", "journal", "--addresses", "raw", path])
    got = findings_of(entries)
    expect(out == "", f"a report on standard output with --log journal: {out[:300]}")
    expect(len(got) == len(findings), f"{len(got)} journal entries, {len(findings)} findings")
    for f, e in zip(findings, got):
        want = expected_fields(f)
        fields = {k: v for k, v in e["fields"].items() if k != "MESSAGE"}
        # a static importer (importer_ops null in JSON, attach seen) is "none"
        if fields.get("DMABUF_IMPORTER_OPS") == b"none" and "DMABUF_IMPORTER_OPS" not in want:
            want["DMABUF_IMPORTER_OPS"] = b"none"
        expect(fields == want, f"{f['rule']} seq {f['seq']}: fields {fields}, expected {want}")
        msg = e["fields"]["MESSAGE"].decode()
        first = f"{f['severity']:<8} {f['rule']}  at "
        expect(msg.startswith(first), f"MESSAGE starts {msg[:80]!r}, not {first!r}")
        expect(f["message"] in msg, f"MESSAGE lacks the finding's message {f['message']!r}")
        expect(("history     oldest first" in msg) == bool(f["history"]),
               f"MESSAGE and the history disagree: {msg[:400]}")
        expect("MESSAGE" in e["binary"], "a multi-line MESSAGE not sent in the binary-safe form")
    summary = [e for e in entries if e["fields"].get("DMABUF_SUMMARY") == b"1"]
    expect(len(summary) == 1 and entries[-1] is summary[0], "the summary is not the last entry")
    return None


def test_journal_fields(tap):
    paths = sorted(glob.glob(os.path.join(HERE, "..", "replay", "traces", "*.jsonl")))
    with_findings = [p for p in paths if not os.path.basename(p).startswith("ok-")]
    expect(len(with_findings) >= 10, f"only {len(with_findings)} traces with findings")
    for p in with_findings:
        name = os.path.basename(p)[:-6]
        tap.check(f"journal: {name}: every finding is one entry with the fields of its JSON",
                  lambda p=p: check_trace_fields(p))


def trace_pointers(path):
    """Every pointer string ("0x…") of a JSON Lines trace's events."""
    found = set()
    with open(path) as f:
        for line in f:
            if line.strip():
                found.update(v.lower() for v in json.loads(line).values()
                             if isinstance(v, str) and v.lower().startswith("0x"))
    return found


def check_journal_hashed(path):
    """--log journal hides addresses by default: no pointer of the trace in any field of any
    entry, unresolved importer ops as "h:" and 16 hex digits, the same findings as raw."""
    pointers = trace_pointers(path)
    rc, out, err, entries = journal_run(["replay", "--log", "journal", path])
    raw = journal_run(["replay", "--log", "journal", "--addresses", "raw", path])[3]
    expect([text(e, "DMABUF_RULE") for e in findings_of(entries)] ==
           [text(e, "DMABUF_RULE") for e in findings_of(raw)], "other findings than raw")
    for e in entries:
        for k, v in e["fields"].items():
            words = set(re.findall(r"0x[0-9a-f]+", v.decode(errors="replace").lower()))
            expect(not (words & pointers), f"{k} shows {sorted(words & pointers)}")
        ops = e["fields"].get("DMABUF_IMPORTER_OPS", b"none").decode()
        expect(not ops.startswith("0x") and (not ops.startswith("h:") or
                                             re.fullmatch(r"h:[0-9a-f]{16}", ops)),
               f"DMABUF_IMPORTER_OPS {ops}")
    return None


def test_journal_hashed(tap):
    paths = sorted(glob.glob(os.path.join(HERE, "..", "replay", "traces", "*.jsonl")))
    for p in [p for p in paths if not os.path.basename(p).startswith("ok-")]:
        name = os.path.basename(p)[:-6]
        tap.check(f"journal: {name}: no kernel address by default (hashed)",
                  lambda p=p: check_journal_hashed(p))


def test_journal_workload(tap):
    """A finding's workload in the journal: DMABUF_CGROUP_ID, DMABUF_CGROUP, DMABUF_UNIT,
    DMABUF_CONTAINER_ID, DMABUF_POD_UID, from a record (format 3) with a CGROUP record."""
    from record_writer import cgroup_record, walk_records
    uid = "0b3c5d6e-7f80-4912-a3b4-c5d6e7f80912"
    cid = "3f2a9c1d5e7b8a60112233445566778899aabbccddeeff00112233445566aabb"
    path = ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
            "cri-containerd-%s.scope" % (uid.replace("-", "_"), cid))

    def check():
        lines = [dict(json.loads(x), cgroup_id=77) for x in traces.revokes([0]).splitlines()]
        src = write("workload.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
        rec = tmp("workload.bin")
        rc, out, err = run(["replay", "--format", "json", "--record", rec, src])
        expect(rc == 1, f"recording: exit {rc}: {err}")
        data = open(rec, "rb").read()
        at = walk_records(data)[1][0]
        with open(rec, "wb") as f:
            f.write(data[:at] + cgroup_record(77, path) + data[at:])
        rc, out, err, entries = journal_run(["replay", "--log", "journal", rec])
        got = findings_of(entries)
        want = {"DMABUF_CGROUP_ID": b"77", "DMABUF_CGROUP": path.encode(),
                "DMABUF_UNIT": ("cri-containerd-%s.scope" % cid).encode(),
                "DMABUF_CONTAINER_ID": cid.encode(), "DMABUF_POD_UID": uid.encode()}
        expect(len(got) == 1, f"{len(got)} findings")
        fields = {k: got[0]["fields"].get(k) for k in want}
        expect(fields == want, f"fields {fields}")
        expect(f"workload    {path} (unit cri-containerd-{cid}.scope, container {cid}, pod {uid})"
               in text(got[0], "MESSAGE"), "the MESSAGE has no workload line")
        # without a workload, no such field
        rc, out, err, entries = journal_run(["replay", "--log", "journal", src])
        expect(not any(k.startswith(("DMABUF_CGROUP", "DMABUF_UNIT", "DMABUF_CONTAINER",
                                     "DMABUF_POD")) and k != "DMABUF_CGROUP_ID"
                       for e in findings_of(entries) for k in e["fields"]),
               "workload fields without a resolved cgroup")
    tap.check("journal: a Kubernetes container's finding carries its cgroup, unit, container"
              " and pod fields", check)


def test_journal_exact(tap):
    def check():
        path = write("repeats.jsonl", traces.revokes([0, 100, 200, 300, 400, 500]))
        pol = policy("suppress-window 300\n")
        rc, out, err, entries = journal_run(["replay", "--log", "journal", "--policy", pol, path])
        expect(rc == 1, f"exit status {rc}, expected 1 (critical findings); {err}")
        got = findings_of(entries)
        expect([text(e, "DMABUF_INO") for e in got] == ["4101", "4104"],
               f"inodes {[text(e, 'DMABUF_INO') for e in got]}, expected 4101, 4104")
        expect([text(e, "DMABUF_COUNT") for e in got] == ["0", "2"],
               f"counts {[text(e, 'DMABUF_COUNT') for e in got]}, expected 0, 2")
        want = {"PRIORITY": b"2", "SYSLOG_IDENTIFIER": b"dmabuf-audit",
                "MESSAGE_ID": b"947a239f980f4e5a845248a770028578",
                "DMABUF_RULE": b"missing-fence-wait", "DMABUF_SEVERITY": b"critical",
                "DMABUF_EXPORTER": b"vfio_pci_core", "DMABUF_INO": b"4104",
                "DMABUF_TASK": b"vfio-test", "DMABUF_PID": b"1200", "DMABUF_SEQ": b"26",
                "DMABUF_COUNT": b"2"}
        fields = {k: v for k, v in got[1]["fields"].items() if k != "MESSAGE"}
        expect(fields == want, f"fields {fields}")
        msg = text(got[1], "MESSAGE")
        expect(msg.startswith("critical missing-fence-wait  at seq 26, 300.000000 s\n"),
               f"MESSAGE {msg[:100]!r}")
        expect("\n  repeats     2 held back since the last report\n" in msg,
               f"MESSAGE does not say the repeats: {msg}")
        expect(not msg.endswith("\n"), "MESSAGE ends with a newline (an empty line in journalctl)")
        s = [e for e in entries if "DMABUF_SUMMARY" in e["fields"]][0]["fields"]
        want = {"PRIORITY": b"6", "SYSLOG_IDENTIFIER": b"dmabuf-audit", "DMABUF_SUMMARY": b"1",
                "MESSAGE_ID": SUMMARY_ID.encode(),
                "DMABUF_EVENTS": b"42", "DMABUF_LOST": b"0", "DMABUF_FINDINGS": b"6",
                "DMABUF_COUNT": b"4", "DMABUF_JOURNAL_DROPPED": b"0"}
        expect({k: v for k, v in s.items() if k != "MESSAGE"} == want, f"summary fields {s}")
        expect(s["MESSAGE"].startswith(b"Summary: 42 events (0 lost)") and
               b"4 repeats held back (suppress-window)" in s["MESSAGE"],
               f"summary MESSAGE {s['MESSAGE'][:300]!r}")
        expect(len(entries) == 3, f"{len(entries)} entries: 2 findings and the summary expected")
    tap.check("journal: exact entries of a trace with repeats (suppress-window 300)", check)

    def notices():
        path = os.path.join(HERE, "..", "replay", "traces", "ok-lost-gap.jsonl")
        rc, out, err, entries = journal_run(["replay", "--log", "journal", path])
        lost = [e for e in entries if e["fields"].get("DMABUF_NOTICE") == b"lost"]
        expect(len(lost) == 1, f"{len(lost)} lost notices in {[e['fields'] for e in entries]}")
        expect(lost[0]["fields"]["PRIORITY"] == b"4", f"lost notice {lost[0]['fields']}")
        expect(lost[0]["fields"].get("MESSAGE_ID") == NOTICE_IDS["lost"].encode(),
               f"lost notice MESSAGE_ID {lost[0]['fields'].get('MESSAGE_ID')}")
        expect(lost[0]["fields"]["MESSAGE"].startswith(b"2 events lost (seq 4 to 5)"),
               f"lost notice {lost[0]['fields']['MESSAGE']!r}")
        expect(not findings_of(entries), "a finding in a trace without one")
    tap.check("journal: a notice (events lost) is an entry with DMABUF_NOTICE and PRIORITY 4",
              notices)


def test_journal_memfd(tap):
    def check():
        path = write("long.jsonl", traces.long_history(2500))
        rc, out, err, entries = journal_run(["replay", "--log", "journal", "--history", "5000",
                                             path])
        got = findings_of(entries)
        expect(len(got) == 1, f"{len(got)} finding entries, expected 1; stderr {err}")
        e = got[0]
        expect(e["memfd"] is not None, "a 600 KiB entry did not come as a memfd")
        expect(e["memfd"]["seals"] == SEALS_ALL,
               f"memfd seals {e['memfd']['seals']:#x}, expected {SEALS_ALL:#x}")
        msg = text(e, "MESSAGE")
        lines = msg.split("\n")
        expect(len(lines) > 5000, f"MESSAGE has {len(lines)} lines, expected the 5000 of history")
        expect(e["memfd"]["size"] > 212992, f"memfd size {e['memfd']['size']}")
        expect(text(e, "DMABUF_RULE") == "missing-fence-wait", f"fields {list(e['fields'])}")
        small = [x for x in entries if x is not e]
        expect(all(x["memfd"] is None for x in small), "a small entry went as a memfd")
    tap.check("journal: an entry bigger than a datagram goes as a sealed memfd (SCM_RIGHTS)",
              check)


def test_log_modes(tap):
    path = write("two.jsonl", traces.revokes([0, 1]))

    def missing():
        rc, out, err = run(["replay", "--log", "journal", path],
                           {"DMABUF_AUDIT_JOURNAL_SOCKET": tmp("nothing.sock")})
        want = (f"dmabuf-audit: --log journal: no journal at {tmp('nothing.sock')}: No such file"
                " or directory (is systemd-journald running? use --log output)\n")
        expect(rc == 2 and err == want and out == "", f"rc {rc}, stderr {err!r}, stdout {out!r}")
    tap.check("--log journal without a journal: exit 2 and why", missing)

    def as_service(args, env=None):
        """Run with stdout a file whose device:inode JOURNAL_STREAM names, as systemd does
        for a service whose output goes to the journal."""
        out_path = tmp("stream.out")
        with open(out_path, "w+b") as f:
            st = os.fstat(f.fileno())
            e = dict(env or {})
            if e.get("JOURNAL_STREAM") == "ours":
                e["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
            sock = tmp("journal.sock")
            with JournalSocket(sock) as js:
                full = dict(os.environ)
                for k in ("JOURNAL_STREAM", "INVOCATION_ID", "NOTIFY_SOCKET"):
                    full.pop(k, None)
                full.update(e, DMABUF_AUDIT_JOURNAL_SOCKET=sock)
                p = subprocess.run([BIN] + args, stdout=f, stderr=subprocess.PIPE, env=full,
                                   timeout=120)
            f.seek(0)
            out = f.read().decode(errors="replace")
        expect(not js.errors, "protocol errors: " + "; ".join(js.errors))
        return p.returncode, out, js.entries

    def auto_service():
        rc, out, entries = as_service(["replay", path], {"JOURNAL_STREAM": "ours"})
        expect(len(findings_of(entries)) == 2 and out == "",
               f"--log auto, stdout the journal stream: {len(entries)} entries, "
               f"stdout {out[:200]!r}")
    tap.check("--log auto: the journal when standard output is the journal stream "
              "(JOURNAL_STREAM)", auto_service)

    def auto_inherited():
        # a CI job under a runner service inherits both variables, its output is a pipe
        rc, out, err, entries = journal_run(["replay", path],
                                            {"INVOCATION_ID": "0123", "JOURNAL_STREAM": "8:123"})
        expect(not entries and "missing-fence-wait" in out,
               f"--log auto with inherited variables: {len(entries)} entries")
        rc, out, entries = as_service(["replay", path],
                                      {"JOURNAL_STREAM": "8:123", "INVOCATION_ID": "0123"})
        expect(not entries and "missing-fence-wait" in out,
               f"--log auto, JOURNAL_STREAM naming another file: {len(entries)} entries")
    tap.check("--log auto: JOURNAL_STREAM or INVOCATION_ID inherited by a child whose output "
              "is not the journal: the report", auto_inherited)

    def auto_output():
        rc, out, err, entries = journal_run(["replay", path])
        expect(not entries and "missing-fence-wait" in out, "--log auto in a shell")
        rc, out, entries = as_service(["replay", "-o", tmp("r.txt"), path],
                                      {"JOURNAL_STREAM": "ours"})
        expect(not entries, "--log auto with -o sent to the journal")
        with open(tmp("r.txt")) as f:
            expect("missing-fence-wait" in f.read(), "-o FILE has no report")
        rc, out, entries = as_service(["replay", "--log", "output", path],
                                      {"JOURNAL_STREAM": "ours"})
        expect(not entries and "missing-fence-wait" in out, "--log output under systemd")
    tap.check("--log auto in a shell, or with -o, and --log output: the report, no journal",
              auto_output)

    def both():
        rc, out, err, entries = journal_run(["replay", "--log", "journal", "--format", "json",
                                             "-o", tmp("r.json"), path])
        with open(tmp("r.json")) as f:
            _, _, findings, _, _ = split(parse_jsonl(f.read(), "r.json"))
        expect(len(findings) == 2 and len(findings_of(entries)) == 2,
               f"{len(findings)} findings in -o, {len(findings_of(entries))} in the journal")
    tap.check("--log journal with -o FILE: both get the findings", both)


# ---------------------------------------------------------------- repeats
def check_window(times, keys, window, policy_text, extra=()):
    """Findings reported as the model says, with their repeats; counters count all."""
    exporters = sorted({k[0] for k in keys}, key=[k[0] for k in keys].index)
    devices = sorted({k[1] for k in keys}, key=[k[1] for k in keys].index)
    path = write("w.jsonl", traces.revokes(times, exporters, devices))
    args = list(extra) + ([] if policy_text is None else ["--policy", policy(policy_text)])
    objs = json_run(args + [path], want_rc=1)
    _, _, findings, _, summary = split(objs)
    model_keys = [(exporters[i % len(exporters)], devices[i % len(devices)])
                  for i in range(len(times))]
    want = traces.window_model(list(zip(model_keys, times)), window)
    got = [(f["buffer"]["ino"] - 4101, f.get("repeats", 0)) for f in findings]
    expect(got == want, f"reported (index, repeats) {got}, expected {want}")
    held = len(times) - len(want)
    s = summary[0]
    expect(s["by_rule"]["missing-fence-wait"] == len(times) and
           s["findings"]["critical"] == len(times),
           f"the counters count {s['by_rule']['missing-fence-wait']}, not all {len(times)}")
    expect(s.get("repeats_held", 0) == held, f"summary repeats_held {s.get('repeats_held')}, "
           f"expected {held}")
    expect(all("repeats" not in f or f["repeats"] > 0 for f in findings), "a repeats of 0")
    return None


def test_repeats(tap):
    times = [0, 100, 200, 300, 400, 500, 601, 700, 1000]
    one = [("vfio_pci_core", "0000:03:00.0")]
    tap.check("suppress-window 300: one report per window, the next carries the repeats",
              lambda: check_window(times, one, 300, "suppress-window 300\n"))
    tap.check("suppress-window 0: every finding reported",
              lambda: check_window(times, one, 0, "suppress-window 0\n"))
    tap.check("replay without suppress-window reports every finding",
              lambda: check_window(times, one, 0, None))
    keys = [("vfio_pci_core", "0000:03:00.0"), ("ib_uverbs", "0000:03:00.0"),
            ("vfio_pci_core", "0000:04:00.0")]
    tap.check("suppress-window: exporter and device make keys of their own",
              lambda: check_window(list(range(0, 1200, 50)), keys, 250, "suppress-window 250\n"))

    def text_report():
        path = write("t.jsonl", traces.revokes([0, 100, 200, 300]))
        rc, out, err = run(["replay", "--policy", policy("suppress-window 250\n"), path])
        expect(out.count("critical missing-fence-wait") == 2, f"report {out}")
        expect("  repeats     2 held back since the last report\n" in out, f"report {out}")
        expect("4 findings: 4 critical, 0 high, 0 warning, 0 info; 2 repeats held back"
               " (suppress-window)\n" in out, f"summary in {out[-600:]}")
    tap.check("text report: the repeats line and the summary's count", text_report)

    bad = [("suppress-window", "missing argument; usage: suppress-window SECONDS"),
           ("suppress-window -1", "suppress-window needs a whole number of seconds from 0 to"
            " 31536000, got '-1'"),
           ("suppress-window 31536001", "suppress-window needs a whole number of seconds from 0"
            " to 31536000, got '31536001'"),
           ("suppress-window 1.5", "suppress-window needs a whole number of seconds from 0 to"
            " 31536000, got '1.5'"),
           ("suppress-window 5 6", "unexpected extra argument; usage: suppress-window SECONDS")]
    for line, msg in bad:
        def check(line=line, msg=msg):
            pol = policy(f"\n{line}\n")
            rc, out, err = run(["replay", "--policy", pol, os.path.join(HERE, "..", "replay",
                                                                      "traces",
                                                                      "ok-partial.jsonl")])
            want = f"dmabuf-audit: {pol}:2: {msg}\n"
            expect(rc == 2 and err == want, f"rc {rc}, stderr {err!r}, expected {want!r}")
        tap.check(f"policy '{line}' refused with its line and why", check)


# ---------------------------------------------------------------- metrics and stats
def parse_openmetrics(body):
    """Parse with prometheus_client's parser of the Prometheus text format 0.0.4 (the one
    node_exporter's textfile collector reads; tests/metrics checks it with the real
    promtool and node_exporter): {name{labels}: (type, value)}."""
    from prometheus_client.parser import text_string_to_metric_families
    samples = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            samples[f"{s.name}{{{labels}}}" if labels else s.name] = (fam.type, s.value)
    return samples


def test_metrics(tap):
    times = [0, 100, 200, 300, 400, 500]

    def exact():
        path = write("m.jsonl", traces.revokes(times))
        prom = tmp("dmabuf-audit.prom")
        with open(prom, "w") as f:
            f.write("old\n")
        ino = os.stat(prom).st_ino
        objs = json_run(["--policy", policy("suppress-window 300\n"), "--metrics", prom,
                         "--max-buffers", "64", path], want_rc=1)
        s = split(objs)[4][0]
        with open(prom) as f:
            body = f.read()
        expect(not re.search(r"^# (EOF|UNIT)", body, re.M), "OpenMetrics-only lines in the"
               " text format 0.0.4")
        expect(os.stat(prom).st_ino != ino, "the metrics file was rewritten in place, not renamed")
        expect(not [n for n in os.listdir(TMP) if n.startswith(".dmabuf-audit.prom.")],
               "a temporary file (.dmabuf-audit.prom.XXXXXX) was left behind")
        m = parse_openmetrics(body)
        P = "dmabuf_audit_"
        want = {
            P + 'events_total{op="export"}': ("counter", 6),
            P + 'events_total{op="map"}': ("counter", 0),
            P + 'events_total{op="invalidate"}': ("counter", 6),
            P + "lost_events_total": ("counter", 0),
            P + 'findings_total{rule="missing-fence-wait",severity="critical"}': ("counter", 6),
            P + 'findings_total{rule="pin-leak",severity="high"}': ("counter", 0),
            P + 'findings_suppressed_total{rule="missing-fence-wait"}': ("counter", 4),
            P + 'findings_suppressed_total{rule="pin-leak"}': ("counter", 0),
            P + 'partial_entities{reason="late"}': ("gauge", 0),
            P + 'table_entries{table="buffers"}': ("gauge", 0),
            P + 'table_capacity{table="buffers"}': ("gauge", 64),
            P + "hooks_attached": ("gauge", 0),
            P + "hooks_wanted": ("gauge", 0),
            P + "seeded_buffers_total": ("counter", 0),
            P + "journal_entries_dropped_total": ("counter", 0),
            P + 'build_info{kernel="",version="0.1.0"}': ("gauge", 1),
            P + "up": ("gauge", 0),
            P + "rules": ("gauge", len(RULES)),
        }
        for k, v in want.items():
            expect(m.get(k) == v, f"{k} = {m.get(k)}, expected {v}")
        ops = [k for k in m if k.startswith(P + "events_total{")]
        expect(sum(m[k][1] for k in ops) == s["events"], f"events by op do not add up to"
               f" {s['events']}")
        expect(m[P + "process_resident_memory_bytes"][1] > 1 << 20, "RSS under 1 MiB")
        expect(m[P + "process_cpu_user_seconds_total"][0] == "counter", "CPU is not a counter")
        expect(P + "ringbuf_fill_ratio" not in m, "a ring buffer fill without a ring buffer")
        expect(P + "rules_enforceable" not in m, "enforceable rules without hooks in the trace")
        age = time.time() - m[P + "last_update_timestamp_seconds"][1]
        expect(0 <= age < 60, f"last_update_timestamp_seconds {age:.1f} s old")
        rules = {re.search(r'rule="([^"]+)"', k).group(1) for k in m
                 if k.startswith(P + "findings_total{")}
        expect(rules == set(RULES), f"findings_total lists {sorted(rules)}")
    tap.check("--metrics: exact values in the text format 0.0.4, replaced by rename", exact)

    def lost():
        path = os.path.join(HERE, "..", "replay", "traces", "ok-lost-gap.jsonl")
        objs = json_run(["--metrics", tmp("l.prom"), path], want_rc=0)
        s = split(objs)[4][0]
        with open(tmp("l.prom")) as f:
            m = parse_openmetrics(f.read())
        expect(s["lost"] == 2 and m["dmabuf_audit_lost_events_total"][1] == 2,
               f"lost: summary {s['lost']}, metrics {m['dmabuf_audit_lost_events_total']}")
        for r in ("late", "lost", "evicted", "seeded"):
            k = f'dmabuf_audit_partial_entities{{reason="{r}"}}'
            expect(m[k][1] == s["partial_reasons"][r], f"{k} {m[k]}, summary {s['partial_reasons']}")
    tap.check("--metrics: losses and partial entities as the summary counts them", lost)

    def seeded():
        path = os.path.join(HERE, "..", "replay", "traces", "seeded-pin-leak.jsonl")
        objs = json_run(["--metrics", tmp("s.prom"), path], want_rc=None)
        s = split(objs)[4][0]
        with open(tmp("s.prom")) as f:
            m = parse_openmetrics(f.read())
        with open(path) as f:
            seeds = sum(1 for line in f if '"seed_buffer"' in line)
        got = m["dmabuf_audit_seeded_buffers_total"][1]
        expect(seeds > 0 and got == seeds,
               f"seeded_buffers_total {got}, the trace seeds {seeds} buffers")
        k = 'dmabuf_audit_partial_entities{reason="seeded"}'
        expect(m[k][1] == s["partial_reasons"]["seeded"] > 0,
               f"{k} {m[k]}, summary {s['partial_reasons']}")
    tap.check("--metrics: seeded buffers and seeded entities as the summary counts them", seeded)

    def unwritable():
        path = write("u.jsonl", traces.revokes([0]))
        prom = tmp("no-such-dir/m.prom")
        rc, out, err = run(["replay", "--metrics", prom, path])
        want = (f"dmabuf-audit: cannot write {prom}: no new file in its directory: No such file"
                f" or directory\ndmabuf-audit: the metrics file {prom} is not up to date\n")
        expect(rc == 2 and err == want, f"rc {rc}, stderr {err!r}")
        expect("missing-fence-wait" in out, "no report when the metrics failed")
    tap.check("--metrics into a missing folder: the report, then exit 2 and why", unwritable)

    def stats():
        path = write("s.jsonl", traces.revokes(times))
        objs = json_run(["--stats-interval", "60", "--policy", policy("suppress-window 300\n"),
                         path], want_rc=1)
        types = [o["type"] for o in objs]
        expect(types.count("stats") == 1 and types[-2:] == ["stats", "summary"],
               f"record types {types}")
        st, s = objs[-2], objs[-1]
        expect(st["events"] == s["events"] == 42 and st["lost"] == 0, f"stats {st}")
        expect(st["findings"] == {"missing-fence-wait": {"critical": 6}}, f"stats {st}")
        expect(st["repeats_held"] == 4 and st["repeats_by_rule"] == {"missing-fence-wait": 4},
               f"stats {st}")
        expect(st["events_by_op"]["export"] == 6 and sum(st["events_by_op"].values()) == 42,
               f"stats {st['events_by_op']}")
        expect(st["tables"]["buffers"]["capacity"] == 65536 and st["ringbuf_fill_ratio"] is None,
               f"stats {st}")
        objs = json_run([path], want_rc=1)
        expect("stats" not in [o["type"] for o in objs], "a stats record without --stats-interval")
        objs = json_run(["--stats-interval", "0", path], want_rc=1)
        expect("stats" not in [o["type"] for o in objs], "a stats record with --stats-interval 0")
    tap.check("--stats-interval: one stats record before the summary, with the same figures",
              stats)

    def text_no_stats():
        path = write("s.jsonl", traces.revokes([0]))
        rc, out, err = run(["replay", "--stats-interval", "60", path])
        expect(rc == 1 and '"stats"' not in out and "Summary:" in out, f"text report {out}")

    tap.check("--stats-interval with --format text: no stats record (JSON only)", text_no_stats)

    def metrics_over_input():
        path = write("in.jsonl", traces.revokes([0]))
        rc, out, err = run(["replay", "--metrics", path, path])
        want = (f"dmabuf-audit replay: {path} is the input: refusing to overwrite it with"
                " --metrics\n")
        expect(rc == 2 and err == want, f"rc {rc}, stderr {err!r}")
        with open(path) as f:
            expect(f.read() == traces.revokes([0]), "the input was changed")
    tap.check("replay --metrics naming its own input: refused, the input kept",
              metrics_over_input)

    bad = [(["--metrics-interval", "0"], "invalid value '0' for --metrics-interval: expected a"
            " positive number of seconds, at most 86400"),
           (["--stats-interval", "-1"], "invalid value '-1' for --stats-interval: expected a"
            " number of seconds from 0 (off) to 86400"),
           (["--log", "syslog"], "invalid value 'syslog' for --log: expected auto, journal or"
            " output")]
    for args, msg in bad:
        def check(args=args, msg=msg):
            rc, out, err = run(["replay"] + args + ["x.jsonl"])
            expect(rc == 2 and err == f"dmabuf-audit: {msg}\n", f"rc {rc}, stderr {err!r}")
        tap.check(f"{' '.join(args)} refused", check)


# ---------------------------------------------------------------- MESSAGE_IDs, catalog
def test_message_ids(tap):
    def documented():
        expect(sorted(RULE_IDS) == sorted(RULES),
               f"docs/rules.md lists IDs for {sorted(RULE_IDS)}, the rules are {sorted(RULES)}")
        expect(sorted(NOTICE_IDS) == ["evicted", "hook", "input", "lost", "partial"],
               f"docs/output.md lists notice IDs for {sorted(NOTICE_IDS)}")
        every = list(RULE_IDS.values()) + list(NOTICE_IDS.values()) + [SUMMARY_ID]
        expect(len(set(every)) == len(every), "an ID is used twice")
        with open(CATALOG) as f:
            cat = re.findall(r"^-- ([0-9a-f]{32})$", f.read(), re.M)
        expect(sorted(cat) == sorted(every),
               f"the catalog has {sorted(set(cat) ^ set(every))} too many or missing")
    tap.check("MESSAGE_IDs: one per rule, notice kind and the summary, all in the catalog",
              documented)

    def sent():
        # every trace's findings carry their rule's ID (checked per field above); here the
        # IDs the binary sends for each rule it reports are the documented ones, none other
        seen = {}
        for p in glob.glob(os.path.join(HERE, "..", "replay", "traces", "*.jsonl")):
            _, _, _, entries = journal_run(["replay", "--log", "journal", p])
            for e in findings_of(entries):
                seen.setdefault(text(e, "DMABUF_RULE"), set()).add(text(e, "MESSAGE_ID"))
        bad = {r: ids for r, ids in seen.items() if ids != {RULE_IDS[r]}}
        expect(len(seen) >= 12 and not bad, f"{len(seen)} rules seen; wrong IDs: {bad}")
    tap.check("MESSAGE_IDs: the binary sends each rule's documented ID", sent)

    def catalog():
        # the real parser: journalctl builds the catalog database from the file and prints it
        if not shutil.which("journalctl"):
            raise Failure("no journalctl (the systemd package; make deps)")
        root = tmp("catalog-root")
        os.makedirs(os.path.join(root, "usr/lib/systemd/catalog"), exist_ok=True)
        shutil.copy(CATALOG, os.path.join(root, "usr/lib/systemd/catalog"))
        p = subprocess.run(["journalctl", f"--root={root}", "--update-catalog"],
                           capture_output=True, timeout=60)
        expect(p.returncode == 0 and not p.stderr, f"--update-catalog: {p.returncode} "
               f"{p.stderr.decode(errors='replace')}")
        p = subprocess.run(["journalctl", f"--root={root}", "--list-catalog"],
                           capture_output=True, timeout=60)
        listed = dict(line.split(" ", 1) for line in p.stdout.decode().splitlines())
        expect(sorted(listed) == sorted(list(RULE_IDS.values()) + list(NOTICE_IDS.values()) +
                                        [SUMMARY_ID]), f"journalctl --list-catalog: {listed}")
        mfw = listed.get(RULE_IDS["missing-fence-wait"], "")
        expect(mfw == "dmabuf-audit: missing-fence-wait: a dma-buf revoke had no fence wait",
               f"missing-fence-wait listed as {mfw!r}")
    tap.check("catalog: journalctl --update-catalog takes it, --list-catalog lists every ID",
              catalog)


# ---------------------------------------------------------------- a journal that does not read
def test_journal_dropped(tap):
    import socket

    def check():
        # a datagram socket nobody reads: its queue fills, every later entry waits 100 ms and
        # is dropped; the count at exit is every entry that did not arrive
        path = tmp("stalled.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        try:
            trace = write("dropped.jsonl", traces.revokes(list(range(40))))
            rc, out, err = run(["replay", "--log", "journal", "--policy",
                                policy("suppress-window 0\n"), trace],
                               env={"DMABUF_AUDIT_JOURNAL_SOCKET": path})
            s.setblocking(False)
            got = 0
            while True:
                try:
                    s.recv(1 << 20)
                    got += 1
                except BlockingIOError:
                    break
        finally:
            s.close()
        sent = 41  # 40 findings and the summary
        expect(0 < got < sent, f"{got} entries queued of {sent}: the queue never filled")
        want = f"dmabuf-audit: {sent - got} journal entries could not be sent\n"
        expect(rc == 1 and err.endswith(want), f"exit {rc}, stderr {err!r}, expected {want!r}")
    tap.check("journal: entries a stalled journal cannot take are dropped after 100 ms and "
              "counted", check)


# ---------------------------------------------------------------- wall-clock time
def test_wallclock(tap):
    import datetime

    boot = "5c0b4a9e-4c7e-4f4e-9d3b-2a1f0e6d7c8b"
    offset = 1796650280123456789  # 2026-12-07T13:31:20.123456789Z at ts_ns 0
    header = json.dumps({"type": "header", "host": "node-17", "boot_id": boot,
                         "realtime_offset_ns": offset, "hooks": [], "scopes": []})

    def rfc3339(ns):
        t = datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % (ns % 10**9)

    def check(objs, what):
        h = objs[0]
        expect(h.get("host") == "node-17" and h.get("boot_id") == boot and
               h.get("realtime_offset_ns") == offset, f"{what}: header {h}")
        fs = [o for o in objs if o["type"] == "finding"]
        evs = [o for o in objs if o["type"] == "event"]
        expect(len(fs) == 2 and evs, f"{what}: {len(fs)} findings, {len(evs)} events")
        for o in fs + evs:
            expect(o.get("time") == rfc3339(o["ts_ns"] + offset),
                   f"{what}: {o['type']} seq {o['seq']} ts_ns {o['ts_ns']}: time {o.get('time')}")
        expect(all("time" not in h for f in fs for h in f["history"]),
               f"{what}: a history entry with time")

    def jsonl():
        path = write("wall.jsonl", header + "\n" + traces.revokes([0, 1.5]))
        check(json_run(["--events", path], want_rc=1), "JSON Lines")
        # what --events wrote is input again: time is accepted and recomputed
        again = write("wall2.jsonl", "".join(json.dumps(o) + "\n" for o in
                                            json_run(["--events", path], want_rc=1)))
        check(json_run(["--events", again], want_rc=1), "its own output replayed")
    tap.check("wall clock: header host, boot_id, offset; time = ts_ns + offset (RFC 3339, ns)",
              jsonl)

    def record():
        path = write("wall3.jsonl", header + "\n" + traces.revokes([0, 1.5]))
        rec = tmp("wall.rec")
        rc, out, err = run(["replay", "--record", rec, "--format", "json", path])
        expect(rc == 1, f"--record: exit {rc}: {err}")
        check(json_run(["--events", rec], want_rc=1), "binary record (version 3)")
        old = os.path.join(HERE, "..", "replay", "fixtures", "7.3-missing-fence-wait.rec")
        objs = json_run(["--events", old], want_rc=1)
        expect(not any(k in objs[0] for k in ("host", "boot_id", "realtime_offset_ns")) and
               not any("time" in o for o in objs), "a version 2 record got wall-clock fields")
    tap.check("wall clock: a binary record keeps host, boot ID and offset; a version 2 record "
              "is read without them", record)

    def bad():
        path = write("wall4.jsonl", header.replace(str(offset), '"soon"') + "\n" +
                     traces.revokes([0]))
        rc, out, err = run(["replay", path])
        expect(rc == 2 and "'realtime_offset_ns' must be an integer" in err,
               f"exit {rc}: {err.strip()}")
    tap.check("wall clock: a header offset that is not an integer: exit 2 and why", bad)


# ---------------------------------------------------------------- the real journald
def test_real_journald(tap):
    """systemd-journald (the systemd package) in a mount namespace of its own."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("journalctl"):
        tap.result("real journald: needs root, unshare and the systemd package", False,
                   "run as root with the systemd package installed (make deps)")
        return
    trace = write("rj.jsonl", traces.revokes([0, 100, 200, 300, 400, 500]))
    big = write("rj-long.jsonl", traces.long_history(2500))
    pol = policy("suppress-window 300\n")
    out = tmp("journal.json")
    script = (f"{BIN} replay --log journal --policy {pol} {trace}; "
              f"{BIN} replay --log journal --history 5000 {big}; exit 0")
    p = subprocess.run(["unshare", "-m", os.path.join(HERE, "journald.sh"), out, "sh", "-c",
                        script], capture_output=True, timeout=120)
    err = p.stderr.decode(errors="replace")
    if p.returncode == 3 or not os.path.exists(out):
        tap.result("real journald: systemd-journald runs in a private mount namespace", False,
                   f"journald.sh exited {p.returncode}: {err}")
        return
    with open(out) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    ours = [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "dmabuf-audit"]

    def stored():
        rules = [e for e in ours if e.get("DMABUF_RULE") == "missing-fence-wait"]
        expect(len(rules) == 3, f"{len(rules)} entries with DMABUF_RULE=missing-fence-wait, "
               f"expected 3 (2 of the repeats trace, 1 long); stderr {err}")
        first, second = rules[0], rules[1]
        want = {"PRIORITY": "2", "DMABUF_SEVERITY": "critical", "DMABUF_EXPORTER": "vfio_pci_core",
                "DMABUF_INO": "4104", "DMABUF_TASK": "vfio-test", "DMABUF_PID": "1200",
                "DMABUF_COUNT": "2", "DMABUF_IMPORTER_OPS": None, "DMABUF_DEVICE": None}
        want["MESSAGE_ID"] = RULE_IDS["missing-fence-wait"]
        want["OBJECT_PID"] = None  # a replay: the pids are not this host's
        got = {k: second.get(k) for k in want}
        expect(got == want, f"stored fields {got}, expected {want}")
        expect(first["DMABUF_COUNT"] == "0" and first["DMABUF_INO"] == "4101",
               f"first entry {first}")
        msg = second["MESSAGE"]
        expect(isinstance(msg, str) and
               msg.startswith("critical missing-fence-wait  at seq 26, 300.000000 s\n") and
               "\n  repeats     2 held back since the last report" in msg,
               f"stored MESSAGE {msg!r:.300}")
        # _PID comes with the datagram (SCM_CREDENTIALS); _COMM journald reads from /proc
        # afterwards, and a replay that has already exited (a loaded machine) has none
        expect(second.get("_PID") not in (None, "1200") and
               second.get("_COMM", "dmabuf-audit") == "dmabuf-audit",
               f"journald's own fields: _PID {second.get('_PID')}, _COMM {second.get('_COMM')}")
    tap.check("real journald: findings stored with DMABUF_* fields, PRIORITY and the"
              " multi-line MESSAGE", stored)

    def memfd():
        rules = [e for e in ours if e.get("DMABUF_RULE") == "missing-fence-wait"]
        expect(len(rules) == 3, f"{len(rules)} entries")
        msg = rules[2]["MESSAGE"]
        lines = msg.split("\n") if isinstance(msg, str) else []
        expect(len(lines) > 5000 and rules[2]["DMABUF_SEQ"] == "5005",
               f"the long entry has {len(lines)} lines, seq {rules[2].get('DMABUF_SEQ')}")
    tap.check("real journald: an entry sent as a sealed memfd is stored whole", memfd)

    def summary():
        s = [e for e in ours if e.get("DMABUF_SUMMARY") == "1"]
        expect(len(s) == 2 and s[0]["DMABUF_FINDINGS"] == "6" and s[0]["DMABUF_COUNT"] == "4"
               and s[0]["PRIORITY"] == "6", f"summary entries {s}")
    tap.check("real journald: the summary entry", summary)

    def match():
        with open(out + ".rule") as f:
            listed = [json.loads(line) for line in f if line.strip()]
        want = [e["__CURSOR"] for e in ours if e.get("DMABUF_RULE") == "missing-fence-wait"]
        expect([e["__CURSOR"] for e in listed] == want and len(want) == 3,
               f"journalctl DMABUF_RULE=missing-fence-wait listed {len(listed)} entries, "
               f"expected the {len(want)} findings")
    tap.check("real journald: journalctl DMABUF_RULE=missing-fence-wait lists exactly the"
              " findings of the rule", match)


# ---------------------------------------------------------------- sd_notify
def test_notify(tap, notify_bin):
    import socket

    def receive(addr, states, abstract=False):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind("\0" + addr[1:] if abstract else addr)
        s.settimeout(2)
        try:
            p = subprocess.run([notify_bin] + states, capture_output=True, timeout=30,
                               env=dict(os.environ, NOTIFY_SOCKET=addr))
            got = [s.recv(4096) for _ in states]
        finally:
            s.close()
        return p.stdout.decode().split(), got

    def path_socket():
        addr = tmp("notify.sock")
        rcs, got = receive(addr, ["READY=1\nSTATUS=events 0, lost 0, findings 0", "WATCHDOG=1",
                                  "STOPPING=1"])
        expect(rcs == ["0", "0", "0"], f"returns {rcs}")
        expect(got == [b"READY=1\nSTATUS=events 0, lost 0, findings 0", b"WATCHDOG=1",
                       b"STOPPING=1"], f"received {got}")
    tap.check("sd_notify: READY=1/STATUS=, WATCHDOG=1, STOPPING=1 to a socket path", path_socket)

    def abstract():
        name = f"@dmabuf-audit-test-{os.getpid()}"
        rcs, got = receive(name, ["READY=1"], abstract=True)
        expect(rcs == ["0"] and got == [b"READY=1"], f"returns {rcs}, received {got}")
    tap.check("sd_notify: an abstract socket (NOTIFY_SOCKET=@name)", abstract)

    def absent():
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        p = subprocess.run([notify_bin, "READY=1"], capture_output=True, env=env, timeout=30)
        expect(p.stdout == b"1\n", f"without NOTIFY_SOCKET: {p.stdout!r}, expected 1 (nothing)")
        p = subprocess.run([notify_bin, "READY=1"], capture_output=True, timeout=30,
                           env=dict(env, NOTIFY_SOCKET="relative/path"))
        expect(p.stdout == b"-22\n", f"a relative NOTIFY_SOCKET: {p.stdout!r}, expected -EINVAL")
        p = subprocess.run([notify_bin, "READY=1"], capture_output=True, timeout=30,
                           env=dict(env, NOTIFY_SOCKET=tmp("nobody.sock")))
        expect(p.stdout == b"-2\n", f"a socket nobody listens on: {p.stdout!r}, expected -ENOENT")
    tap.check("sd_notify: no NOTIFY_SOCKET is not an error; a bad one says why", absent)

    def watchdog():
        def usec(**env):
            e = {k: v for k, v in os.environ.items() if not k.startswith("WATCHDOG_")}
            e.update(env)
            p = subprocess.run([notify_bin, "--watchdog"], capture_output=True, env=e, timeout=30)
            return p.stdout.decode().strip()
        expect(usec() == "0", "a watchdog without WATCHDOG_USEC")
        expect(usec(WATCHDOG_USEC="30000000") == "30000000", "WATCHDOG_USEC=30000000")
        expect(usec(WATCHDOG_USEC="30000000", WATCHDOG_PID="1") == "0",
               "WATCHDOG_PID of another process")
        expect(usec(WATCHDOG_USEC="3x") == "0", "a malformed WATCHDOG_USEC")
    tap.check("sd_notify: the watchdog interval from WATCHDOG_USEC, for this process only",
              watchdog)


def main():
    global BIN, TMP
    BIN = os.path.abspath(sys.argv[1])
    notify_bin = os.path.abspath(sys.argv[2])
    TMP = tempfile.mkdtemp(prefix="dmabuf-audit-service.")
    tap = Tap()
    try:
        test_journal_fields(tap)
        test_journal_hashed(tap)
        test_journal_workload(tap)
        test_journal_exact(tap)
        test_message_ids(tap)
        test_wallclock(tap)
        test_journal_dropped(tap)
        test_journal_memfd(tap)
        test_log_modes(tap)
        test_repeats(tap)
        test_metrics(tap)
        test_notify(tap, notify_bin)
        test_real_journald(tap)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"1..{tap.n}")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
