#!/usr/bin/env python3
"""Judge the iommufd selftest guest (tests/vm/vm-iommufd-selftest.sh).

check.py BIN OUTDIR: decodes OUTDIR/results.stream (tests/vm/init's framing),
replays each run's record with BIN (`replay --format json --events`) and
prints TAP: the selftest's own KTAP result, the events of every dma-buf test
case, and exactly the expected findings per test case (none for the others).

A test case is told apart by its process: the kselftest harness forks one
child per test case and runs them one after the other, so the n-th process
that exports a mock dma-buf is the n-th dma-buf test case in the selftest's
own KTAP (only dmabuf_simple and dmabuf_revoke export one).
"""
import json
import os
import re
import subprocess
import sys

from guest_results import Tap, decode_stream  # tests/lib/guest_results.py

DMABUF_TESTS = ("dmabuf_simple", "dmabuf_revoke")
VARIANTS = ("no_domain", "mock_domain", "two_mock_domain", "mock_domain_limit")
ENODEV = -19
SYNC_WORDS = ("is a pinning importer (iopt_dmabuf_attach_revoke_ops) that unmaps "
              "synchronously", "allow missing-fence-wait exporter iommufd")


def selftest_results(path):
    """The selftest's own KTAP: [(ok, name)] in run order, and its Totals line."""
    results, totals = [], None
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^(not ok|ok) \d+ (\S+)", line)
            if m:
                results.append((m.group(1) == "ok", m.group(2)))
            m = re.match(r"^# Totals: (.*)$", line)
            if m:
                totals = m.group(1)
    return results, totals


ALLOW_LINE = "allow missing-fence-wait exporter iommufd\n"


def replay(binary, rec, allowed):
    """The record judged again on the host, with the policy the guest's run had."""
    cmd = [binary, "replay", "--format", "json", "--events", rec]
    if allowed:
        policy = rec + ".policy"
        with open(policy, "w") as f:
            f.write(ALLOW_LINE)
        cmd += ["--policy", policy]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    lines = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    return out.returncode, lines, out.stderr


def by_case(records, cases):
    """{test case name: (events, findings)} by the process that exported."""
    events = [r for r in records if r.get("type", "event") == "event" and "op" in r]
    findings = [r for r in records if r.get("type") == "finding"]
    pids = []
    for e in events:
        if e["op"] == "export" and e.get("exporter") == "iommufd" and e["pid"] not in pids:
            pids.append(e["pid"])
    dma = [name for _, name in cases if name.split(".")[-1] in DMABUF_TESTS]
    split = {name: ([], []) for name in dma}
    owner = dict(zip(pids, dma))
    stray = []
    for e in events:
        if e["pid"] in owner:
            split[owner[e["pid"]]][0].append(e)
    for f in findings:
        if f["pid"] in owner:
            split[owner[f["pid"]]][1].append(f)
        else:
            stray.append(f)
    return split, pids, dma, stray


def check_events(kind, evs):
    """What a dma-buf test case must show: [] when it does, else the problems."""
    ops = [e["op"] for e in evs]
    maps = [e for e in evs if e["op"] == "map" and e.get("phys")]
    bad = []
    for op in ("export", "attach", "pin", "unpin", "detach", "release"):
        if op not in ops:
            bad.append("no %s event" % op)
    if not any(m["ret"] == 0 for m in maps):
        bad.append("no successful map through iommufd_test_dma_buf_iommufd_map (phys)")
    if ops.count("pin") != ops.count("unpin"):
        bad.append("%d pins, %d unpins" % (ops.count("pin"), ops.count("unpin")))
    if kind == "dmabuf_simple":
        if "invalidate" in ops or "scope_enter" in ops:
            bad.append("an invalidate or revoke scope in dmabuf_simple")
        return bad
    enters = [(i, e) for i, e in enumerate(evs) if e["op"] == "scope_enter"]
    if [e.get("revoked") for _, e in enters] != [True, False]:
        bad.append("revoke scopes entered with revoked %s, expected [true, false]"
                   % [e.get("revoked") for _, e in enters])
        return bad
    for i, e in enters:
        if e["scope"] != "iommufd_test_dmabuf_revoke":
            bad.append("scope %s" % e["scope"])
        inner = evs[i + 1:i + 4]
        if not any(x["op"] == "invalidate" for x in inner):
            bad.append("no invalidate inside the scope at seq %d" % e["seq"])
    revoke, unrevoke = enters[0][0], enters[1][0]
    refused = [m for m in evs[revoke:unrevoke] if m["op"] == "map" and m.get("phys")]
    if [m["ret"] for m in refused] != [ENODEV]:
        bad.append("maps while revoked returned %s, expected [-19]" % [m["ret"] for m in refused])
    if not any(m["ret"] == 0 for m in evs[unrevoke:] if m["op"] == "map" and m.get("phys")):
        bad.append("no successful map after the un-revoke")
    if not any(m["ret"] == 0 for m in evs[:revoke] if m["op"] == "map" and m.get("phys")):
        bad.append("no successful map before the revoke")
    return bad


def expected_findings(kind, allowed):
    if kind == "dmabuf_simple":
        return []
    exp = [("pinned-importer-left-revoked", "info")]
    if not allowed:
        exp.append(("missing-fence-wait", "critical"))
    return sorted(exp)


def audit_ktap(path):
    """Our live report: {rule: ok} and whether it is one KTAP version 1 document."""
    lines = open(path, errors="replace").read().splitlines()
    rules = {}
    for line in lines:
        m = re.match(r"^(not ok|ok) \d+ (\S+)", line)
        if m:
            rules[m.group(2)] = m.group(1) == "ok"
    whole = bool(lines) and lines[0] == "KTAP version 1" and "1..%d" % len(rules) in lines
    return rules, whole


