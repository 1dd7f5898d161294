#!/usr/bin/env python3
"""A guest result of the iommufd selftest guest, made on the host, for check.py.

synth.py BIN OUTDIR [MUTATION]: writes OUTDIR/results.stream as the guest
(tests/iommufd-selftest/init) would, from the event sequence the 7.3 kernel
produces for the selftest's dma-buf cases (iommufd's IOMMU_IOAS_MAP_FILE:
revocable check, attach, pin, map through the mock's helper; the mock's
revoke scope with its invalidate and unlock, no wait), recorded by
`BIN replay --record` from JSON Lines.  MUTATION breaks it the way a wrong
tool or kernel would, for the self-test (selfcheck.sh) that check.py fails
then:

  unrevoke-as-revoke   the un-revoke's scope says revoked=true
  refused-map-granted  the map while revoked succeeds
  other-case-finding   one more test case's process revokes without a wait
  selftest-failed      the selftest's own KTAP fails dmabuf_revoke
"""
import base64
import hashlib
import json
import os
import subprocess
import sys

VARIANTS = ("no_domain", "mock_domain", "two_mock_domain", "mock_domain_limit")
TESTS = ("dmabuf_simple", "dmabuf_revoke")
UCMD = "0xffff888500000000"


class Trace:
    def __init__(self):
        self.lines = [{"type": "header", "schema": 1, "kernel": "7.3.4-dat", "source": "live",
                       "hooks": [], "quirks": [],
                       "scopes": ["vfio_pci_dma_buf_move", "vfio_pci_dma_buf_cleanup",
                                  "iommufd_test_dmabuf_revoke"]}]
        self.seq = 0

    def ev(self, pid, op, **fields):
        self.seq += 1
        e = {"seq": self.seq, "ts_ns": 1000000000 + 1000 * self.seq, "pid": pid, "tid": pid,
             "comm": "iommufd", "op": op}
        e.update(fields)
        self.lines.append(e)


def test_case(t, pid, n, revoke, mutation):
    buf, resv = "0xffff8880%04x0000" % n, "0xffff8880%04x0200" % n

    def map_file(k, ret):
        att = "0xffff8881%04x%04x" % (n, k)
        t.ev(pid, "revocable_check", attach=att, buf=buf, ret=1, resv=resv)
        t.ev(pid, "attach", buf=buf, attach=att, dev="iommu", dynamic=True,
             importer_ops="iopt_dmabuf_attach_revoke_ops", invalidate_cb="iopt_revoke_notify",
             peer2peer=True, ret=0, resv=resv)
        t.ev(pid, "pin", attach=att, buf=buf, resv_held=True, ret=0, resv=resv)
        t.ev(pid, "map", attach=att, buf=buf, sgt=None, locked=True, resv_held=True, ret=ret,
             resv=resv, phys=True)
        if ret:
            unmap(att)
        return att

    def unmap(att):
        t.ev(pid, "unpin", attach=att, buf=buf, resv_held=True, resv=resv)
        t.ev(pid, "detach", buf=buf, attach=att, resv=resv)

    def revoke_scope(revoked):
        t.ev(pid, "scope_enter", scope="iommufd_test_dmabuf_revoke", revoked=revoked, object=UCMD)
        t.ev(pid, "invalidate", buf=buf, resv_held=True, fn="dma_buf_invalidate_mappings",
             resv=resv)
        t.ev(pid, "resv_unlock", resv=resv, buf=buf)
        t.ev(pid, "scope_exit", scope="iommufd_test_dmabuf_revoke", revoked=revoked, object=UCMD)

    t.ev(pid, "export", buf=buf, ino=n, exporter="iommufd", size=16384, resv=resv, ret=0)
    first = map_file(1, 0)
    if revoke:
        revoke_scope(True)
        map_file(2, 0 if mutation == "refused-map-granted" else -19)
        revoke_scope(mutation == "unrevoke-as-revoke")
        third = map_file(3, 0)
        unmap(first)
        fourth = map_file(4, 0)
        unmap(third)
        unmap(fourth)
    else:
        unmap(first)
    t.ev(pid, "release", buf=buf, resv=resv)


def main():
    binary, out = sys.argv[1], sys.argv[2]
    mutation = sys.argv[3] if len(sys.argv) > 3 else ""
    work = os.path.join(out, "synth")
    os.makedirs(work, exist_ok=True)
    t = Trace()
    ktap = ["TAP version 13", "1..%d" % (len(VARIANTS) * len(TESTS) + 1)]
    n = 0
    # a test case before the dma-buf ones that makes no dma-buf
    ktap.append("ok 1 iommufd.simple_close")
    if mutation == "other-case-finding":  # ... unless it revokes one without a wait
        t.ev(999, "export", buf="0xffff88800fff0000", ino=999, exporter="iommufd", size=4096,
             resv="0xffff88800fff0200", ret=0)
        t.ev(999, "invalidate", buf="0xffff88800fff0000", resv_held=True,
             fn="dma_buf_invalidate_mappings", resv="0xffff88800fff0200")
    for v in VARIANTS:
        for name in TESTS:
            n += 1
            test_case(t, 1000 + n, n, name == "dmabuf_revoke", mutation)
            failed = mutation == "selftest-failed" and name == "dmabuf_revoke"
            ktap.append("%s %d iommufd_ioas.%s.%s" % ("not ok" if failed else "ok", n + 1, v, name))
    ktap.append("# Totals: pass:%d fail:0 xfail:0 xpass:0 skip:0 error:0" % (n + 1))
    trace = os.path.join(work, "trace.jsonl")
    with open(trace, "w") as f:
        f.write("".join(json.dumps(line) + "\n" for line in t.lines))
    stream = []

    def add(name, data):
        stream.extend(["=== DAT-FILE %s %s" % (name, hashlib.md5(data).hexdigest()),
                       base64.b64encode(data).decode(), "=== DAT-END %s" % name])

    add("guest.txt", b"kernel 7.3.4-dat\ndev_iommu yes\nrevoke_scope_symbol yes\nphase done\n")
    hooks = [{"function": f, "attached": True, "module": "iommufd", "mode": m}
             for f, m in (("iommufd_test_dmabuf_revoke", "kprobe"),
                          ("iommufd_test_dma_buf_iommufd_map", "kretprobe"))]
    add("hooks.json", json.dumps({"hooks": hooks}).encode())
    policy = os.path.join(work, "allow.policy")
    with open(policy, "w") as f:
        f.write("allow missing-fence-wait exporter iommufd\n")
    for run, allowed in (("dmabuf", False), ("dmabuf-allowed", True)):
        rec, report = os.path.join(work, run + ".rec"), os.path.join(work, run + ".ktap")
        cmd = [binary, "replay", "--record", rec, "--format", "ktap", "-o", report, trace]
        rc = subprocess.run(cmd + (["--policy", policy] if allowed else [])).returncode
        for suffix, path in (("rec", rec), ("audit.ktap", report)):
            with open(path, "rb") as f:
                add("%s.%s" % (run, suffix), f.read())
        add(run + ".selftest.ktap", ("\n".join(ktap) + "\n").encode())
        add(run + ".meta", ("rc %d\nms 1\n" % rc).encode())
        add(run + ".err", b"")
    stream.append("=== DAT-DONE")
    with open(os.path.join(out, "results.stream"), "w") as f:
        f.write("\n".join(stream) + "\n")


if __name__ == "__main__":
    main()
