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
"""
import os

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


def judge(res, guest, load):
    """(ok, what, diags) for each check"""
    ok, diags = check_bench_smoke(res, load)
    yield ok, "bench entry under run: every hot path ran, no finding, nothing lost", diags
    ok, diags = check_loss(res, guest, load)
    yield ok, "loss under a forced one-page ring: every lost event counted, entities partial", \
        diags
