"""The revoke storm's judge (docs/testing.md, "Revoke storm").

tests/vm/compare.py reads a storm's files from the VFIO guest
(tests/storm/guest.sh: NAME.report, .meta, .summary) and calls judge_storm();
tests/storm/test_storm_judge.py runs it on made-up reports in `make check`.

On the fixed drivers (expected_rules empty) a storm passes when:
  - the storm ran: at least one round that was not killed nor failed, and
    revokes, resets, exports and maps happened; the storm's own steps
    raised no unexpected error and no access was refused (the storm only
    asks for one while the memory is enabled: a refused one would be the
    storm's doing, not the driver's);
  - watch ended with its summary (exit status 0) and reported no finding at
    warning or above;
  - every info finding is explained: pinned-importer-left-revoked of a
    pinning importer (the test importer or iommufd), no more of them than
    pinned imports were alive at the storm's revokes (the storm counts them);
  - no event lost that the report does not account for: the summary's lost
    count equals the sum of the lost notices' counts;
  - the tool's resident memory flat: the last stats record's rss_bytes at
    most 5 % + 2 MiB above the one halfway through the storm (the soak
    test's bound; the first half is the tables' warm-up, reported as the
    start).
With a historical bug variant (expected_rules: the rules at warning or
above of its expectation file), each of those rules fires at least once and
no other rule at warning or above; info findings and the rest as above
(watch's exit status is then 1 when a rule at high or above fired).
"""

# the importers the storm pins with: the test importer, iommufd, and the test
# importer without callback that the vfio-accept-nonrevocable variant accepts
# (the fixed VFIO refuses it: it never gets that far there)
PINNING_IMPORTERS = ("dat_vfio_importer_ops", "iopt_dmabuf_attach_revoke_ops",
                     "dat_nocb_importer_ops")
EXPLAINED_INFO = "pinned-importer-left-revoked"
SEVERE = ("critical", "high", "warning")
RSS_SLACK = 2 * 1024 * 1024


def storm_numbers(summary, report_summary, stats, ms):
    """The figures a storm reports: events/s, revokes/min, RSS start and end."""
    minutes = max(ms, 1) / 60000.0
    revokes = sum(int(summary.get(k, 0)) for k in ("revokes", "resets", "device_closes"))
    events = int(report_summary.get("events", 0))
    rss = [s.get("rss_bytes") for s in stats if s.get("rss_bytes")]
    return {
        "events": events,
        "events_per_s": events / (minutes * 60.0),
        "revokes": revokes,
        "revokes_per_min": revokes / minutes,
        "rss_start": rss[0] if rss else None,
        "rss_end": rss[-1] if rss else None,
    }


def check_storm_ran(summary, diags):
    """The storm did what it exists for, without errors of its own."""
    ok = True
    finished = int(summary.get("rounds", 0)) - int(summary.get("rounds_killed", 0)) - \
        int(summary.get("rounds_failed", 0))
    if finished < 1 or int(summary.get("rounds_failed", 0)):
        ok = False
        diags.append("rounds: %s run, %s killed, %s failed (the storm's own setup)" % (
            summary.get("rounds"), summary.get("rounds_killed"), summary.get("rounds_failed")))
    for key in ("revokes", "unrevokes", "resets", "exports", "maps", "pins", "map_files",
                "prime_cycles", "prime_imports", "prime_mmaps"):
        if int(summary.get(key, 0)) < 1:
            ok = False
            diags.append("the storm did no %s" % key)
    for key in ("unexpected_errors", "map_refused", "map_file_refused", "prime_errors"):
        if int(summary.get(key, 0)):
            ok = False
            diags.append("the storm counted %s %s (its stderr says which)" % (
                summary.get(key), key))
    return ok


def check_findings(objs, by_rule, expected_rules, summary, diags):
    """No rule at warning or above but the expected ones, each of those fired,
    every info finding explained."""
    ok = True
    findings = [o for o in objs if o.get("type") == "finding"]
    severity = {}
    for f in findings:
        severity.setdefault(f.get("rule"), f.get("severity"))
    for rule, count in sorted(by_rule.items()):
        if not count:
            continue
        sev = severity.get(rule)
        if rule in expected_rules:
            continue
        if sev in SEVERE or (sev is None and rule != EXPLAINED_INFO):
            ok = False
            diags.append("unexpected finding %s (%s) x%d" % (rule, sev, count))
    for rule in expected_rules:
        if not by_rule.get(rule):
            ok = False
            diags.append("the variant's rule %s did not fire" % rule)
    for f in findings:
        if f.get("severity") != "info" or f.get("rule") in expected_rules:
            continue
        ops = (f.get("attachment") or {}).get("importer_ops")
        if f.get("rule") != EXPLAINED_INFO or ops not in PINNING_IMPORTERS:
            ok = False
            diags.append("info finding not explained by the storm: %s on %s" % (
                f.get("rule"), ops))
    left = by_rule.get(EXPLAINED_INFO, 0)
    bound = int(summary.get("pinned_at_revoke", 0))
    if left > bound:
        ok = False
        diags.append("%d %s, more than the %d pinned imports alive at the storm's revokes" % (
            left, EXPLAINED_INFO, bound))
    return ok


