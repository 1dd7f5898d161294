#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ktap_judge.py KUNIT_PY DOC EXPECT: read DOC with the kernel's own parser
(`kunit.py parse --json`) and compare what it read with EXPECT, a JSON
object:

  {"total": {"tests": N, "passed": N, "failed": N, "skipped": N, "crashed": N, "errors": N},
   "groups": [["NAME", {"tests": N, ..., "failing": ["case", ...]}], ...]}

"groups" are the top-level tests that have subtests, in document order;
"failing" the names of their subtests that kunit.py reports FAIL.  Every
figure given must be exactly what kunit.py counted.  Exit 0 when all
match, 1 with "# " diagnostics when not, 2 when kunit.py could not run.
Used by tests/ktap/run.sh and tests/vm/compare.py.
"""
import json
import os
import subprocess
import sys
import tempfile


def parse(kunit, doc):
    """kunit.py's JSON of DOC and its printed output."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "parsed.json")
        # (kunit.py changes into the kernel tree: the document by its absolute path)
        p = subprocess.run([sys.executable, kunit, "parse", "--json=" + out, os.path.abspath(doc)],
                           capture_output=True, text=True, timeout=120)
        if not os.path.exists(out):
            raise RuntimeError("kunit.py parse wrote no JSON (exit %d): %s" %
                               (p.returncode, (p.stdout + p.stderr)[-1500:]))
        with open(out) as f:
            return json.load(f), p.stdout


def compare(parsed, expect):
    """The differences between what kunit.py read and what was expected."""
    diffs = []
    for key, want in expect.get("total", {}).items():
        got = parsed["misc"].get(key)
        if got != want:
            diffs.append("whole document: %s %s, expected %s" % (key, got, want))
    groups = [g for g in parsed["sub_groups"]]
    want_groups = expect.get("groups", [])
    names = [g["name"] for g in groups]
    if names != [n for n, _ in want_groups]:
        diffs.append("top-level tests with subtests %s, expected %s" %
                     (names, [n for n, _ in want_groups]))
    for g, (name, want) in zip(groups, want_groups):
        for key, value in want.items():
            if key == "failing":
                got = [t["name"] for t in g["test_cases"] if t["status"] == "FAIL"]
            else:
                got = g["misc"].get(key)
            if got != value:
                diffs.append("%s: %s %s, expected %s" % (name, key, got, value))
    return diffs


def main():
    if len(sys.argv) != 4:
        print("usage: ktap_judge.py KUNIT_PY DOC EXPECT_JSON", file=sys.stderr)
        return 2
    kunit, doc, expect = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    try:
        parsed, printed = parse(kunit, doc)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        print("# %s" % e)
        return 2
    diffs = compare(parsed, expect)
    for d in diffs:
        print("# " + d)
    if diffs:
        for line in printed.splitlines()[-25:]:
            print("#   kunit.py: " + line)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
