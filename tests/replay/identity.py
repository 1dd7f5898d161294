# SPDX-License-Identifier: GPL-2.0
"""Kernel addresses (--addresses raw|hashed|none) and workload identity
(cgroup ids, CGROUP records, the finding's `cgroup`) in replays: cases of
tests/replay/run.py's SUITE_CASES.  docs/output.md "Kernel addresses" and
"Workload identity"."""

import json
import os
import re

from harness import TRACES, expect, json_report, run, split, tmp
from record_writer import REC_HEADER, cgroup_record, walk_records

DOCKER_ID = "3f2a9c1d5e7b8a60112233445566778899aabbccddeeff00112233445566aabb"
DOCKER_PATH = f"/system.slice/docker-{DOCKER_ID}.scope"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
HASHED = re.compile(r"h:[0-9a-f]{16}")
FORMATS = (["--format", "text", "--events"], ["--format", "json", "--events"],
           ["--format", "ktap"], ["--format", "junit"], ["--format", "perfetto"],
           ["--format", "html", "--all-buffers"])


def inputs():
    """Every hand-written trace and every recorded guest fixture, with its policy args."""
    out = [([], os.path.join(TRACES, f)) for f in sorted(os.listdir(TRACES))
           if f.endswith(".jsonl")]
    pol = ["--policy", os.path.join(FIXTURES, "policy")]
    out += [(pol, os.path.join(FIXTURES, f)) for f in sorted(os.listdir(FIXTURES))
            if f.endswith(".rec")]
    return out


def pointers_of(args, path):
    """The pointer values of a trace ("0x…", lower case) as a raw replay shows them."""
    _, objs, _ = json_report(["--addresses", "raw", "--events"] + args + [path])
    found = set()

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and re.fullmatch(r"0x[0-9a-fA-F]+", v) and int(v, 16):
            found.add(v.lower())
    walk(objs)
    return found


def leaked(text, pointers):
    """The trace's pointers that text shows, and any 0xffff… kernel address."""
    words = set(w.lower() for w in re.findall(r"0x[0-9a-fA-F]+", text))
    return sorted((words & pointers) | {w for w in words if w.startswith("0xffff")})


def test_hashed_hides_addresses(tap):
    for args, path in inputs():
        name = os.path.basename(path)

        def check(args=args, path=path):
            pointers = pointers_of(args, path)
            expect(pointers, "the trace has no pointer to hide")
            for fmt in FORMATS:
                for mode in ("hashed", "none"):
                    rc, out, err = run(["replay", "--addresses", mode] + fmt + args + [path])
                    expect(rc in (0, 1), f"{mode} {fmt}: exit {rc}: {err.strip()}")
                    bad = leaked(out + err, pointers)
                    expect(not bad, f"{mode} {' '.join(fmt)} shows {bad[:5]}")
                    if mode == "none":
                        expect(not HASHED.search(out), f"none {fmt} shows a hashed value")
            return None
        tap.check(f"--addresses hashed/none: {name}: no pointer of the trace in text, JSON,"
                  " KTAP, JUnit, Perfetto, HTML", check)


def event_pairs(raw, hashed):
    """(raw, hashed) for every pointer field of the same events of two replays."""
    pairs = []
    for r, h in zip(split(raw)[1], split(hashed)[1]):
        for k, v in r.items():
            if isinstance(v, str) and v.startswith("0x") and k in h:
                pairs.append((v, h[k]))
    return pairs


def test_hashed_messages(tap):
    """Each pointer in a finding's message is the hashed value of that same pointer in the
    events of the run: a message names the right object, not another pointer's hash."""
    for args, path in inputs():
        name = os.path.basename(path)

        def check(args=args, path=path):
            _, raw, _ = json_report(["--addresses", "raw", "--events"] + args + [path])
            _, hashed, _ = json_report(["--addresses", "hashed", "--events"] + args + [path])
            mapping = dict(event_pairs(raw, hashed))
            for r, h in zip(split(raw)[2], split(hashed)[2]):
                want = re.sub(r"0x[0-9a-f]+", lambda m: mapping.get(m.group(0), "?"), r["message"])
                expect(want == h["message"], f"hashed message {h['message']!r}, expected {want!r}")
            return None
        tap.check(f"--addresses hashed: {name}: each pointer of a message is its own hash", check)


