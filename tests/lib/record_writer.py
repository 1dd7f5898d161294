# SPDX-License-Identifier: GPL-2.0
"""The binary record format of docs/output.md ("Binary record format"), written
from Python: an independent writer, made from the documentation and not from
the C code (src/core/record.c), so the tests that read its files with the tool
check the reader against the documented format rather than against itself.

    from record_writer import record_file, header_record, event_record, end_record
    data = record_file([header_record("7.3.4"), event_record(1, "export", buf=B), end_record(1)])

Python stdlib only.
"""

import struct
import zlib

MAGIC = b"DABUFREC"
# the files written by default are of format version 2 (what earlier releases recorded, which
# every later one must read); version 3 adds the event's cgroup id and CGROUP records:
# event_record(..., cgroup_id=N), header_record(evsize=EVENT_V3.size), record_file(version=3)
VERSION = 2
FILE_HEADER_LEN = 16
REC_HEADER, REC_EVENT, REC_SYMBOL, REC_LOST, REC_STACK, REC_SCOPE, REC_TICK, REC_END, REC_CGROUP = \
    range(1, 10)
# struct da_event (include/dmabuf_audit/event.h), host order = little-endian on x86_64
EVENT = struct.Struct("<11Qq3Ii5B3x16s32s")
EVENT_V3 = struct.Struct("<11Qq3Ii5B3x16s32sQ")
OPS = ["none", "export", "release", "attach", "detach", "pin", "unpin", "map", "unmap", "vmap",
       "vunmap", "mmap", "invalidate", "fence_wait", "revocable_check", "scope_enter",
       "scope_exit", "resv_unlock"]
F_DYNAMIC, F_PEER2PEER, F_LOCKED, F_INTR, F_REVOKED, F_HAS_REVOKED, F_STACK = (1 << i for i in range(7))


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli), written independently of the tool's."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value


def rec(rtype, payload, version=VERSION):
    """One framed record; format version 1 used zlib's CRC-32, 2 CRC-32C."""
    head = struct.pack("<II", rtype, len(payload))
    crc = zlib.crc32(head + payload) if version == 1 else crc32c(head + payload)
    return head + payload + struct.pack("<I", crc)


def s16(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


def header_record(kernel="", quirks=0, hooks=(), scopes=(), evsize=EVENT.size, bom=0x01020304):
    p = struct.pack("<5I", bom, evsize, quirks, len(hooks), len(scopes))
    p += s16("test-writer") + s16(kernel)
    for fn, mode, attached, reason in hooks:
        p += s16(fn) + s16(mode) + bytes([1 if attached else 0]) + s16(reason)
    for name in scopes:
        p += s16(name)
    return rec(REC_HEADER, p)


def event_record(seq, op, ts=0, buf=0, attach=0, resv=0, sgt=0, importer_ops=0, invalidate_cb=0,
                 ino=0, size=0, timeout=0, ret=0, pid=0, tid=0, cpu=0, stack_id=0, flags=0,
                 resv_held=0, usage=0, fn=0, comm=b"", name=b"", cgroup_id=None):
    """An EVENT; with cgroup_id, the version 3 layout (176 bytes) that carries it."""
    fields = (seq, ts, buf, attach, resv, sgt, importer_ops, invalidate_cb, ino, size, timeout, ret,
              pid, tid, cpu, stack_id, OPS.index(op), flags, resv_held, usage, fn, comm, name)
    if cgroup_id is None:
        return rec(REC_EVENT, EVENT.pack(*fields))
    return rec(REC_EVENT, EVENT_V3.pack(*fields, cgroup_id))


def record_file(records, version=VERSION):
    return MAGIC + struct.pack("<II", version, 0) + b"".join(records)


def walk_records(data):
    """[(offset, type, length)] of a well-formed record file."""
    out, off = [], FILE_HEADER_LEN
    while off < len(data):
        rtype, length = struct.unpack_from("<II", data, off)
        out.append((off, rtype, length))
        off += 8 + length + 4
    return out


# ---- the other record types, by name (docs/output.md's record table)
def symbol_record(addr, name):
    """SYMBOL: an address and the kernel symbol it names."""
    return rec(REC_SYMBOL, struct.pack("<Q", addr) + s16(name))


def lost_record(first_seq, count):
    """LOST: events lost without a gap in seq."""
    return rec(REC_LOST, struct.pack("<QQ", first_seq, count))


def tick_record(now_ns):
    """TICK: time passed without an event."""
    return rec(REC_TICK, struct.pack("<Q", now_ns))


def scope_record(slot, name):
    """SCOPE: the name of a revoke scope slot."""
    return rec(REC_SCOPE, struct.pack("<I", slot) + s16(name))


def stack_record(stack_id, frames):
    """STACK: the symbolized frames of a stack id, innermost first."""
    return rec(REC_STACK, struct.pack("<iI", stack_id, len(frames)) + b"".join(s16(f) for f in frames))


def cgroup_record(cgroup_id, path):
    """CGROUP (version 3): the path under the cgroup2 mount of a cgroup id."""
    return rec(REC_CGROUP, struct.pack("<Q", cgroup_id) + s16(path))


def end_record(events):
    """END: the number of EVENT records written."""
    return rec(REC_END, struct.pack("<Q", events))