def judge_storm(objs, meta, summary, expected_rules=()):
    """objs: the watch report's JSON objects; meta: the guest's .meta (rc,
    storm_rc, ms); summary: the storm's counters.  Returns (ok, diags, numbers)."""
    diags = []
    ends = [o for o in objs if o.get("type") == "summary"]
    stats = [o for o in objs if o.get("type") == "stats"]
    if not ends:
        return False, ["the watch report has no summary (watch did not end cleanly)"], {}
    end = ends[-1]
    ok = check_storm_ran(summary, diags)
    if meta.get("storm_rc") != "0":
        ok = False
        diags.append("dat-storm exited %s" % meta.get("storm_rc"))
    by_rule = end.get("by_rule", {})
    # --fail-on high: watch exits 1 once a finding at high or above was reported
    want_rc = "1" if any(o.get("severity") in ("critical", "high") for o in objs
                         if o.get("type") == "finding") else "0"
    if meta.get("rc") != want_rc:
        ok = False
        diags.append("watch exited %s, expected %s" % (meta.get("rc"), want_rc))
    ok = check_findings(objs, by_rule, expected_rules, summary, diags) and ok
    lost_noticed = sum(int(o.get("count", 0)) for o in objs
                       if o.get("type") == "notice" and o.get("kind") == "lost")
    if int(end.get("lost", 0)) != lost_noticed:
        ok = False
        diags.append("%s events lost, %d accounted for by lost notices" % (end.get("lost"),
                                                                         lost_noticed))
    numbers = storm_numbers(summary, end, stats, int(meta.get("ms", "0") or 0))
    numbers["lost"] = int(end.get("lost", 0))
    rss = [s["rss_bytes"] for s in stats if s.get("rss_bytes")]
    if len(rss) < 2:
        ok = False
        diags.append("fewer than two stats records: the RSS cannot be compared")
    elif rss[-1] > rss[len(rss) // 2] * 1.05 + RSS_SLACK:
        ok = False
        diags.append("RSS grew from %d (halfway) to %d bytes (start %d)" % (
            rss[len(rss) // 2], rss[-1], rss[0]))
    return ok, diags, numbers


KPROBE_MISSES_RE = r"(\d+) missed by kprobes"
RECURSION_MISSES_RE = r"(\d+) skipped by the kernel \(recursion misses\)"


def judge_kprobe_misses(mode, objs, meta, waiters, out):
    """dat-storm --fence-waiters under `watch -v --mode MODE` (guest.sh,
    kprobe_misses_run): objs the report, meta its .meta, waiters the
    program's "key value" lines, out watch's stderr.  With kprobe, the
    waiters past the kretprobe's instances (waiters - maxactive) are missed
    returns: the tool counts at least that many kprobe misses, all of them
    lost and accounted for by lost notices.  With fentry no kprobe miss is
    counted; a loss there must be the kernel's recursion misses, counted and
    noticed: on a preemptible kernel (7.3 is PREEMPT_LAZY) a tracing program
    runs with migration, not preemption, disabled, so a waiter preempted
    inside our fexit program makes the next waiter's run on that CPU a
    "recursion" the kernel skips (bpf_prog->active).  Returns (ok, diags, line)."""
    import re
    diags = []
    ends = [o for o in objs if o.get("type") == "summary"]
    if not ends:
        return False, ["the watch report has no summary"], "no summary"
    lost = int(ends[-1].get("lost", 0))
    noticed = sum(int(o.get("count", 0)) for o in objs
                  if o.get("type") == "notice" and o.get("kind") == "lost")
    counted = re.findall(KPROBE_MISSES_RE, out)
    missed = int(counted[-1]) if counted else None
    recursion = re.findall(RECURSION_MISSES_RE, out)
    recursion = int(recursion[-1]) if recursion else 0
    n, maxactive = int(waiters.get("waiters", 0)), int(waiters.get("maxactive", 0))
    expected = max(n - maxactive, 0) if mode == "kprobe" else 0
    ok = meta.get("rc") == "0" and meta.get("waiters_rc") == "0" and n > maxactive and \
        int(waiters.get("returned", -1)) == n
    if not ok:
        diags.append("watch exited %s, the waiters %s: %s waiters, %s returned, maxactive %s" % (
            meta.get("rc"), meta.get("waiters_rc"), n, waiters.get("returned"), maxactive))
    if missed is None:
        ok = False
        diags.append("watch -v printed no count of kprobe misses")
    elif mode == "kprobe" and not (expected <= missed <= lost):
        ok = False
        diags.append("%s kprobe misses counted, %d expected (%d waiters, %d instances), "
                     "%d lost" % (missed, expected, n, maxactive, lost))
    elif mode != "kprobe" and (missed or lost > recursion):
        ok = False
        diags.append("%d kprobe misses, %d lost (%d of them recursion misses) under %s" % (
            missed, lost, recursion, mode))
    if lost != noticed:
        ok = False
        diags.append("%d events lost, %d accounted for by lost notices" % (lost, noticed))
    severe = [o.get("rule") for o in objs
              if o.get("type") == "finding" and o.get("severity") in SEVERE]
    if severe:
        ok = False
        diags.append("findings at warning or above: %s" % ",".join(sorted(set(severe))))
    line = "%d waiters, %d kretprobe instances: %s kprobe misses counted, %d lost" % (
        n, maxactive, missed, lost)
    if recursion:
        line += " (%d recursion misses)" % recursion
    return ok, diags, line


def describe(numbers, summary, by_rule):
    """One line for the TAP output and the table."""
    fired = ",".join("%s=%d" % kv for kv in sorted(by_rule.items()) if kv[1]) or "none"
    return ("seed %s: %s rounds (%s killed), %s sequences, %d revokes (%.0f/min), %d events "
            "(%.0f/s), %d lost, findings %s, RSS %s -> %s" % (
                summary.get("seed"), summary.get("rounds"), summary.get("rounds_killed"),
                summary.get("sequences"), numbers.get("revokes", 0),
                numbers.get("revokes_per_min", 0), numbers.get("events", 0),
                numbers.get("events_per_s", 0), numbers.get("lost", 0), fired,
                numbers.get("rss_start"), numbers.get("rss_end")))
