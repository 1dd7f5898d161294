# SPDX-License-Identifier: GPL-2.0
"""JSON Lines traces with repeated findings for the service tests: n revokes
without a fence wait (missing-fence-wait), one every `step` seconds, each of
its own buffer, with the exporter and device of the caller's choosing."""

import json


def revokes(times, exporters=("vfio_pci_core",), devices=("0000:03:00.0",)):
    """One revoke without a fence wait at each time (seconds); buffer i gets
    exporters[i % len] and devices[i % len]."""
    lines, seq = [], 0

    def ev(d, t):
        nonlocal seq
        seq += 1
        d.update(seq=seq, ts_ns=int(round(t * 1e9)))
        lines.append(json.dumps(d))

    for i, t in enumerate(times):
        b, a, resv = (f"0x{base + i * 0x1000:x}" for base in (0xb1000, 0xa1000, 0xe1000))
        vfio = {"tid": 1200, "pid": 1200, "comm": "vfio-test"}
        gpu = {"tid": 1300, "pid": 1300, "comm": "gpu-test"}
        ev({"op": "export", "buf": b, "ino": 4101 + i, "exporter": exporters[i % len(exporters)],
            "size": 4096, "resv": resv, "ret": 0, **vfio}, t)
        ev({"op": "attach", "buf": b, "attach": a, "dev": devices[i % len(devices)],
            "importer_ops": "amdgpu_dma_buf_attach_ops",
            "invalidate_cb": "amdgpu_dma_buf_move_notify", "peer2peer": True, "ret": 0, **gpu}, t)
        ev({"op": "scope_enter", "scope": "vfio_pci_dma_buf_move", "revoked": True,
            "object": "0xf000", **vfio}, t)
        ev({"op": "invalidate", "buf": b, "resv_held": True, "fn": "dma_buf_move_notify", **vfio}, t)
        ev({"op": "scope_exit", "scope": "vfio_pci_dma_buf_move", "revoked": True, **vfio}, t)
        ev({"op": "detach", "buf": b, "attach": a, **gpu}, t)
        ev({"op": "release", "buf": b, **gpu}, t)
    return "\n".join(lines) + "\n"


def long_history(maps):
    """One buffer mapped and unmapped `maps` times, then revoked without a
    fence wait: a finding whose history (with --history) is long."""
    lines, seq = [], 0

    def ev(d):
        nonlocal seq
        seq += 1
        d.update(seq=seq, ts_ns=seq * 1000, tid=1300, pid=1300, comm="gpu-test")
        lines.append(json.dumps(d))

    b, a = "0xb1000", "0xa1000"
    ev({"op": "export", "buf": b, "ino": 4101, "exporter": "vfio_pci_core", "size": 4096,
        "resv": "0xe1000", "ret": 0})
    ev({"op": "attach", "buf": b, "attach": a, "dev": "0000:03:00.0",
        "importer_ops": "amdgpu_dma_buf_attach_ops", "invalidate_cb": "amdgpu_dma_buf_move_notify",
        "peer2peer": True, "ret": 0})
    for _ in range(maps):
        ev({"op": "map", "attach": a, "buf": b, "sgt": "0x51000", "locked": True,
            "resv_held": True, "ret": 0})
        ev({"op": "unmap", "attach": a, "buf": b, "sgt": "0x51000", "locked": True,
            "resv_held": True})
    ev({"op": "scope_enter", "scope": "vfio_pci_dma_buf_move", "revoked": True, "object": "0xf000"})
    ev({"op": "invalidate", "buf": b, "resv_held": True, "fn": "dma_buf_move_notify"})
    ev({"op": "scope_exit", "scope": "vfio_pci_dma_buf_move", "revoked": True})
    return "\n".join(lines) + "\n"


def window_model(keys_times, window):
    """The documented rule, independently: per key, the first finding is
    reported; one within `window` seconds of the key's last report is held
    back; the first after it is reported with the count held back.
    keys_times: [(key, t)] in order.  Returns [(index, repeats)] reported."""
    last, held, out = {}, {}, []
    for i, (k, t) in enumerate(keys_times):
        if k in last and t - last[k] < window:
            held[k] += 1
            continue
        out.append((i, held.get(k, 0)))
        last[k], held[k] = t, 0
    return out
