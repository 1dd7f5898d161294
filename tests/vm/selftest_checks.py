# SPDX-License-Identifier: GPL-2.0
"""The kernel's dma-buf selftests under `run`, beyond the report
(tests/vm/init, phase "selftests"; judged for tests/vm/compare.py):

- events: the recorded trace, replayed on the host, holds the calls the
  test made: every op counted over all of its buffers, exactly as the
  expectation's "events_by_kernel" lists for this kernel (the op counts of
  a selftest are fixed by its code), and every buffer the test exported
  released, every attachment detached, every map unmapped within the run.
- nested: `run --format ktap -- TEST` with the report on standard output,
  one KTAP document, read by the kernel's own kunit.py
  (tests/vm/kunit-parser.sh; tests/lib/ktap_judge.py): the test's own subtest
  counted as kunit.py counts the test's untraced output, then the 16 rules
  of the audit, all passing; the exit status the untraced test's.
"""
import json
import os
import subprocess

import ktap_judge  # tests/lib/ktap_judge.py

RULES = 16
# the calls that must be undone within a selftest's run: opened by, closed by,
# and what names the object (a map by its attachment and sg_table)
PAIRS = [("export", "release", ("buf",)), ("attach", "detach", ("attach",)),
         ("map", "unmap", ("attach", "sgt")), ("pin", "unpin", ("attach",)),
         ("vmap", "vunmap", ("buf",))]


def op_counts(objs):
    """Events per op, and per pair how many successful opens were not closed."""
    counts = {}
    level = {opened: {} for opened, _, _ in PAIRS}
    for o in objs:
        if o.get("type") != "event":
            continue
        op = o["op"]
        counts[op] = counts.get(op, 0) + 1
        for opened, closed, names in PAIRS:
            key = tuple(o.get(n) for n in names)
            if op == opened and not o.get("ret"):
                level[opened][key] = level[opened].get(key, 0) + 1
            elif op == closed:
                level[opened][key] = level[opened].get(key, 0) - 1
    left = {(opened, closed): sum(1 for n in level[opened].values() if n > 0)
            for opened, closed, _ in PAIRS}
    return counts, left


def check_events(series, objs, exp, diags):
    """The selftest's events: exact counts per op on this kernel, everything closed."""
    counts, open_objs = op_counts(objs)
    ok = True
    want = exp.get("events_by_kernel", {}).get(series)
    if want is None:
        ok = False
        diags.append("no events_by_kernel entry for %s in the expectation; seen: %s" %
                     (series, json.dumps(counts, sort_keys=True)))
    else:
        for op in sorted(set(want) | set(counts)):
            if op.startswith("seed_"):
                continue
            if counts.get(op, 0) != want.get(op, 0):
                ok = False
                diags.append("%d %s event(s), expected %d" % (counts.get(op, 0), op,
                                                            want.get(op, 0)))
    for (opened, closed), n in sorted(open_objs.items()):
        if n:
            ok = False
            diags.append("%d %s without its %s within the run" % (n, opened, closed))
    return ok, counts


def own_counts(kunit, raw_out):
    """What kunit.py counts in the test's own (untraced) output."""
    parsed, _ = ktap_judge.parse(kunit, raw_out)
    return parsed["misc"]


def check_nested(kunit, res, name, test, raw_rc, diags):
    """The nested document of `run --format ktap -- TEST`, read by kunit.py."""
    doc = os.path.join(res, name + "-nested.ktap")
    meta = os.path.join(res, name + "-nested.meta")
    if not kunit:
        diags.append("no kunit.py given (--kunit): the nested document is not judged")
        return False
    if not os.path.exists(doc) or not os.path.exists(meta):
        diags.append("the nested run (run --format ktap, no -o) did not come back")
        return False
    ok = True
    with open(meta) as f:
        rc = f.read().split()[-1]
    if rc != raw_rc:
        ok = False
        diags.append("nested run exited %s, the test alone %s" % (rc, raw_rc))
    try:
        own = own_counts(kunit, os.path.join(res, name + "-raw.out"))
        parsed, printed = ktap_judge.parse(kunit, doc)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        diags.append("kunit.py: %s" % e)
        return False
    keys = ("tests", "passed", "failed", "skipped", "crashed")
    mine = {k: own[k] for k in keys}
    if raw_rc != "0" and own["failed"] == 0 and own["crashed"] == 0:
        mine["failed"] += 1  # its "not ok 1 TEST" by exit status, counted by kunit.py
    audit = {"tests": RULES, "passed": RULES, "failed": 0, "failing": []}
    expect = {
        "total": {"tests": own["tests"] + RULES, "errors": own["errors"]},
        "groups": [[test, mine], ["dmabuf-audit", audit]],
    }
    diffs = ktap_judge.compare(parsed, expect)
    if diffs:
        ok = False
        diags.append("kunit.py read the nested document otherwise:")
        diags.extend("  " + d for d in diffs)
        diags.extend("  kunit.py: " + l for l in printed.splitlines()[-12:])
    return ok