def check_run(tap, binary, res, name, allowed=False, full=False):
    for part in ("selftest.ktap", "rec", "meta", "audit.ktap"):
        if not os.path.exists(os.path.join(res, "%s.%s" % (name, part))):
            tap.result(False, "%s: the guest sent %s.%s" % (name, name, part))
            return
    meta = dict(l.split(None, 1) for l in open(os.path.join(res, name + ".meta")).read().splitlines())
    cases, totals = selftest_results(os.path.join(res, name + ".selftest.ktap"))
    dma = [n for _, n in cases if n.split(".")[-1] in DMABUF_TESTS]
    failed = [n for ok, n in cases if not ok]
    want = ["iommufd_ioas.%s.%s" % (v, t) for v in VARIANTS for t in DMABUF_TESTS]
    tap.result(sorted(dma) == sorted(want) and not [n for n in failed if n in want],
               "%s: the selftest's own KTAP: the 8 dma-buf test cases ran and passed" % name,
               ["Totals: %s" % totals, "failed: %s" % failed, "dma-buf cases: %s" % dma])
    if full:
        tap.result(len(cases) > len(want) and not failed,
                   "%s: the selftest's own KTAP: every test case passed under the tool (%d)"
                   % (name, len(cases)), ["Totals: %s" % totals, "failed: %s" % failed])
    rc, records, err = replay(binary, os.path.join(res, name + ".rec"), allowed)
    tap.result(rc in (0, 1) and records, "%s: the record replays (exit %d)" % (name, rc),
               err.splitlines()[-5:])
    split, pids, dma, stray = by_case(records, cases)
    tap.result(len(pids) == len(dma) == 8,
               "%s: one exporting process per dma-buf test case" % name,
               ["exporting pids %s, dma-buf cases %s" % (pids, dma)])
    tap.result(not stray, "%s: no finding outside the dma-buf test cases" % name,
               ["%s: %s" % (f["rule"], f["message"]) for f in stray])
    for case in dma:
        evs, finds = split[case]
        kind = case.split(".")[-1]
        bad = check_events(kind, evs)
        tap.result(not bad, "%s: %s: its events" % (name, case),
                   bad + [" ".join("%s%s" % (e["op"], "(%d)" % e["ret"] if "ret" in e and e["op"] == "map" else "")
                                   for e in evs)])
        got = sorted((f["rule"], f["severity"]) for f in finds)
        ok = got == expected_findings(kind, allowed)
        for f in finds:
            if f["rule"] == "missing-fence-wait":
                ok = ok and all(w in f["message"] for w in SYNC_WORDS)
                ok = ok and (f["buffer"] or {}).get("exporter") == "iommufd"
        tap.result(ok, "%s: %s: findings %s" % (name, case, got or "none"),
                   ["expected %s" % expected_findings(kind, allowed)] +
                   ["%s: %s" % (f["rule"], f["message"]) for f in finds])
    summary = [r for r in records if r.get("type") == "summary"]
    if allowed and summary:
        sup = summary[-1].get("suppressed")
        tap.result(sup == 4, "%s: the policy line allowed 4 missing-fence-waits (suppressed %s)"
                   % (name, sup))
    rules, whole = audit_ktap(os.path.join(res, name + ".audit.ktap"))
    failing = sorted(r for r, ok in rules.items() if not ok)
    want_failing = [] if allowed else ["missing-fence-wait"]
    tap.result(whole and len(rules) == 16 and failing == want_failing,
               "%s: our KTAP report (-o): 16 rules, failing %s" % (name, want_failing or "none"),
               ["failing: %s" % failing])
    want_rc = 0 if allowed else 1
    tap.result(meta.get("rc") == str(want_rc) or full,
               "%s: dmabuf-audit run exit status %s (expected %d)" % (name, meta.get("rc"), want_rc),
               [open(os.path.join(res, name + ".err"), errors="replace").read()[-600:]])


def main():
    binary, outdir = sys.argv[1], sys.argv[2]
    full = len(sys.argv) > 3 and sys.argv[3] == "--full"
    tap = Tap()
    names, done, errors = decode_stream(outdir)
    res = os.path.join(outdir, "results")
    tap.result(done and not errors, "the guest finished and every result arrived whole", errors)
    guest = {}
    if os.path.exists(os.path.join(res, "guest.txt")):
        for line in open(os.path.join(res, "guest.txt")):
            k, _, v = line.strip().partition(" ")
            guest[k] = v
    tap.result(guest.get("dev_iommu") == "yes" and "insmod_failed" not in guest,
               "iommufd.ko loaded, /dev/iommu present (kernel %s)" % guest.get("kernel"))
    tap.result(guest.get("revoke_scope_symbol") == "yes",
               "iommufd_test_dmabuf_revoke is a function of its own (kallsyms)")
    hooks = {}
    if os.path.exists(os.path.join(res, "hooks.json")):
        try:
            for h in json.load(open(os.path.join(res, "hooks.json")))["hooks"]:
                hooks[h["function"]] = h
        except (ValueError, KeyError):
            pass
    for fn in ("iommufd_test_dmabuf_revoke", "iommufd_test_dma_buf_iommufd_map"):
        h = hooks.get(fn, {})
        tap.result(h.get("attached") is True and h.get("module") == "iommufd",
                   "hooks: %s attached in module iommufd (%s)" % (fn, h.get("mode")),
                   [json.dumps(h)])
    check_run(tap, binary, res, "dmabuf")
    check_run(tap, binary, res, "dmabuf-allowed", allowed=True)
    if full:
        check_run(tap, binary, res, "full", full=True)
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