def test_hashed_stable_within_run(tap):
    path = os.path.join(TRACES, "missing-fence-wait.jsonl")

    def check():
        _, raw, _ = json_report(["--addresses", "raw", "--events", path])
        _, h1, _ = json_report(["--addresses", "hashed", "--events", path])
        _, h2, _ = json_report(["--addresses", "hashed", "--events", path])
        pairs = event_pairs(raw, h1)
        expect(len(pairs) > 10, f"{len(pairs)} pointer fields")
        expect(all(HASHED.fullmatch(h) for _, h in pairs), f"not h:+16 hex: {pairs[:3]}")
        mapping = {}
        for r, h in pairs:
            expect(mapping.setdefault(r, h) == h, f"{r} hashed to {mapping[r]} and {h}")
        expect(len(set(mapping.values())) == len(mapping), "two pointers, one hashed value")
        f_raw, f1 = split(raw)[2], split(h1)[2]
        expect(f1[0]["buffer"]["ptr"] == mapping[f_raw[0]["buffer"]["ptr"]],
               "the finding's buffer is not its events' buffer")
        other = dict(event_pairs(raw, h2))
        expect(all(other[r] != h for r, h in mapping.items()),
               "a second run hashed with the same key")
        # the same findings, whatever the mode; a hashed report replays to them again
        hashed_path = tmp("hashed.jsonl")
        with open(hashed_path, "w") as f:
            f.write("\n".join(json.dumps(o) for o in split(h1)[1]) + "\n")
        _, again, _ = json_report(["--addresses", "raw", hashed_path])
        for objs in (h2, again):
            got = [(f["rule"], f["severity"], f["seq"]) for f in split(objs)[2]]
            want = [(f["rule"], f["severity"], f["seq"]) for f in f_raw]
            expect(got == want, f"findings {got}, expected {want}")
        _, raw2, _ = json_report(["--addresses", "raw", "--events", path])
        expect(split(raw2)[1:] == split(raw)[1:], "raw: two replays differ")
        return None
    tap.check("--addresses hashed: one pointer, one value for the whole run, another next run;"
              " the same findings, and a hashed report replays to them", check)

    def bad_option():
        rc, out, err = run(["replay", "--addresses", "hashes", path])
        expect(rc == 2 and "--addresses" in err and out == "", f"exit {rc}: {err.strip()}")
    tap.check("--addresses hashes: exit 2, the option named", bad_option)


def record_with_cgroups(name, cgroups, jsonl_extra):
    """The trace NAME with jsonl_extra on every event, recorded by the tool (format 3), and
    CGROUP records (id, path) spliced in after its HEADER: what a live recorder writes."""
    events = []
    with open(os.path.join(TRACES, name + ".jsonl")) as f:
        for line in f:
            if line.strip():
                o = json.loads(line)
                o.pop("comment", None)
                o.update(jsonl_extra)
                events.append(json.dumps(o))
    src = tmp(name + "-cg.jsonl")
    with open(src, "w") as f:
        f.write("\n".join(events) + "\n")
    rec = tmp(name + "-cg.bin")
    rc, out, err = run(["replay", "--format", "json", "--record", rec, src])
    expect(rc in (0, 1), f"recording {name}: exit {rc}: {err.strip()}")
    with open(rec, "rb") as f:
        data = f.read()
    first = walk_records(data)[1][0]  # the record after HEADER
    expect(walk_records(data)[0][1] == REC_HEADER, "the first record is not HEADER")
    spliced = data[:first] + b"".join(cgroup_record(i, p) for i, p in cgroups) + data[first:]
    with open(rec, "wb") as f:
        f.write(spliced)
    return src, rec


