#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small BTF files written from the format (the kernel's
Documentation/bpf/btf.rst: a 24-byte header, the type records, the
strings), for the `hooks --btf` bad-input cases and the BTF fuzzer's seeds.

    tests/lib/btf_writer.py DIR  write the seeds (good.btf, bad-name.btf,
                                 typedef-cycle.btf) into DIR
"""
import os
import struct
import sys

INT, PTR, STRUCT, TYPEDEF, FUNC, FUNC_PROTO = 1, 2, 4, 8, 12, 13


class Btf:
    def __init__(self):
        self.strs = b"\0"
        self.types = []

    def name(self, s):
        off = len(self.strs)
        self.strs += s.encode() + b"\0"
        return off

    def add(self, kind, name, vlen=0, size_or_type=0, extra=b""):
        """a type record; name is a string or a raw offset; its id"""
        off = self.name(name) if isinstance(name, str) else name
        self.types.append(struct.pack("<III", off, (kind << 24) | vlen, size_or_type) + extra)
        return len(self.types)

    def struct(self, name, members, size=8):
        """members: [(name or raw offset, type id)]"""
        body = b"".join(struct.pack("<III", self.name(m) if isinstance(m, str) else m, t, 32 * i)
                        for i, (m, t) in enumerate(members))
        return self.add(STRUCT, name, len(members), size, body)

    def blob(self):
        types = b"".join(self.types)
        return struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types),
                           len(self.strs)) + types + self.strs


def kernel_61(dma_buf_lock_name="lock", base_type=None):
    """A 6.1-like kernel: dma_buf.lock, ww_mutex.base a mutex (through a
    typedef) with an owner, move_notify, dma_buf_export.  base_type(btf)
    may give ww_mutex.base another type (the cycle case)."""
    b = Btf()
    i = b.add(INT, "int", 0, 4, struct.pack("<I", 0x01000020))
    mutex = b.struct("mutex", [("owner", i)])
    b.struct("dma_buf", [(dma_buf_lock_name, mutex)])
    base = base_type(b) if base_type else b.add(TYPEDEF, "mutex_t", 0, mutex)
    b.struct("ww_mutex", [("base", base)])
    b.struct("dma_buf_attach_ops", [("move_notify", i)])
    proto = b.add(FUNC_PROTO, 0, 0, i)
    b.add(FUNC, "dma_buf_export", 1, proto)
    return b.blob()


def typedef_cycle(b):
    """typedef a -> typedef b -> typedef a; the id of a"""
    first = len(b.types) + 1
    b.add(TYPEDEF, "cycle_a", 0, first + 1)
    b.add(TYPEDEF, "cycle_b", 0, first)
    return first


def bad_member_name():
    """The issue's reproducer: a struct dma_buf whose member's name offset
    is past the strings (libbpf 1.1 does not check it)."""
    b = Btf()
    i = b.add(INT, "int", 0, 4, struct.pack("<I", 0x01000020))
    b.struct("dma_buf", [(0xFFFF, i)])
    return b.blob()


SEEDS = {
    "good.btf": lambda: kernel_61(),
    "bad-name.btf": bad_member_name,
    "typedef-cycle.btf": lambda: kernel_61(base_type=typedef_cycle),
}

if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for fname, make in SEEDS.items():
        with open(os.path.join(out, fname), "wb") as f:
            f.write(make())
