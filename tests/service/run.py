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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "replay"))
sys.path.insert(0, HERE)

from harness import Tap, Failure, expect, parse_jsonl, split, RULES  # noqa: E402
from journal_proto import JournalSocket, SEALS_ALL  # noqa: E402
import traces  # noqa: E402

BIN = None
TMP = None
PRIORITY = {"critical": b"2", "high": b"3", "warning": b"4", "info": b"6"}


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
         "DMABUF_RULE": f["rule"].encode(), "DMABUF_SEVERITY": f["severity"].encode(),
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
        e["DMABUF_PID"] = str(f["pid"]).encode()
    return e


def check_trace_fields(path):
    objs = json_run([path])
    _, _, findings, _, _ = split(objs)
    rc, out, err, entries = journal_run(["replay", "--log", "journal", path])
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
                "DMABUF_EVENTS": b"42", "DMABUF_LOST": b"0", "DMABUF_FINDINGS": b"6",
                "DMABUF_COUNT": b"4"}
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
    """Strict parse with prometheus_client's OpenMetrics parser: {name{labels}: value}."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
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
        expect(body.endswith("\n# EOF\n"), "the metrics do not end with # EOF")
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
        }
        for k, v in want.items():
            expect(m.get(k) == v, f"{k} = {m.get(k)}, expected {v}")
        ops = [k for k in m if k.startswith(P + "events_total{")]
        expect(sum(m[k][1] for k in ops) == s["events"], f"events by op do not add up to"
               f" {s['events']}")
        expect(m[P + "process_resident_memory_bytes"][1] > 1 << 20, "RSS under 1 MiB")
        expect(m[P + "process_cpu_user_seconds_total"][0] == "counter", "CPU is not a counter")
        expect(P + "ringbuf_fill_ratio" not in m, "a ring buffer fill without a ring buffer")
        rules = {re.search(r'rule="([^"]+)"', k).group(1) for k in m
                 if k.startswith(P + "findings_total{")}
        expect(rules == set(RULES), f"findings_total lists {sorted(rules)}")
    tap.check("--metrics: exact OpenMetrics values, parsed strictly, replaced by rename", exact)

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
        got = {k: second.get(k) for k in want}
        expect(got == want, f"stored fields {got}, expected {want}")
        expect(first["DMABUF_COUNT"] == "0" and first["DMABUF_INO"] == "4101",
               f"first entry {first}")
        msg = second["MESSAGE"]
        expect(isinstance(msg, str) and
               msg.startswith("critical missing-fence-wait  at seq 26, 300.000000 s\n") and
               "\n  repeats     2 held back since the last report" in msg,
               f"stored MESSAGE {msg!r:.300}")
        expect(second["_PID"] != "1200" and second["_COMM"] == "dmabuf-audit",
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
        test_journal_exact(tap)
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