def test_workload_identity(tap):
    def check():
        src, rec = record_with_cgroups("missing-fence-wait", [(4242, DOCKER_PATH)],
                                       {"cgroup_id": 4242})
        _, objs, _ = json_report(["--events", rec], want_rc=1)
        _, events, findings, _, _ = split(objs)
        expect(all(e.get("cgroup_id") == 4242 for e in events), "events lost their cgroup_id")
        want = {"id": 4242, "path": DOCKER_PATH, "unit": f"docker-{DOCKER_ID}.scope",
                "container": DOCKER_ID, "pod": None}
        expect([f["cgroup"] for f in findings] == [want], f"cgroup {[f['cgroup'] for f in findings]}")
        rc, out, err = run(["replay", "--format", "text", rec])
        line = f"  workload    {DOCKER_PATH} (unit docker-{DOCKER_ID}.scope, container {DOCKER_ID})"
        expect(line.strip() in [x.strip() for x in out.splitlines()], f"no workload line in the text report: {out[:1500]}")
        rc, out, err = run(["replay", "--format", "html", rec])
        expect(f"container {DOCKER_ID}" in out, "the HTML report does not name the container")
        # recorded again, the names travel on
        again = tmp("again.bin")
        run(["replay", "--format", "json", "--record", again, rec])
        _, objs, _ = json_report([again], want_rc=1)
        expect([f["cgroup"] for f in split(objs)[2]] == [want], "lost in a second recording")
        # JSON Lines carry the id; without a CGROUP record the path is unknown
        _, objs, _ = json_report([src], want_rc=1)
        expect([f["cgroup"] for f in split(objs)[2]] ==
               [{"id": 4242, "path": None, "unit": None, "container": None, "pod": None}],
               f"JSON Lines: {[f['cgroup'] for f in split(objs)[2]]}")
        # a trace of format 2 (no cgroup ids): no workload
        _, objs, _ = json_report([os.path.join(TRACES, "missing-fence-wait.jsonl")], want_rc=1)
        expect([f["cgroup"] for f in split(objs)[2]] == [None], "a workload from nowhere")
        return None
    tap.check("workload identity: a CGROUP record names the finding's cgroup, unit and container"
              " in JSON, text and HTML, through a second recording", check)

    def policy():
        _, rec = record_with_cgroups("missing-fence-wait", [(4242, DOCKER_PATH)],
                                     {"cgroup_id": 4242})
        pol = tmp("workload.policy")
        cases = ((f"allow * container {DOCKER_ID[:12]}*\n", []),
                 ("allow * unit docker-*.scope\n", []),
                 ("allow missing-fence-wait cgroup /system.slice\n", []),
                 ("allow * unit sshd.service\n", ["critical"]),
                 ("allow * cgroup /user.slice\n", ["critical"]),
                 (f"severity * container {DOCKER_ID} warning\n", ["warning"]))
        for text, want in cases:
            with open(pol, "w") as f:
                f.write(text)
            _, objs, _ = json_report(["--policy", pol, rec], want_rc=1 if "critical" in want else 0)
            got = [f["severity"] for f in split(objs)[2]]
            expect(got == want, f"{text.strip()}: severities {got}, expected {want}")
        return None
    tap.check("policy: allow and severity by container, unit and cgroup prefix; not another's",
              policy)

    def bad_cgroup_record():
        _, rec = record_with_cgroups("missing-fence-wait", [(4242, "relative/path")],
                                     {"cgroup_id": 4242})
        rc, out, err = run(["replay", "--format", "json", rec])
        expect(rc == 2 and "CGROUP record" in err and "absolute path" in err,
               f"exit {rc}: {err.strip()}")
    tap.check("bad record: a CGROUP record without an absolute path -> exit 2", bad_cgroup_record)
