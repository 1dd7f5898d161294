# SPDX-License-Identifier: GPL-2.0
"""The live checks around the test module's bench entry (tests/vm/init, phases
"bench smoke" and "loss"), judged for tests/vm/compare.py.

- bench smoke: a short pass of every hot path of the bench entry under `run
  --events`: every path ran (no timing is judged: these machines are noisy),
  no finding on these correct flows, no event lost, run's exit status 0.
- loss: the map/unmap burst of the bench entry (path map-unmap-unlocked, N
  cycles of a static importer on a static exporter) under `run`, once with
  the default ring buffer (calibration: nothing lost, exactly N maps and N
  unmaps, the events per cycle on this kernel (2, or 3 where a static
  importer's map waits for the fences) and the events of the bench's set-up
  and teardown), once with DMABUF_AUDIT_RINGBUF_SIZE=4096 (one page: 23
  records) and a larger N: events lost, and every one of them counted
  (events + lost == per cycle x N + the set-up's events), the two buffers and two
  attachments alive at the loss made partial, so no finding.
- container: the missing-fence-wait trigger run in a container-shaped
  cgroup (system.slice/docker-<64 hex>.scope) under `run --addresses
  hashed`: the finding names that container, its unit and cgroup path, in
  JSON and text; no kernel address (0xff…, 16 digits) in either report; the record
  (raw) replayed on the host names the container too (its CGROUP record).
- service: `watch` as systemd runs it (tests/vm/init, phase "watch service"):
  sd_notify to a listener of the test's own (tests/vm/dat-notify.c), SIGHUP,
  stats records, metrics, SIGTERM with nothing left attached.
"""
import json
import os
import re
import subprocess

BENCH_PATHS = ["attach-detach", "map-unmap", "map-unmap-unlocked", "pin-unpin", "vmap-vunmap",
               "vmap-vunmap-unlocked", "revoke", "ww-mutex"]


def _summary(objs):
    s = [o for o in objs if o.get("type") == "summary"]
    return s[-1] if s else None


def _findings(objs):
    return [o for o in objs if o.get("type") == "finding"]


def _case(load, name, diags):
    """(meta, report objects, summary) of a case, or None with diags filled."""
    meta, objs = load(name, diags)
    if meta is None or objs is None:
        return None
    summary = _summary(objs)
    if summary is None:
        diags.append("%s: the report has no summary" % name)
        return None
    for f in _findings(objs):
        diags.append("%s: unexpected finding %s: %s" % (name, f.get("rule"), f.get("message")))
    if meta.get("rc") != "0":
        diags.append("%s: run exited %s, expected 0" % (name, meta.get("rc")))
    return meta, objs, summary


def check_bench_smoke(res, load):
    diags = []
    case = _case(load, "bench-smoke", diags)
    if case is None:
        return False, diags
    meta, objs, summary = case
    text = ""
    path = os.path.join(res, "bench-smoke.txt")
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    ran = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            ran[fields[0]] = int(fields[1])
        else:
            diags.append("bench: " + line)
    missing = [p for p in BENCH_PATHS if ran.get(p) != 50]
    if missing:
        diags.append("paths that did not run 50 times: " + " ".join(missing))
    if summary.get("lost") != 0:
        diags.append("%s events lost" % summary.get("lost"))
    ok = meta["_ok"] and not missing and not diags
    return ok, diags


def _ops(objs):
    counts = {}
    for o in objs:
        if o.get("type") == "event":
            counts[o.get("op")] = counts.get(o.get("op"), 0) + 1
    return counts


def check_loss(res, guest, load):
    diags = []
    n_cal = int(guest.get("loss_calibrate_n", "0") or 0)
    n_loss = int(guest.get("loss_n", "0") or 0)
    cal = _case(load, "loss-calibrate", diags)
    loss = _case(load, "loss", diags)
    if cal is None or loss is None or not n_cal or not n_loss:
        return False, diags or ["the loss cases did not run"]
    _, cal_objs, cal_sum = cal
    _, _, loss_sum = loss
    ops = _ops(cal_objs)
    if cal_sum.get("lost") != 0:
        diags.append("calibration (default ring): %s events lost" % cal_sum.get("lost"))
    if ops.get("map") != n_cal or ops.get("unmap") != n_cal:
        diags.append("calibration: %s maps and %s unmaps, expected %d each" %
                     (ops.get("map"), ops.get("unmap"), n_cal))
    # the ops of every cycle (map, unmap; on 7.x also the fence wait of a static
    # importer's map) appear exactly n_cal times; the rest is set-up and teardown
    per_cycle = sum(c for c in ops.values() if c == n_cal) // n_cal
    setup = cal_sum.get("events", 0) - per_cycle * n_cal
    want = per_cycle * n_loss + setup
    got = loss_sum.get("events", 0) + loss_sum.get("lost", 0)
    if not loss_sum.get("lost"):
        diags.append("one-page ring: nothing was lost, the test forced no loss")
    if got != want:
        diags.append("one-page ring: %s events + %s lost = %d, expected %d (%d x %d cycles + %d "
                     "set-up events)" % (loss_sum.get("events"), loss_sum.get("lost"), got, want,
                                         per_cycle, n_loss, setup))
    reasons = loss_sum.get("partial_reasons", {})
    if reasons.get("lost") != 4:
        diags.append("entities made partial by the loss: %s, expected 4 (2 buffers, 2 "
                     "attachments)" % reasons.get("lost"))
    if not diags:
        diags.append("%d cycles with a one-page ring: %d events arrived, %d lost and counted" %
                     (n_loss, loss_sum.get("events"), loss_sum.get("lost")))
        return cal[0]["_ok"] and loss[0]["_ok"], diags
    return False, diags


