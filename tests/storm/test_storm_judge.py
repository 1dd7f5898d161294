#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The storm judge on made-up storms (make check, suite storm-judge): a clean
storm passes; each way a storm can be wrong (a false finding, an unexplained
info finding, too many of the explained one, a lost event no notice counts,
RSS growth, a refused access, a variant whose rule stays silent or that
brings another) fails, with the reason named.  TAP output."""
import copy
import sys

import storm_judge  # tests/lib/storm_judge.py

RULES = ("access-after-revoke", "access-attempt-after-revoke", "missing-fence-wait",
         "weak-fence-wait", "pinned-importer-left-revoked", "resv-not-held")
MiB = 1024 * 1024


def storm_summary(**over):
    s = {"seed": "1", "rounds": "20", "rounds_killed": "5", "rounds_failed": "0",
         "sequences": "300", "revokes": "40", "unrevokes": "38", "resets": "12",
         "device_closes": "15", "exports": "200", "maps": "150", "pins": "90",
         "map_files": "60", "prime_cycles": "500", "prime_imports": "370", "prime_mmaps": "250", "pinned_at_revoke": "30",
         "unexpected_errors": "0", "map_refused": "0", "map_file_refused": "0",
         "prime_errors": "0"}
    s.update({k: str(v) for k, v in over.items()})
    return s


def finding(rule, severity, ops="dat_vfio_importer_ops"):
    return {"type": "finding", "rule": rule, "severity": severity,
            "attachment": {"importer_ops": ops}}


def report(findings=(), lost=0, lost_notices=(), rss=(30 * MiB, 30 * MiB + 4096)):
    by_rule = {r: 0 for r in RULES}
    for f in findings:
        by_rule[f["rule"]] += 1
    objs = [{"type": "header"}]
    objs += [{"type": "stats", "rss_bytes": r} for r in rss]
    objs += list(findings)
    objs += [{"type": "notice", "kind": "lost", "count": n} for n in lost_notices]
    objs.append({"type": "summary", "events": 90000, "lost": lost, "by_rule": by_rule})
    return objs


META_OK = {"rc": "0", "storm_rc": "0", "ms": "75000"}

CASES = [
    # name, objs, meta, summary, expected rules, verdict, a word the diagnostics must hold
    ("a clean storm passes", report(), META_OK, storm_summary(), (), True, None),
    ("explained info findings pass",
     report([finding("pinned-importer-left-revoked", "info"),
             finding("pinned-importer-left-revoked", "info", "iopt_dmabuf_attach_revoke_ops")]),
     META_OK, storm_summary(), (), True, None),
    ("a warning on the fixed drivers fails",
     report([finding("access-attempt-after-revoke", "warning")]), META_OK, storm_summary(), (),
     False, "access-attempt-after-revoke"),
    ("an info finding of a non-pinning importer is not explained",
     report([finding("pinned-importer-left-revoked", "info", "amdgpu_dma_buf_attach_ops")]),
     META_OK, storm_summary(), (), False, "not explained"),
    ("more left-revoked importers than pinned ones at revokes fails",
     report([finding("pinned-importer-left-revoked", "info")] * 3), META_OK,
     storm_summary(pinned_at_revoke=2), (), False, "more than"),
    ("a loss no notice accounts for fails", report(lost=10, lost_notices=(4,)), META_OK,
     storm_summary(), (), False, "lost"),
    ("a loss the notices account for passes", report(lost=10, lost_notices=(4, 6)), META_OK,
     storm_summary(), (), True, None),
    ("RSS growth in the second half fails", report(rss=(30 * MiB, 31 * MiB, 40 * MiB)), META_OK,
     storm_summary(), (), False, "RSS grew"),
    ("the first half's warm-up is not growth",
     report(rss=(20 * MiB, 28 * MiB, 30 * MiB, 30 * MiB, 30 * MiB + 8192)), META_OK,
     storm_summary(), (), True, None),
    ("a refused map (the storm's own doing) fails", report(), META_OK,
     storm_summary(map_refused=1), (), False, "map_refused"),
    ("a storm that never revoked fails", report(), META_OK, storm_summary(revokes=0), (),
     False, "revokes"),
    ("watch killed without its summary fails", report()[:-1], META_OK, storm_summary(), (),
     False, "no summary"),
    ("a variant whose rule fires passes",
     report([finding("missing-fence-wait", "critical")]), dict(META_OK, rc="1"),
     storm_summary(), ("missing-fence-wait",), True, None),
    ("a variant whose rule stays silent fails", report(), META_OK, storm_summary(),
     ("weak-fence-wait",), False, "did not fire"),
    ("a variant that brings another rule fails",
     report([finding("weak-fence-wait", "warning"), finding("resv-not-held", "high")]),
     dict(META_OK, rc="1"), storm_summary(), ("weak-fence-wait",), False, "resv-not-held"),
    ("watch's exit status must follow --fail-on high",
     report([finding("missing-fence-wait", "critical")]), META_OK, storm_summary(),
     ("missing-fence-wait",), False, "watch exited"),
]


def km_report(lost=0, noticed=None, findings=()):
    noticed = lost if noticed is None else noticed
    objs = [{"type": "header"}] + list(findings)
    if noticed:
        objs.append({"type": "notice", "kind": "lost", "count": noticed})
    objs.append({"type": "summary", "lost": lost, "by_rule": {}})
    return objs


def km_out(missed, recursion=0):
    return "dmabuf-audit: 40 events delivered, %d lost (BPF ring buffer drops: 0), %d skipped " \
        "by the kernel (recursion misses), %d missed by kprobes, 0 late, 0 malformed\n" % (
            missed + recursion, recursion, missed)


KM_META = {"rc": "0", "waiters_rc": "0"}
KM_WAITERS = {"waiters": "20", "maxactive": "10", "returned": "20"}
# dat-storm --fence-waiters under watch --mode kprobe / fentry (judge_kprobe_misses)
KM_CASES = [
    ("kprobe: the returns past the instances counted and lost passes", "kprobe",
     km_report(10), KM_META, KM_WAITERS, km_out(10), True, None),
    ("kprobe: a miss more (another waiter elsewhere) passes", "kprobe",
     km_report(11), KM_META, KM_WAITERS, km_out(11), True, None),
    ("kprobe: misses not counted fails", "kprobe", km_report(0), KM_META, KM_WAITERS,
     km_out(0), False, "10 expected"),
    ("kprobe: misses counted but not lost fails", "kprobe", km_report(3), KM_META, KM_WAITERS,
     km_out(10), False, "3 lost"),
    ("kprobe: a loss no notice counts fails", "kprobe", km_report(10, noticed=4), KM_META,
     KM_WAITERS, km_out(10), False, "accounted for"),
    ("kprobe: no count printed fails", "kprobe", km_report(10), KM_META, KM_WAITERS, "",
     False, "no count"),
    ("kprobe: no more waiters than instances proves nothing", "kprobe", km_report(0), KM_META,
     dict(KM_WAITERS, waiters="10", returned="10"), km_out(0), False, "maxactive"),
    ("kprobe: a waiter that did not return fails", "kprobe", km_report(10), KM_META,
     dict(KM_WAITERS, returned="19"), km_out(10), False, "returned"),
    ("fentry: nothing lost passes", "fentry", km_report(0), KM_META, KM_WAITERS, km_out(0),
     True, None),
    ("fentry: a kprobe miss counted fails", "fentry", km_report(2), KM_META, KM_WAITERS,
     km_out(2), False, "under fentry"),
    ("fentry: recursion misses (a waiter preempted in our program), counted and noticed, pass",
     "fentry", km_report(5), KM_META, KM_WAITERS, km_out(0, recursion=5), True, None),
    ("fentry: a loss beyond the recursion misses fails", "fentry", km_report(5), KM_META,
     KM_WAITERS, km_out(0, recursion=3), False, "under fentry"),
    ("fentry: recursion misses not noticed fail", "fentry", km_report(5, noticed=0), KM_META,
     KM_WAITERS, km_out(0, recursion=5), False, "accounted for"),
    ("fentry: a finding at warning+ fails", "fentry",
     km_report(0, findings=[finding("missing-fence-wait", "critical")]), KM_META, KM_WAITERS,
     km_out(0), False, "warning or above"),
]


def main():
    failed = 0
    for n, (name, objs, meta, summary, rules, want, word) in enumerate(CASES, 1):
        ok, diags, numbers = storm_judge.judge_storm(copy.deepcopy(objs), meta, summary, rules)
        good = ok == want and (word is None or any(word in d for d in diags))
        failed += not good
        print("%s %d - %s" % ("ok" if good else "not ok", n, name))
        if not good:
            print("#   judged %s, expected %s; diagnostics %s" % (ok, want, diags))
    # the numbers a storm reports
    ok, diags, numbers = storm_judge.judge_storm(report(), META_OK, storm_summary())
    good = (numbers["revokes"] == 67 and round(numbers["revokes_per_min"]) == 54 and
            numbers["events_per_s"] == 1200 and numbers["rss_start"] == 30 * MiB)
    failed += not good
    print("%s %d - revokes (memory bit, resets, device closes) per minute and events per "
          "second: %s" % ("ok" if good else "not ok", len(CASES) + 1, numbers))
    for name, mode, objs, meta, waiters, out, want, word in KM_CASES:
        ok, diags, line = storm_judge.judge_kprobe_misses(mode, objs, meta, waiters, out)
        good = ok == want and (word is None or any(word in d for d in diags))
        failed += not good
        n += 1
        print("%s %d - %s" % ("ok" if good else "not ok", n + 1, name))
        if not good:
            print("#   judged %s, expected %s; diagnostics %s" % (ok, want, diags))
    print("1..%d" % (n + 1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
