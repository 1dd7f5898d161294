#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge the guest suite's results on the host (python3 stdlib only).

usage: compare.py --bin BIN --expect DIR SERIES:OUTDIR [SERIES:OUTDIR ...]

OUTDIR is what tests/vm/vmtest.sh left for one kernel: results.stream (the
guest's second serial port), console.log, boot.rc, build.failed (when the
initramfs could not be built), times.txt.  The stream is decoded into
OUTDIR/results/, then every expectation in DIR (tests/vm/expect/*.json) is
compared with what the guest saw, using the JSON reports dmabuf-audit wrote
(parsed with json, never grepped).  Prints TAP ("ok N - ...", "not ok N -
...", "# ..." diagnostics), then a table scenario x kernel -> expected /
seen, and the time each kernel took.  Exit 1 when any test failed.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import live_checks  # tests/vm/live_checks.py: bench smoke and loss
import selftest_checks  # tests/vm/selftest_checks.py: events, nested KTAP
import storm_judge  # tests/lib/storm_judge.py: the revoke storm
# tests/lib/guest_results.py: the results stream, TAP, the kernel log's trouble
from guest_results import KERNEL_TROUBLE, Tap, console_tail, decode_stream, kernel_trouble, read

SEV_EXIT = {"critical": 1, "high": 1, "warning": 0, "info": 0}


def read_meta(path):
    meta = {}
    for line in (read(path, "") or "").splitlines():
        k, _, v = line.partition(" ")
        meta[k] = v.strip()
    return meta


def parse_jsonl(text):
    """Every line must be a JSON object; returns (objects, error)."""
    objs = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            return objs, "report line %d is not JSON: %s" % (i, e)
        if not isinstance(obj, dict) or "type" not in obj:
            return objs, "report line %d has no type" % i
        objs.append(obj)
    if not objs:
        return objs, "empty report"
    if objs[0]["type"] != "header":
        return objs, "first report line is not the header"
    if objs[-1]["type"] != "summary":
        return objs, "last report line is not the summary"
    return objs, None


def summarize(findings):
    counts = {}
    for f in findings:
        key = (f.get("rule"), f.get("severity"))
        counts[key] = counts.get(key, 0) + 1
    return counts


def fmt_counts(counts):
    if not counts:
        return "none"
    return ", ".join("%s:%s x%d" % (r, s, n) for (r, s), n in sorted(counts.items()))


def expected_counts(exp):
    return {(f["rule"], f["severity"]): f["count"] for f in exp.get("findings", [])}


def check_findings(exp, findings, diags):
    """Exact rule/severity/count, and whose buffer and attachment."""
    ok = True
    want, seen = expected_counts(exp), summarize(findings)
    if want != seen:
        ok = False
        diags.append("expected findings: %s" % fmt_counts(want))
        diags.append("seen findings:     %s" % fmt_counts(seen))
        for f in findings:
            diags.append("  %s %s: %s" % (f.get("severity"), f.get("rule"), f.get("message")))
    for spec in exp.get("findings", []):
        for f in findings:
            if f.get("rule") != spec["rule"]:
                continue
            buf = f.get("buffer") or {}
            att = f.get("attachment") or {}
            if "exporter" in spec and buf.get("exporter") != spec["exporter"]:
                ok = False
                diags.append("%s: buffer exporter %r, expected %r" %
                             (spec["rule"], buf.get("exporter"), spec["exporter"]))
            if "device" in spec and att.get("dev") != spec["device"]:
                ok = False
                diags.append("%s: attachment device %r, expected %r" %
                             (spec["rule"], att.get("dev"), spec["device"]))
            if "seeded" in spec and bool(buf.get("seeded")) != spec["seeded"]:
                ok = False
                diags.append("%s: buffer seeded %r, expected %r" %
                             (spec["rule"], buf.get("seeded"), spec["seeded"]))
            if "importer_ops" in spec and att.get("importer_ops") != spec["importer_ops"]:
                ok = False
                diags.append("%s: importer ops %r, expected %r" %
                             (spec["rule"], att.get("importer_ops"), spec["importer_ops"]))
    return ok


def common_checks(res, name, diags, want_status=True):
    """The case ran, did what it meant to, the kernel stayed healthy."""
    meta = read_meta(os.path.join(res, name + ".meta"))
    if not meta:
        diags.append("no result: the case did not run or the guest stopped before it ended")
        return None
    ok = True
    if want_status:
        status = (read(os.path.join(res, name + ".status"), "") or "").strip()
        if not status.startswith("ok"):
            ok = False
            diags.append("the trigger failed: %s" % (status or "no status written"))
            out = read(os.path.join(res, name + ".out"), "")
            if out:
                diags.append(out.strip()[-2000:])
    trouble = kernel_trouble(read(os.path.join(res, name + ".dmesg"), ""))
    if trouble:
        ok = False
        diags.append("kernel warnings during the case:")
        diags.extend("  " + l for l in trouble[:20])
    if meta.get("traced") != "1":
        ok = False
        diags.append("not traced: `dmabuf-audit run` did not work in this guest (see run-probe)")
    meta["_ok"] = ok
    return meta


def load_report(res, name, diags):
    text = read(os.path.join(res, name + ".report"))
    if text is None:
        out = read(os.path.join(res, name + ".out"), "")
        diags.append("no report written" + (": " + out.strip()[-1500:] if out else ""))
        return None
    objs, err = parse_jsonl(text)
    if err:
        diags.append(err)
        return None
    return objs


def event_lines(objs, limit=80):
    """The case's trace (run --events), compactly, for diagnosis."""
    events = [o for o in objs if o["type"] == "event"]
    if not events:
        return []
    keys = ("buf", "attach", "sgt", "resv", "dev", "exporter", "scope", "revoked", "usage",
            "resv_held", "fn", "ret")
    lines = ["the case's events (%d):" % len(events)]
    for e in events[:limit]:
        lines.append("  %s %s %s %s" % (e.get("seq"), e.get("comm"), e.get("op"), " ".join(
            "%s=%s" % (k, e[k]) for k in keys if e.get(k) is not None)))
    if len(events) > limit:
        lines.append("  ... %d more" % (len(events) - limit))
    return lines


def load_case(series, res, name, diags, row):
    """A traced case's meta and JSON report; (meta, None) with row[series]
    saying why when there is nothing to judge."""
    meta = common_checks(res, name, diags)
    if meta is None:
        row[series] = "not run"
        return None, None
    objs = load_report(res, name, diags) if meta.get("traced") == "1" else None
    if objs is None:
        row[series] = "no report"
    return meta, objs


def judge_case(series, res, name, exp, diags, row):
    """load_case, then the findings against `exp`: (meta, objs, findings, ok),
    or None when there is nothing to judge."""
    meta, objs = load_case(series, res, name, diags, row)
    if objs is None:
        return None
    findings = [o for o in objs if o["type"] == "finding"]
    ok = check_findings(exp, findings, diags) and meta["_ok"]
    return meta, objs, findings, ok


def check_scenario(series, res, exp, row, prefix="scn-"):
    name = prefix + exp["scenario"]
    diags = []
    row["expected"] = fmt_counts(expected_counts(exp))
    judged = judge_case(series, res, name, exp, diags, row)
    if judged is None:
        return False, diags
    meta, objs, findings, ok = judged
    seen = fmt_counts(summarize(findings))
    if not ok:
        diags.extend(event_lines(objs))
    rc = int(meta.get("rc", "-1"))
    if rc != exp["exit"]:
        ok = False
        diags.append("dmabuf-audit run exited %d, expected %d" % (rc, exp["exit"]))
    row[series] = ("ok: " if ok else "FAIL: ") + seen
    return ok, diags


def check_seeded_buffers(series, exp, objs, diags):
    """The seed_buffer / seed_attachment events (run --events) of the buffers
    made before the tool: exporter, size, devices and importers; a buffer the
    kernel's seed source cannot see is named in a notice instead."""
    ok = True
    events = [o for o in objs if o["type"] == "event"]
    seeds = [e for e in events if e.get("op") == "seed_buffer"]
    atts = [e for e in events if e.get("op") == "seed_attachment"]
    notices = [o.get("message", "") for o in objs if o["type"] == "notice"]
    for want in exp["seeded_buffers"]:
        match = [e for e in seeds
                 if e.get("exporter") == want["exporter"] and e.get("size") == want["size"]]
        if series not in want.get("kernels", [series]):
            named = [m for m in notices if want["otherwise_notice"] in m and want["exporter"] in m]
            if match or not named:
                ok = False
                diags.append("%s: expected not seeded on %s (seeded %d times) and named in a "
                             "notice (%s)" % (want["exporter"], series, len(match), notices))
            continue
        if len(match) != 1:
            ok = False
            diags.append("seed_buffer %s of %d bytes: seen %d times" %
                         (want["exporter"], want["size"], len(match)))
            continue
        # importer_ops null: a static importer
        got = sorted((a.get("dev"), str(a.get("importer_ops"))) for a in atts
                     if a.get("buf") == match[0].get("buf"))
        wanted = sorted((a["dev"], str(a["importer_ops"])) for a in want["attachments"])
        if got != wanted:
            ok = False
            diags.append("seed_attachment of %s: %s, expected %s" % (want["exporter"], got,
                                                                    wanted))
    reasons = objs[-1].get("partial_reasons", {})
    if reasons.get("late") != 0 or reasons.get("seeded") != len(seeds) + len(atts):
        ok = False
        diags.append("partial reasons %s: expected late 0, seeded %d (every seed record)" %
                     (reasons, len(seeds) + len(atts)))
    return ok


def check_seed(series, res, exp, row):
    """Buffers and attachments made before `run` started are seeded, not late,
    with their exporter, size and devices, and the revoke bug on one is caught."""
    name = "seed-" + exp["seed"]
    diags = []
    row["expected"] = fmt_counts(expected_counts(exp))
    judged = judge_case(series, res, name, exp, diags, row)
    if judged is None:
        return False, diags
    meta, objs, findings, ok = judged
    rc = int(meta.get("rc", "-1"))
    if rc != exp["exit"]:
        ok = False
        diags.append("dmabuf-audit run exited %d, expected %d" % (rc, exp["exit"]))
    ok = check_seeded_buffers(series, exp, objs, diags) and ok
    try:
        hooks = json.loads(read(os.path.join(res, "hooks.json"), "") or "")
    except ValueError:
        hooks = {}
    if hooks.get("seed_source") != exp["seed_source"][series]:
        ok = False
        diags.append("hooks: seed source %r (%s), expected %r" % (
            hooks.get("seed_source"), hooks.get("seed_reason"), exp["seed_source"][series]))
    if not ok:
        diags.extend(event_lines(objs))
        diags.extend("bufinfo: " + l for l in
                     (read(os.path.join(res, "seed-bufinfo.txt"), "") or "").splitlines()[:30])
    row[series] = ("ok: " if ok else "FAIL: ") + fmt_counts(summarize(findings))
    return ok, diags

def series_version(series, res=None):
    """(major, minor) of the guest kernel: its uname -r from guest.txt when
    there (a series such as sid or 6.12-rt names no version), else SERIES's."""
    kernel = read_meta(os.path.join(res, "guest.txt")).get("kernel", "") if res else ""
    m = re.match(r"(\d+)\.(\d+)", kernel) or re.match(r"(\d+)\.(\d+)", series)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


# core hooks every kernel must attach, and the optional ones per version
CORE_HOOKS = ("export", "release", "attach", "detach", "pin", "unpin", "map", "map_unlocked",
              "unmap", "unmap_unlocked", "vmap", "vmap_unlocked", "vunmap", "vunmap_unlocked",
              "mmap", "mmap_fd", "invalidate", "fence_wait", "revocable_check", "resv_unlock")


def check_hooks(series, res, kprobe):
    """`hooks` in the guest: every core hook attached in the expected mode,
    the right targets for this kernel, the test module's scopes attached."""
    name = "hooks-kprobe.json" if kprobe else "hooks.json"
    diags = []
    text = read(os.path.join(res, name))
    try:
        doc = json.loads(text or "")
    except ValueError as e:
        return False, ["%s is not JSON (%s): %s" % (name, e, (text or "")[:500])]
    ver = series_version(series, res)
    absent = set()
    if ver < (6, 2):
        absent |= {"vmap_unlocked", "vunmap_unlocked"}
    if ver < (7, 1):
        absent.add("revocable_check")
    want_fn = {"invalidate": "dma_buf_invalidate_mappings" if ver >= (7, 1)
               else "dma_buf_move_notify"}
    modes = ("kprobe", "kretprobe") if kprobe else ("fentry", "fexit")
    hooks = {h.get("hook"): h for h in doc.get("hooks", []) if h.get("kind") == "core"}
    ok = True
    for hook in CORE_HOOKS:
        h = hooks.get(hook)
        if h is None:
            ok = False
            diags.append("hook %s not reported" % hook)
            continue
        if hook in absent:
            if h.get("attached") or h.get("mode") != "absent" or not h.get("reason"):
                ok = False
                diags.append("hook %s should be absent with a reason on %s: %s" % (hook, series, h))
            continue
        if not h.get("attached") or h.get("mode") not in modes:
            ok = False
            diags.append("hook %s (%s): mode %s, attached %s, reason %r" % (
                hook, h.get("function"), h.get("mode"), h.get("attached"), h.get("reason")))
        if hook in want_fn and h.get("function") != want_fn[hook]:
            ok = False
            diags.append("hook %s targets %s, expected %s" % (hook, h.get("function"),
                                                             want_fn[hook]))
    scopes = {h.get("function"): h for h in doc.get("hooks", []) if h.get("kind") == "scope"}
    # functions in a module are kprobed in every mode (--module-mode kprobe):
    # a trampoline would hold the module
    for fn in ("dat_exporter_revoke", "dat_exporter_cleanup"):
        h = scopes.get(fn)
        if not h or not h.get("attached") or h.get("mode") != "kprobe" or \
                "does not hold module" not in h.get("reason", ""):
            ok = False
            diags.append("scope %s not kprobed (not holding its module): %s" % (fn, h))
    for fn in ("vfio_pci_dma_buf_move", "vfio_pci_dma_buf_cleanup"):
        h = scopes.get(fn)
        if not h or h.get("module") != "vfio_pci_core":
            ok = False
            diags.append("VFIO scope %s not reported as a vfio_pci_core module hook: %s" % (fn, h))
    return ok, diags


def check_run_false(res, guest):
    """run -- /bin/false: no finding, CMD's own status 1."""
    diags = []
    rc = guest.get("run_false_rc")
    ok = rc == "1"
    if not ok:
        diags.append("dmabuf-audit run -- /bin/false exited %s, expected 1" % rc)
        diags.append((read(os.path.join(res, "false.out"), "") or "").strip()[-1000:])
    objs, err = parse_jsonl(read(os.path.join(res, "false.report"), "") or "")
    if err:
        return False, diags + [err]
    findings = [o for o in objs if o["type"] == "finding"]
    if findings:
        ok = False
        diags.append("findings on /bin/false: %s" % fmt_counts(summarize(findings)))
    return ok, diags


def finding_key(f):
    att = f.get("attachment") or {}
    return (f.get("rule"), f.get("severity"), f.get("seq"), (f.get("buffer") or {}).get("ptr"),
            att.get("ptr"), f.get("message"))


def replay_same(res, name, binary, policy, diags):
    """The case NAME ran with --record: replaying the record on the host must
    give the live report's findings and summary.  None when there is no
    record to replay, else whether it matched."""
    rec = os.path.join(res, name + ".rec")
    live, err = parse_jsonl(read(os.path.join(res, name + ".report"), "") or "")
    if err or not os.path.exists(rec):
        diags.append("%s: no live report or no record (%s)" % (name, err or "no .rec"))
        return None
    p = subprocess.run([binary, "replay", "--policy", policy, "--format", "json", rec],
                       capture_output=True, text=True)
    replayed, err = parse_jsonl(p.stdout)
    if err:
        diags.append("%s: replay failed (exit %d): %s %s" % (name, p.returncode, err,
                                                            p.stderr.strip()[-300:]))
        return None
    ok = True
    a = sorted(finding_key(f) for f in live if f["type"] == "finding")
    b = sorted(finding_key(f) for f in replayed if f["type"] == "finding")
    sa = {k: v for k, v in live[-1].items() if k != "type"}
    sb = {k: v for k, v in replayed[-1].items() if k != "type"}
    if a != b:
        ok = False
        diags.append("%s: findings differ: live %s, replayed %s" % (name, a, b))
    if sa != sb:
        ok = False
        diags.append("%s: summary differs: live %s, replayed %s" % (name, sa, sb))
    return ok


def check_round_trip(res, expects, binary, policy):
    """Each scenario ran with --record: replaying the record on the host
    must give the live report's findings and summary."""
    diags, n = [], 0
    ok = True
    for exp in expects:
        if "scenario" not in exp:
            continue
        same = replay_same(res, "scn-" + exp["scenario"], binary, policy, diags)
        if same is None:
            ok = False
            continue
        n += 1
        ok = ok and same
    if n == 0:
        ok = False
        diags.append("no scenario record to replay")
    return ok, n, diags


WATCH_OPS = {"export", "attach", "map", "scope_enter", "invalidate", "scope_exit", "detach",
             "release"}


def check_watch(res, guest, expects):
    """watch --events --format json while the missing-fence-wait scenario ran,
    stopped with SIGINT: header, the scenario's events, the live finding, a
    summary that counts what was printed, exit status 1."""
    diags = []
    ok = True
    status = (read(os.path.join(res, "watch.status"), "") or "").strip()
    if not status.startswith("ok"):
        ok = False
        diags.append("the trigger under watch failed: %s" % (status or "no status"))
    if guest.get("watch_rc") != "1":
        ok = False
        diags.append("watch exited %s after SIGINT, expected 1 (a critical finding)" %
                     guest.get("watch_rc"))
        diags.append((read(os.path.join(res, "watch.out"), "") or "").strip()[-1000:])
    objs, err = parse_jsonl(read(os.path.join(res, "watch.report"), "") or "")
    if err:
        return False, diags + [err]
    events = [o for o in objs if o["type"] == "event"]
    exports = [e for e in events if e.get("op") == "export" and e.get("exporter") == "dat_revoker"]
    if len(exports) != 1 or not exports[0].get("ino") or not exports[0].get("size"):
        ok = False
        diags.append("expected one dat_revoker export with ino and size: %s" % exports)
    else:
        # the buffer's own events, and the revoke scope around them
        ops = {e.get("op") for e in buffer_events(objs, exports[0]["ino"])}
        ops |= {e.get("op") for e in events if e.get("scope") == "dat_exporter_revoke"}
        missing = WATCH_OPS - ops
        if missing:
            ok = False
            diags.append("ops missing from the live event stream: %s" %
                         " ".join(sorted(missing)))
    exp = [e for e in expects if e.get("scenario") == "missing-fence-wait"][0]
    findings = [o for o in objs if o["type"] == "finding"]
    if not check_findings(exp, findings, diags):
        ok = False
    summary = objs[-1]
    if summary.get("events") != len(events) or summary.get("lost") != 0:
        ok = False
        diags.append("summary says %s events, %s lost; %d event lines printed" % (
            summary.get("events"), summary.get("lost"), len(events)))
    return ok, diags


def check_module_load(series, res, guest, expects, name, reload):
    """A revoke scope whose module loads while `run` traces (module-late,
    --module-mode fentry: a trampoline from the module's BTF), or whose
    module is unloaded and loaded again under the default kprobe
    (module-reload): the scope is attached when the module comes, so the
    scenario's revoke is judged at the scope's exit, exactly as in scenario
    missing-fence-wait."""
    diags = []
    row = {}
    exp = [e for e in expects if e.get("scenario") == "missing-fence-wait"][0]
    judged = judge_case(series, res, name, exp, diags, row)
    if judged is None:
        return False, diags
    meta, objs, findings, ok = judged
    scope = "dat_exporter_revoke"
    late = [f for f in findings if "before the exit of %s" % scope in (f.get("message") or "")]
    if findings and not late:
        ok = False
        diags.append("the revoke was not judged at the exit of %s: the scope was not attached"
                     % scope)
    if int(meta.get("rc", "-1")) != exp["exit"]:
        ok = False
        diags.append("dmabuf-audit run exited %s, expected %d" % (meta.get("rc"), exp["exit"]))
    notices = [o.get("message", "") for o in objs if o["type"] == "notice"]
    want_mode = "kprobe" if reload else (
        "fentry" if guest.get("module_btf") == "yes" else "kprobe")
    want = ["revoke scope hook %s attached (%s, module dmabuf_audit_test)" % (scope, want_mode)]
    if reload:
        want.insert(0, "revoke scope hook %s detached: module dmabuf_audit_test was unloaded" %
                    scope)
    for w in want:
        if not any(n.startswith(w) for n in notices):
            ok = False
            diags.append("no notice %r; notices: %s" % (w, notices))
    return ok, diags


def buffer_events(objs, ino):
    """Events of the buffer exported with inode `ino` (its attachments too)."""
    events = [o for o in objs if o["type"] == "event"]
    bufs = {e.get("buf") for e in events if e.get("op") == "export" and str(e.get("ino")) == str(ino)}
    attaches = {e.get("attach") for e in events if e.get("op") == "attach" and e.get("buf") in bufs}
    return [e for e in events if e.get("buf") in bufs or (e.get("attach") in attaches and e.get("attach"))]


def check_real(series, res, exp, row):
    name = "real-" + exp["real"]
    diags = []
    row["expected"] = "none; events " + ",".join(
        "%s=%d" % kv for kv in sorted(exp.get("events", {}).items())) + "".join(
        " (%s: %s)" % (k, ",".join("%s=%d" % kv for kv in sorted(v.items())))
        for k, v in sorted(exp.get("events_by_kernel", {}).items()))
    judged = judge_case(series, res, name, exp, diags, row)
    if judged is None:
        return False, diags
    meta, objs, findings, ok = judged
    rc = int(meta.get("rc", "-1"))
    if rc != exp["exit"]:
        ok = False
        diags.append("dmabuf-audit run exited %d, expected %d" % (rc, exp["exit"]))
    status = (read(os.path.join(res, name + ".status"), "") or "").split()
    ino = status[2] if len(status) >= 3 and status[1] == "ino" else None
    seen_ops = {}
    if ino is None:
        ok = False
        diags.append("the trigger did not report the buffer's inode")
    else:
        for e in buffer_events(objs, ino):
            seen_ops[e["op"]] = seen_ops.get(e["op"], 0) + 1
        for op, n in sorted(effective_events(exp, series).items()):
            if seen_ops.get(op, 0) != n:
                ok = False
                diags.append("buffer ino %s: %d %s event(s), expected %d" %
                             (ino, seen_ops.get(op, 0), op, n))
        if not seen_ops:
            diags.append("no event names buffer ino %s" % ino)
    row[series] = ("ok: " if ok else "FAIL: ") + fmt_counts(summarize(findings)) + "; " + \
        ",".join("%s=%d" % kv for kv in sorted(seen_ops.items()))
    return ok, diags


def effective_events(exp, series):
    ev = dict(exp.get("events", {}))
    ev.update(exp.get("events_by_kernel", {}).get(series, {}))
    return ev


def ktap_not_ok(text):
    return [l for l in text.splitlines() if re.match(r"^\s*not ok\b", l)]


def check_selftest(series, res, exp, row, binary, kunit):
    name = "selftest-" + exp["selftest"]
    diags = []
    row["expected"] = "none; own exit status kept"
    raw = read_meta(os.path.join(res, name + "-raw.meta"))
    meta = common_checks(res, name, diags, want_status=False)
    if meta is None or not raw:
        row[series] = "not run"
        if not raw:
            diags.append("the untraced run of the selftest is missing")
        return False, diags
    ok = meta["_ok"]
    report = read(os.path.join(res, name + ".report"))
    nfind = None
    if report is None:
        ok = False
        diags.append("no KTAP report written")
    else:
        if not report.startswith("KTAP version 1"):
            ok = False
            diags.append("the report is not KTAP version 1")
        bad = ktap_not_ok(report)
        nfind = len(bad)
        if bad:
            ok = False
            diags.append("findings on the kernel's own selftest:")
            diags.extend("  " + l for l in bad)
            diags.extend("  " + l for l in report.splitlines() if l.startswith("#"))
    if meta.get("rc") != raw.get("rc"):
        ok = False
        diags.append("traced exit status %s differs from the test's own %s" %
                     (meta.get("rc"), raw.get("rc")))
    # the buffers it made must be in the trace: replay the record on the host
    rec = os.path.join(res, name + ".rec")
    nbuf = None
    if not os.path.exists(rec):
        ok = False
        diags.append("no --record trace came back")
    else:
        p = subprocess.run([binary, "replay", "--events", "--format", "json", rec],
                           capture_output=True, text=True)
        objs, err = parse_jsonl(p.stdout)
        if err:
            ok = False
            diags.append("replaying the record failed: %s %s" % (err, p.stderr.strip()[-500:]))
        else:
            nbuf = sum(1 for o in objs if o["type"] == "event" and o.get("op") == "export")
            if nbuf < exp.get("min_buffers", 1):
                ok = False
                diags.append("%d buffer exports in the trace, expected at least %d" %
                             (nbuf, exp.get("min_buffers", 1)))
            if not selftest_checks.check_events(series, objs, exp, diags)[0]:
                ok = False
    if not selftest_checks.check_nested(kunit, res, name, exp["selftest"], raw.get("rc"), diags):
        ok = False
    row[series] = "%s: exit %s (own %s), %s findings, %s buffers" % (
        "ok" if ok else "FAIL", meta.get("rc"), raw.get("rc"),
        "?" if nfind is None else nfind, "?" if nbuf is None else nbuf)
    return ok, diags


class CaseTable:
    """The table printed at the end: case x kernel -> expected / seen, in first-seen order."""

    def __init__(self):
        self.rows = {}
        self.order = []

    def row(self, key):
        if key not in self.rows:
            self.rows[key] = {}
            self.order.append(key)
        return self.rows[key]

    def print(self, series_list):
        w0 = max([len(k) for k in self.order] + [8])
        w1 = max([len(self.rows[k].get("expected", "")) for k in self.order] + [8])
        print("#")
        print("# %-*s  %-*s  %s" % (w0, "case", w1, "expected", "  |  ".join(
            "%s seen" % s for s in series_list)))
        for k in self.order:
            row = self.rows[k]
            print("# %-*s  %-*s  %s" % (w0, k, w1, row.get("expected", ""), "  |  ".join(
                row.get(s, "-") for s in series_list)))
        print("#")


def load_expects(folder):
    expects = []
    for fn in sorted(os.listdir(folder)):
        if fn.endswith(".json"):
            with open(os.path.join(folder, fn)) as f:
                exp = json.load(f)
            exp["_file"] = fn
            expects.append(exp)
    return expects


def check_expects_consistent(tap, expects):
    """A scenario's expected exit status is the one its findings' severities imply."""
    for exp in expects:
        if "scenario" in exp:
            implied = max([SEV_EXIT[f["severity"]] for f in exp["findings"]] or [0])
            if implied != exp["exit"]:
                tap.result(False, "expectation %s: exit %d but severities imply %d" %
                           (exp["_file"], exp["exit"], implied))


class KernelJudge:
    """Every verdict about one kernel's guest run (tests/vm/vmtest.sh's OUTDIR for SERIES)."""

    def __init__(self, tap, table, opts, expects, series, outdir):
        self.tap, self.table, self.opts, self.expects = tap, table, opts, expects
        self.series, self.outdir = series, outdir
        self.res = os.path.join(outdir, "results")
        self.guest = {}
        # a guest that ran a subset of the scenarios (tests/vm/vmtest.sh writes
        # it to scenarios.subset, e.g. the arm64 guest) is judged on those
        subset = read(os.path.join(outdir, "scenarios.subset"))
        # (the seed of the test module's buffers runs when "seed-revoke" is in the list)
        self.judged = [e for e in expects if subset is None or (
            e["scenario"] in subset.split() if "scenario" in e else
            e.get("seed") != "revoke" or "seed-revoke" in subset.split())]
        # and the scenarios it left out are said, not dropped
        self.left_out = sorted(e["scenario"] for e in expects
                               if "scenario" in e and e not in self.judged and
                               series in e.get("kernels", [series]))

    def judge(self):
        self.boot()
        self.basics()
        self.cases()
        self.kprobe_cases()
        self.host_side()
        self.scenario_list()
        if self.left_out:
            self.tap.skip("%s: %d scenarios not run: %s" % (
                self.series, len(self.left_out), " ".join(self.left_out)),
                "not in this guest's list (tests/vm/vmtest.sh: the arm64 subset, VMTEST_SCENARIOS;"
                " make vmtest-full runs them all)")

    def result(self, ok, what, diags=()):
        self.tap.result(ok, "%s: %s" % (self.series, what), diags)

    def boot(self):
        """The guest was built, booted, ran the suite to its end and powered off."""
        series, outdir = self.series, self.outdir
        names, done, stream_errors = decode_stream(outdir)
        self.guest = read_meta(os.path.join(self.res, "guest.txt"))
        if os.path.exists(os.path.join(outdir, "build.failed")):
            self.result(False, "build the guest initramfs",
                        (read(os.path.join(outdir, "build.log"), "") or "").splitlines()[-30:])
        boot_rc = (read(os.path.join(outdir, "boot.rc"), "") or "").strip()
        ok = boot_rc == "0" and done and not stream_errors
        diags = ["results stream: " + e for e in stream_errors]
        if boot_rc == "124":
            diags.append("the guest did not finish in time (killed)")
        elif boot_rc != "0":
            diags.append("qemu exited %s" % (boot_rc or "(did not run)"))
        if not done:
            diags.append("the guest did not report the end of the suite; last phase: %s" %
                         self.guest.get("phase", "(none)"))
        if not ok:
            diags.append("guest console (last lines):")
            diags.extend("  " + l for l in console_tail(outdir))
        retry = read(os.path.join(outdir, "boot-retry"))
        if retry:
            diags.append("booted twice: the first boot died before /init (%s); its console is in"
                         " console.attempt1.log" % retry.strip())
        self.result(ok, "guest booted, ran the suite, powered off", diags)

    def basics(self):
        """The test module, `run`, the hooks, and run's own exit status."""
        res, guest, series = self.res, self.guest, self.series
        mod = guest.get("module")
        diags = [] if mod == "loaded" else [read(os.path.join(res, "insmod.txt"), "") or "no result"]
        self.result(mod == "loaded", "dmabuf_audit_test.ko loaded (module BTF: %s)" %
                    guest.get("module_btf", "?"), diags)
        probe = guest.get("run_probe_rc")
        diags = []
        if probe != "0":
            diags.append("`dmabuf-audit run -- /bin/true` exited %s:" % probe)
            diags.append((read(os.path.join(res, "probe.out"), "") or "").strip())
        self.result(probe == "0", "dmabuf-audit run works in the guest", diags)
        for kprobe in (False, True):
            ok, diags = check_hooks(series, res, kprobe)
            self.result(ok, "hooks: every core hook attached (%s), targets right for %s" %
                        ("kprobe fallback" if kprobe else "fentry/fexit", series), diags)
        ok, diags = check_run_false(res, guest)
        self.result(ok, "run -- /bin/false exits 1 with no finding", diags)

    def case_check(self, exp):
        """(table key, check) for an expectation that applies to this kernel, else None."""
        if "scenario" in exp:
            return "scenario " + exp["scenario"], check_scenario
        if self.series not in exp.get("kernels", []):
            return None
        if "real" in exp:
            return "real drivers " + exp["real"], check_real
        if "seed" in exp:
            return "seed " + exp["seed"], check_seed
        if "selftest" in exp:
            return ("selftest " + exp["selftest"],
                    lambda s, r, e, row: check_selftest(s, r, e, row, self.opts.bin,
                                                        self.opts.kunit))
        return None

    def cases(self):
        """Every scenario, real-driver and selftest expectation."""
        for exp in self.judged:
            case = self.case_check(exp)
            if not case:
                continue
            key, check = case
            ok, diags = check(self.series, self.res, exp, self.table.row(key))
            self.result(ok, key, diags)

    def kprobe_cases(self):
        """The kprobe fallback on a subset of scenarios: the same findings."""
        for sc in self.opts.kprobe_scenarios.split():
            exp = [e for e in self.expects if e.get("scenario") == sc]
            if not exp:
                self.result(False, "kprobe scenario %s has no expectation" % sc)
                continue
            ok, diags = check_scenario(self.series, self.res, exp[0],
                                       self.table.row("kprobe " + sc), prefix="kp-")
            self.result(ok, "scenario %s with --mode kprobe" % sc, diags)

    def host_side(self):
        """The guest's records replayed here, watch, and revoke scopes in late modules."""
        res, guest, expects, series = self.res, self.guest, self.expects, self.series
        ok, n, diags = check_round_trip(res, self.judged, self.opts.bin, self.opts.policy)
        self.result(ok, "%d scenario records replayed on the host give the live findings "
                    "and summary" % n, diags)
        ok, diags = check_watch(res, guest, expects)
        self.result(ok, "watch --events --format json sees a revoke bug live, stops on SIGINT",
                    diags)
        load = lambda name, diags: (common_checks(res, name, diags, want_status=False),
                                    load_report(res, name, diags))
        for ok, what, diags in live_checks.judge(res, guest, load):
            self.result(ok, what, diags)
        ok, diags = live_checks.check_container(res, guest, self.opts.bin, self.opts.policy)
        self.result(ok, "a finding caused in a container-shaped cgroup names the container;"
                    " --addresses hashed leaves no kernel address", diags)
        ok, diags = check_module_load(series, res, guest, expects, "module-late", False)
        self.result(ok, "a revoke scope in a module loaded after the tool started is attached",
                    diags)
        ok, diags = check_module_load(series, res, guest, expects, "module-reload", True)
        self.result(ok, "a revoke scope (kprobe, the default) is attached again when its module"
                    " is reloaded",
                    diags)

    def scenario_list(self):
        """Every scenario of the module has an expectation, and vice versa."""
        listed = (read(os.path.join(self.res, "scenarios.txt"), "") or "").split()
        known = {e["scenario"] for e in self.expects if "scenario" in e}
        if not listed:
            return
        missing = sorted(set(listed) - known)
        extra = sorted(known - set(listed))
        diags = []
        if missing:
            diags.append("scenarios without an expectation file: " + " ".join(missing))
        if extra:
            diags.append("expectations without a scenario in the module: " + " ".join(extra))
        self.result(not missing and not extra, "module scenarios and expectation files match",
                    diags)


# ------------------------------------------------------------ the real VFIO guest
# tests/vm/vmtest.sh boots a second 7.x guest with VM_VFIO=1 and --vfio
# (tests/vfio/run.sh): Debian's VFIO modules export an ivshmem BAR as a
# dma-buf, the test module's iommufd-like importer takes it, and each flow
# of tests/vfio/dat-vfio.c runs under `dmabuf-audit run --events --record`.
# Expectations: tests/vm/expect/vfio-*.json ("vfio": FLOW).

def vfio_case_events(objs, ino):
    """The flow's buffer events, plus the fence waits and resv unlocks on its
    resv (they name no buffer) and every scope entry (in order)."""
    events = [o for o in objs if o["type"] == "event"]
    own = buffer_events(objs, ino)
    resvs = {e.get("resv") for e in own if e.get("op") == "export"}
    waits = [e for e in events if e.get("op") in ("fence_wait", "resv_unlock")
             and e.get("resv") in resvs]
    scopes = [e for e in events if e.get("op") == "scope_enter"]
    return own, waits, scopes


def vfio_waits_in_scope(objs, own, diags):
    """Each invalidate is inside a revoke scope and followed, before that
    scope's exit, by a BOOKKEEP fence wait on the buffer's resv.  Returns the
    longest wait (ms from the invalidate to the wait's return), or None."""
    events = [o for o in objs if o["type"] == "event"]
    resv = {e.get("resv") for e in own if e.get("op") == "export"}
    longest, ok = None, True
    for i, inv in enumerate(events):
        if inv.get("op") != "invalidate" or inv.get("resv") not in resv:
            continue
        depth = sum(1 if e.get("op") == "scope_enter" else -1 for e in events[:i]
                    if e.get("tid") == inv.get("tid") and e.get("op") in ("scope_enter",
                                                                          "scope_exit"))
        wait = None
        for e in events[i + 1:]:
            if e.get("tid") != inv.get("tid"):
                continue
            if e.get("op") == "scope_exit":
                break
            if e.get("op") == "fence_wait" and e.get("usage") == "bookkeep" and \
                    e.get("resv") in resv:
                wait = e
                break
        if depth <= 0 or wait is None:
            ok = False
            diags.append("invalidate seq %s: %s" % (inv.get("seq"), "outside any revoke scope"
                         if depth <= 0 else "no BOOKKEEP wait before its scope's exit"))
            continue
        ms = (wait["ts_ns"] - inv["ts_ns"]) / 1e6
        longest = ms if longest is None else max(longest, ms)
    return longest if ok else None


def vfio_refused_attaches(objs, ino, exp, diags):
    """Refused attaches: ret, importer ops and peer2peer as the importer asked."""
    events = [o for o in objs if o["type"] == "event"]
    bufs = {e.get("buf") for e in events if e.get("op") == "export" and
            str(e.get("ino")) == str(ino)}
    seen = [{"importer_ops": e.get("importer_ops"), "peer2peer": e.get("peer2peer"),
             "ret": e.get("ret")} for e in events
            if e.get("op") == "attach" and e.get("buf") in bufs and e.get("ret")]
    want = exp.get("refused_attaches", [])
    if seen != want:
        diags.append("refused attaches %s, expected %s" % (seen, want))
        return False
    return True


def vfio_case_name(exp, kprobe=False):
    """vfio-FLOW, or variant-PATCH for a flow on a patched build (tests/vfio/patches);
    with -kprobe for its run with the kprobe fallback forced."""
    name = "variant-" + exp["variant"] if "variant" in exp else "vfio-" + exp["vfio"]
    return name + ("-kprobe" if kprobe else "")


def vfio_buffer_events(res, name, objs, exp, diags):
    """The flow's buffer (by the inode its .status file reports): that inode, its
    own events, the waits, the scopes and its events counted by op, or None when the flow did
    not report it. A diagnostic when those counts differ from what exp expects."""
    status = (read(os.path.join(res, name + ".status"), "") or "").split()
    if len(status) < 3 or status[1] != "ino":
        diags.append("the flow did not report the buffer's inode")
        return None
    own, waits, scopes = vfio_case_events(objs, status[2])
    seen_ops = {}
    for e in own + waits:
        seen_ops[e["op"]] = seen_ops.get(e["op"], 0) + 1
    if seen_ops != exp["events"]:
        diags.append("buffer ino %s: events %s, expected %s" % (status[2], seen_ops,
                                                               exp["events"]))
    return status[2], own, waits, scopes, seen_ops


def check_vfio(series, res, exp, row, kprobe=False):
    """One VFIO flow (or a historical bug variant running one): exactly the
    expected findings, run's exit status, the buffer's events by op, the
    scopes entered, the BOOKKEEP waits inside the scopes (and how long the
    longest one waited) unless the variant drops them, refused attaches."""
    name = vfio_case_name(exp, kprobe)
    diags = []
    row["expected"] = fmt_counts(expected_counts(exp)) + "; events " + ",".join(
        "%s=%d" % kv for kv in sorted(exp["events"].items()))
    judged = judge_case(series, res, name, exp, diags, row)
    if judged is None:
        return False, diags
    meta, objs, findings, ok = judged
    if int(meta.get("rc", "-1")) != exp["exit"]:
        ok = False
        diags.append("dmabuf-audit run exited %s, expected %d" % (meta.get("rc"), exp["exit"]))
    buffer = vfio_buffer_events(res, name, objs, exp, diags)
    if buffer is None:
        row[series] = "FAIL: no inode"
        return False, diags
    ino, own, waits, scopes, seen_ops = buffer
    ok = ok and seen_ops == exp["events"]
    phys = sum(1 for e in own if e.get("op") == "map" and e.get("phys"))
    if phys != exp.get("phys_maps", 0):
        ok = False
        diags.append("%d maps through iommufd's map path (phys), expected %d" %
                     (phys, exp.get("phys_maps", 0)))
    seen_scopes = [[e.get("scope"), e.get("revoked")] for e in scopes]
    if seen_scopes != exp["scopes"]:
        ok = False
        diags.append("scopes entered %s, expected %s" % (seen_scopes, exp["scopes"]))
    longest = vfio_waits_in_scope(objs, own, diags if exp.get("bookkeep_waits", True) else [])
    if seen_ops.get("invalidate") and longest is None and exp.get("bookkeep_waits", True):
        ok = False
    if longest is not None and longest < exp.get("min_wait_ms", 0):
        ok = False
        diags.append("the longest fence wait took %.0f ms after its invalidate, expected at"
                     " least %d ms (a pending importer fence)" % (longest, exp["min_wait_ms"]))
    ok = vfio_refused_attaches(objs, ino, exp, diags) and ok
    if not ok:
        diags.extend(event_lines(objs))
    row[series] = "%s: %s; %s%s" % (
        "ok" if ok else "FAIL", fmt_counts(summarize(findings)),
        ",".join("%s=%d" % kv for kv in sorted(seen_ops.items())),
        "" if longest is None else "; fence wait %.0f ms" % longest)
    return ok, diags


def check_vfio_hooks(res):
    """`hooks` with vfio_pci_core loaded: VFIO's scopes and iommufd's map path attached."""
    try:
        doc = json.loads(read(os.path.join(res, "vfio-hooks.json"), "") or "")
    except ValueError as e:
        return False, ["vfio-hooks.json is not JSON: %s" % e]
    hooks = {h.get("function"): h for h in doc.get("hooks", [])}
    diags, ok = [], True
    # kprobes: a trampoline would hold vfio_pci_core (--module-mode)
    want = {"vfio_pci_dma_buf_move": ("scope", "kprobe"),
            "vfio_pci_dma_buf_cleanup": ("scope", "kprobe"),
            "vfio_pci_dma_buf_iommufd_map": ("module", "kretprobe")}
    for fn, (kind, mode) in sorted(want.items()):
        h = hooks.get(fn) or {}
        if h.get("kind") != kind or h.get("mode") != mode or not h.get("attached") or \
                h.get("module") != "vfio_pci_core":
            ok = False
            diags.append("%s: expected a %s hook attached (%s) in vfio_pci_core: %s" %
                         (fn, kind, mode, h))
    return ok, diags


def check_vfio_hold(res, guest):
    """The control: under watch --module-mode fentry, vfio_pci_core's
    trampolines hold it, so its rmmod fails (vfio_pci's succeeds)."""
    diags = []
    ok = guest.get("hold_rmmod_vfio_pci") == "0" and guest.get("hold_rmmod_vfio_pci_core") not in (
        None, "0")
    # held by the trampolines, not by anything else: they were attached
    objs, err = parse_jsonl(read(os.path.join(res, "vfio-hold.report"), "") or "")
    hooks = {h.get("function"): h for o in objs or [] if o["type"] == "header"
             for h in o.get("hooks", [])}
    for fn, mode in (("vfio_pci_dma_buf_move", "fentry"), ("vfio_pci_dma_buf_cleanup", "fentry"),
                     ("vfio_pci_dma_buf_iommufd_map", "fexit")):
        h = hooks.get(fn) or {}
        if h.get("mode") != mode or not h.get("attached"):
            ok = False
            diags.append("under --module-mode fentry %s is not attached (%s): %s" % (
                fn, mode, err or h))
    if not ok:
        diags.append("rmmod under --module-mode fentry: vfio_pci exit %s (expected 0), "
                     "vfio_pci_core exit %s (expected a failure); vfio_pci_core refcnt %s" % (
                         guest.get("hold_rmmod_vfio_pci"), guest.get("hold_rmmod_vfio_pci_core"),
                         guest.get("vfio_hold_refcnt")))
    return ok, diags


def check_vfio_reload(series, res, guest, expects):
    """Under one watch (default --module-mode kprobe): vfio_pci, vfio_pci_core
    and dat_importer unload, the hooks are detached with a notice, attached
    again (kprobe) when the modules are loaded again, and flow memory-bit on
    the device bound again is judged exactly as under `run`: its findings,
    its buffer's events, the scopes entered after its export."""
    diags, ok = [], True
    for m in ("vfio_pci", "vfio_pci_core", "dat_importer"):
        if guest.get("reload_rmmod_" + m) != "0":
            ok = False
            diags.append("rmmod %s under watch exited %s: %s" % (
                m, guest.get("reload_rmmod_" + m),
                (read(os.path.join(res, "reload-rmmod-%s.txt" % m), "") or "").strip()))
    if guest.get("vfio_reload_driver") != "vfio-pci":
        ok = False
        diags.append("the device is bound to %r after the reload" % guest.get("vfio_reload_driver"))
    exp = [e for e in expects if e.get("vfio") == "memory-bit" and "variant" not in e][0]
    row = {}
    judged = judge_case(series, res, "vfio-reload", exp, diags, row)
    if judged is None:
        return False, diags
    meta, objs, findings, judged_ok = judged
    ok = ok and judged_ok
    if int(meta.get("rc", "-1")) != exp["exit"]:
        ok = False
        diags.append("watch exited %s after SIGTERM, expected %d" % (meta.get("rc"), exp["exit"]))
    notices = [o.get("message", "") for o in objs if o["type"] == "notice"]
    for fn, kind, mode in (("vfio_pci_dma_buf_move", "revoke scope", "kprobe"),
                           ("vfio_pci_dma_buf_cleanup", "revoke scope", "kprobe"),
                           ("vfio_pci_dma_buf_iommufd_map", "map", "kretprobe")):
        for want in ("%s hook %s detached: module vfio_pci_core was unloaded" % (kind, fn),
                     "%s hook %s attached (%s, module vfio_pci_core)" % (kind, fn, mode)):
            if not any(n.startswith(want) for n in notices):
                ok = False
                diags.append("no notice %r" % want)
    buffer = vfio_buffer_events(res, "vfio-reload", objs, exp, diags)
    if buffer is None:
        return False, diags
    ino, own, waits, scopes, seen_ops = buffer
    ok = ok and seen_ops == exp["events"]
    export = min((e.get("seq", 0) for e in own if e.get("op") == "export"), default=0)
    seen_scopes = [[e.get("scope"), e.get("revoked")] for e in scopes if e.get("seq", 0) > export]
    if seen_scopes != exp["scopes"]:
        ok = False
        diags.append("scopes entered after the export %s, expected %s" % (seen_scopes,
                                                                          exp["scopes"]))
    if vfio_waits_in_scope(objs, own, diags) is None:
        ok = False
    if not ok:
        diags.extend(event_lines(objs))
    return ok, diags


class VfioJudge(KernelJudge):
    """Every verdict about the VFIO guest of one kernel series."""

    def judge(self):
        self.boot()
        guest = self.guest
        bound = guest.get("vfio_driver") == "vfio-pci"
        diags = [] if bound else [read(os.path.join(self.res, "vfio-insmod.txt"), "") or ""]
        self.result(bound,
                    "ivshmem %s bound to vfio-pci (IOMMU group %s)" % (
                        guest.get("vfio_bdf", "?"), guest.get("vfio_group", "?")), diags)
        ok, diags = check_vfio_hooks(self.res)
        self.result(ok, "hooks: VFIO's revoke scopes and iommufd's map path attached", diags)
        ok, diags = check_vfio_hold(self.res, guest)
        self.result(ok, "control: with --module-mode fentry rmmod vfio_pci_core fails", diags)
        ok, diags = check_vfio_reload(self.series, self.res, guest, self.expects)
        self.result(ok, "watch: rmmod vfio_pci, vfio_pci_core and dat_importer succeed; loaded"
                    " again, the revoke of flow memory-bit is judged with the scopes attached"
                    " again", diags)
        names = []
        for exp in self.expects:
            if "vfio" not in exp or self.series not in exp.get("kernels", []):
                continue
            for kprobe in (False, True) if exp.get("kprobe") else (False,):
                names.append(vfio_case_name(exp, kprobe))
                what = ("VFIO %s" % exp["vfio"]) if "variant" not in exp else \
                    "bug variant %s (flow %s)" % (exp["variant"], exp["vfio"])
                what += " with --mode kprobe" if kprobe else ""
                ok, diags = check_vfio(self.series, self.res, exp, self.table.row(what), kprobe)
                self.result(ok, what, diags)
        self.judge_storms()
        diags, same = [], 0
        for name in names:
            same += replay_same(self.res, name, self.opts.bin, self.opts.policy, diags) is True
        self.result(names and same == len(names), "%d VFIO records replayed on the host give the"
                    " live findings and summary" % same, diags)

    def result(self, ok, what, diags=()):
        self.tap.result(ok, "%s VFIO guest: %s" % (self.series, what), diags)

    def judge_storms(self):
        """The revoke storms the guest's plan names (tests/storm): on the fixed
        drivers, then one per bug variant with that variant's rules at warning+."""
        plan = (self.guest.get("storm_plan") or "0 0").split()
        storms = [("storm-fixed", "fixed drivers", ())] if int(plan[0]) else []
        for exp in self.expects if int(plan[1]) else []:
            if "variant" in exp and self.series in exp.get("kernels", []):
                storms.append(("storm-variant-" + exp["variant"], "bug variant " + exp["variant"],
                               sorted({f["rule"] for f in exp["findings"]
                                       if f["severity"] in storm_judge.SEVERE})))
        for mode in ("kprobe", "fentry") if int(plan[0]) else ():
            km = os.path.join(self.res, "kprobe-misses-" + mode)
            objs, err = parse_jsonl(read(km + ".report", "") or "")
            ok, diags, line = storm_judge.judge_kprobe_misses(
                mode, objs, read_meta(km + ".meta"), read_meta(km + ".waiters"),
                read(km + ".out", "") or "")
            self.result(ok and not err, "kretprobe misses counted as lost (--mode %s): %s" % (
                mode, line), diags + ([err] if err else []))
        for name, what, rules in storms:
            row = self.table.row("revoke storm, " + what)
            row["expected"] = "warning+: " + (",".join(rules) or "none")
            objs, err = parse_jsonl(read(os.path.join(self.res, name + ".report"), "") or "")
            meta = read_meta(os.path.join(self.res, name + ".meta"))
            summary = read_meta(os.path.join(self.res, name + ".summary"))
            if err or not objs or not summary:
                row[self.series] = "FAIL: no report"
                self.result(False, "revoke storm on the %s" % what, [err or "no report or summary"])
                continue
            ok, diags, numbers = storm_judge.judge_storm(objs, meta, summary, rules)
            dmesg = read(os.path.join(self.res, name + ".dmesg"), "") or ""
            trouble = [l for l in dmesg.splitlines() if KERNEL_TROUBLE.search(l)]
            if trouble:
                ok = False
                diags.append("the kernel complained (a candidate kernel bug):")
                diags.extend(trouble[:20])
            by_rule = [o for o in objs if o.get("type") == "summary"][-1].get("by_rule", {})
            line = storm_judge.describe(numbers, summary, by_rule)
            line += "; guest time %.0f s" % (int(self.guest.get(name + "_guest_ms", 0)) / 1000.0)
            row[self.series] = ("ok: " if ok else "FAIL: ") + line
            self.result(ok, "revoke storm on the %s: %s" % (what, line), diags)


def print_times(kernels):
    for series, outdir in kernels:
        t = read_meta(os.path.join(outdir, "times.txt"))
        boot_ms = read_meta(os.path.join(outdir, "results", "guest.txt")).get("boot_ms", "?")
        print("# %s: build %ss, guest %ss (boot to /init %s ms), total %ss" % (
            series, t.get("build_s", "?"), t.get("guest_s", "?"), boot_ms, t.get("total_s", "?")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--policy", required=True, help="the policy the guest ran with")
    ap.add_argument("--kprobe-scenarios", default="", help="scenarios also run with --mode kprobe")
    ap.add_argument("--vfio", action="append", default=[], metavar="SERIES:OUTDIR",
                    help="the real-VFIO guest of SERIES (tests/vfio)")
    ap.add_argument("--kunit", default="", help="the kernel's kunit.py (tests/vm/kunit-parser.sh)")
    ap.add_argument("--skip", action="append", nargs=2, default=[], metavar=("WHAT", "REASON"),
                    help="a guest the plan cannot run: a TAP # SKIP with its reason")
    ap.add_argument("kernels", nargs="*", help="SERIES:OUTDIR")
    opts = ap.parse_args()
    kernels = [spec.partition(":")[::2] for spec in opts.kernels]
    vfio = [spec.partition(":")[::2] for spec in opts.vfio]
    if not kernels and not vfio and not opts.skip:
        ap.error("no guest to judge: give SERIES:OUTDIR or --vfio SERIES:OUTDIR")

    expects = load_expects(opts.expect)
    tap = Tap()
    check_expects_consistent(tap, expects)
    table = CaseTable()
    for series, outdir in kernels:
        KernelJudge(tap, table, opts, expects, series, outdir).judge()
    for series, outdir in vfio:
        VfioJudge(tap, table, opts, expects, series, outdir).judge()
    for what, reason in opts.skip:
        tap.skip(what, reason)

    print("1..%d" % tap.n)
    table.print(sorted({series for series, _ in kernels + vfio}))
    print_times(kernels + [(series + " VFIO guest", outdir) for series, outdir in vfio])
    print("# %d tests, %d failed" % (tap.n, tap.failed))
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