def _read(res, name):
    path = os.path.join(res, name)
    if not os.path.exists(path):
        return None
    with open(path, errors="replace") as f:
        return f.read()


def _jsonl(text):
    objs = []
    for line in (text or "").splitlines():
        try:
            objs.append(json.loads(line))
        except ValueError:
            return None
    return objs


def _service_notify(res, diags):
    lines = (_read(res, "service.notify") or "").splitlines()
    if not lines or not lines[0].startswith("READY=1|STATUS=events "):
        diags.append("the first notify message is not READY=1 with STATUS: %s" % lines[:1])
    if not lines or lines[-1] != "STOPPING=1":
        diags.append("the last notify message is not STOPPING=1: %s" % lines[-1:])
    if lines.count("WATCHDOG=1") < 3:
        diags.append("%d WATCHDOG=1 in about 8 s with WATCHDOG_USEC=2000000" %
                     lines.count("WATCHDOG=1"))
    reloading = [x for x in lines if re.match(r"RELOADING=1\|MONOTONIC_USEC=[1-9][0-9]*$", x)]
    if len(reloading) != 2:
        diags.append("%d RELOADING=1 with MONOTONIC_USEC for two SIGHUPs" % len(reloading))
    if not any(re.match(r"STATUS=events [1-9][0-9]*, lost 0, findings [1-9]", x) for x in lines):
        diags.append("no STATUS= with the events and the finding: %s" % lines)


def _service_reports(res, guest, diags):
    """(first report, report after the reopen) or None"""
    first, second = _jsonl(_read(res, "service.report.1")), _jsonl(_read(res, "service.report"))
    if first is None or second is None:
        diags.append("a service report is missing or not JSON Lines")
        return None
    if not any(o.get("type") == "finding" and o.get("rule") == "missing-fence-wait"
               for o in first):
        diags.append("no missing-fence-wait finding before the SIGHUP")
    if any(o.get("type") == "finding" and o.get("rule") == "missing-fence-wait" for o in second):
        diags.append("a missing-fence-wait finding after the policy turned the rule off")
    msgs = [o.get("message", "") for o in second if o.get("type") == "notice"]
    if "SIGHUP: policy reloaded from /tmp/service.policy" not in msgs:
        diags.append("no 'policy reloaded' notice in the reopened file: %s" % msgs)
    bad = ("SIGHUP: policy not reloaded: /tmp/service.policy:1: unknown rule 'no-such-rule' (see"
           " docs/rules.md for the rule IDs); the policy in force is unchanged")
    if bad not in msgs:
        diags.append("no notice that the bad policy was refused: %s" % msgs)
    return first, second


def check_service(res, guest):
    """watch with NOTIFY_SOCKET, SIGHUP (-o moved away, a good and a bad
    policy), stats records and metrics every second, SIGTERM."""
    diags = []
    if "service_rc" not in guest:
        return False, ["the service phase did not run"]
    if guest.get("service_rc") != "1":
        diags.append("watch exited %s after SIGTERM, expected 1 (a critical finding): %s" %
                     (guest.get("service_rc"), (_read(res, "service.out") or "")[-800:]))
    for n in (1, 2):
        status = (_read(res, "service-%d.status" % n) or "").strip()
        if not status.startswith("ok"):
            diags.append("trigger %d under watch: %s" % (n, status or "no status"))
    _service_notify(res, diags)
    reports = _service_reports(res, guest, diags)
    before, running = guest.get("service_progs_before"), guest.get("service_progs_running")
    after = guest.get("service_progs_after")
    if not running or not before or int(running) <= int(before):
        diags.append("BPF programs in kallsyms: %s before, %s while watch ran: the count cannot "
                     "tell ours" % (before, running))
    if after != before:
        diags.append("BPF programs in kallsyms: %s before watch, %s after SIGTERM" %
                     (before, after))
    if reports:
        second = reports[1]
        stats = [o for o in second if o.get("type") == "stats"]
        summary = [o for o in second if o.get("type") == "summary"]
        if len(stats) < 2 or not summary or stats[-1].get("events") != summary[0].get("events"):
            diags.append("stats records %d, the last one's events not the summary's" % len(stats))
        elif (stats[-1].get("ringbuf_fill_ratio") is None or not stats[-1].get("hooks_attached")
              or stats[-1]["hooks_attached"] != stats[-1].get("hooks_wanted")):
            diags.append("the stats record: no ring fill, or hooks attached are not the hooks "
                         "wanted: %s" % stats[-1])
        prom = _read(res, "service.prom") or ""
        events = sum(int(v) for v in re.findall(
            r'^dmabuf_audit_events_total\{op="[a-z_]+"\} (\d+)$', prom, re.M))
        # the Prometheus text format 0.0.4 (no OpenMetrics # EOF), complete to its last
        # family, and the last write after SIGTERM says the audit stopped (up 0)
        complete = (prom.endswith("\n") and "# EOF" not in prom and
                    re.search(r"^dmabuf_audit_journal_entries_dropped_total \d+$", prom, re.M))
        up = re.findall(r"^dmabuf_audit_up (\d+)$", prom, re.M)
        if (not complete or up != ["0"] or not summary or
                events != summary[0].get("events")):
            diags.append("the metrics at exit: events %d, summary %s, up %s, ends %r" %
                         (events, summary[0].get("events") if summary else None, up, prom[-10:]))
    if not diags:
        diags.append("%s BPF programs while watch ran, %s before and after" % (running, before))
        return True, diags
    return False, diags


def judge(res, guest, load):
    """(ok, what, diags) for each check"""
    ok, diags = check_bench_smoke(res, load)
    yield ok, "bench entry under run: every hot path ran, no finding, nothing lost", diags
    ok, diags = check_loss(res, guest, load)
    yield ok, "loss under a forced one-page ring: every lost event counted, entities partial", \
        diags
    ok, diags = check_service(res, guest)
    yield ok, "watch as a service: READY=1, WATCHDOG=1, SIGHUP reopens -o and reloads the " \
        "policy (a bad one refused), SIGTERM leaves no BPF program", diags

# an x86-64 or arm64 kernel address: 16 hex digits from 0xff… (the direct map's base is
# randomized: 0xff11…, 0xff36… as well as 0xffff…)
KERNEL_ADDRESS = re.compile(r"0x[fF]{2}[0-9a-fA-F]{14}")


def check_container(res, guest, binary, policy):
    """The workload identity of a finding caused in a Docker-shaped cgroup, hashed addresses."""
    diags = []
    cid = guest.get("container_id")
    if not cid:
        return False, ["the container phase did not run"]
    path, unit = "/system.slice/docker-%s.scope" % cid, "docker-%s.scope" % cid
    want = {"path": path, "unit": unit, "container": cid, "pod": None}
    for fmt in ("json", "text"):
        status = (_read(res, "container-%s.status" % fmt) or "").strip()
        if not status.startswith("ok"):
            diags.append("container-%s: the trigger failed: %s" % (fmt, status or "no status"))
        for part in ("report", "out"):
            text = _read(res, "container-%s.%s" % (fmt, part)) or ""
            leak = KERNEL_ADDRESS.search(text)
            if leak:
                diags.append("container-%s.%s shows a kernel address: %s" % (
                    fmt, part, leak.group(0)))
    objs = _jsonl(_read(res, "container-json.report")) or []
    findings = [f for f in _findings(objs) if f.get("rule") == "missing-fence-wait"]
    got = [{k: (f.get("cgroup") or {}).get(k) for k in want} for f in findings]
    if not findings or any(g != want for g in got):
        diags.append("JSON findings' cgroup %s, expected %s" % (got, want))
    if findings and not re.fullmatch(r"h:[0-9a-f]{16}", str(findings[0]["buffer"].get("ptr"))):
        diags.append("the buffer pointer is not hashed: %s" % findings[0]["buffer"].get("ptr"))
    text = _read(res, "container-text.report") or ""
    line = "workload    %s (unit %s, container %s)" % (path, unit, cid)
    if line not in text:
        diags.append("the text report has no line %r" % line)
    rec = os.path.join(res, "container-json.rec")
    for mode in ("hashed", "raw"):
        p = subprocess.run([binary, "replay", "--policy", policy, "--format", "json",
                            "--addresses", mode, rec], capture_output=True, text=True)
        replayed = [f for f in _findings(_jsonl(p.stdout) or [])
                    if f.get("rule") == "missing-fence-wait"]
        if not replayed or (replayed[0].get("cgroup") or {}).get("container") != cid:
            diags.append("replayed (%s): the container is not named: %s %s" % (
                mode, [f.get("cgroup") for f in replayed], p.stderr.strip()[-300:]))
        leaked = KERNEL_ADDRESS.search(p.stdout)
        if (mode == "hashed") == bool(leaked):
            diags.append("replayed (%s): kernel addresses %s" % (
                mode, "shown" if leaked else "missing: the record must keep them raw"))
    if diags:
        return False, diags
    return True, ["%d finding(s) of container %s..., hashed pointers" % (len(findings), cid[:12])]
