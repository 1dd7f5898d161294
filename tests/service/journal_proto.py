# SPDX-License-Identifier: GPL-2.0
"""The journal's native protocol, read from the documentation
(https://systemd.io/JOURNAL_NATIVE_PROTOCOL/), not from src/service/systemd.c:
a socket of the test's own that receives entries as journald would, and a
strict parser of them.

    with JournalSocket(path) as js:
        ... run the tool with DMABUF_AUDIT_JOURNAL_SOCKET=path ...
    js.entries   # [{"fields": {KEY: bytes}, "binary": {KEYs sent length-prefixed},
                 #   "memfd": None or {"seals": int}}]

Python stdlib only.
"""

import array
import fcntl
import os
import re
import socket
import struct
import threading

F_GET_SEALS = 1034
SEALS_ALL = 0x1 | 0x2 | 0x4 | 0x8  # F_SEAL_SEAL, SHRINK, GROW, WRITE
KEY = re.compile(rb"[A-Z0-9][A-Z0-9_]*\Z")


class ProtocolError(Exception):
    pass


def parse_entry(data):
    """One entry: fields "KEY=value\\n" or "KEY\\n" + le64 length + value + "\\n"."""
    fields, binary, pos = {}, set(), 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        eq = data.find(b"=", pos)
        if nl < 0:
            raise ProtocolError(f"field at byte {pos} has no newline: {data[pos:pos + 60]!r}")
        if 0 <= eq < nl:
            key, value, pos = data[pos:eq], data[eq + 1:nl], nl + 1
        else:
            key = data[pos:nl]
            if nl + 9 > len(data):
                raise ProtocolError(f"binary field {key!r}: no 64-bit length")
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            start = nl + 9
            if start + n + 1 > len(data) or data[start + n:start + n + 1] != b"\n":
                raise ProtocolError(f"binary field {key!r}: length {n} does not end in a newline")
            value, pos = data[start:start + n], start + n + 1
            binary.add(key.decode())
        if not KEY.match(key) or len(key) > 64:
            raise ProtocolError(f"bad field name {key!r}")
        if key.decode() in fields:
            raise ProtocolError(f"field {key!r} twice")
        fields[key.decode()] = value
    return {"fields": fields, "binary": binary, "memfd": None}


class JournalSocket:
    """A datagram socket at path; a thread keeps every entry it gets."""

    def __init__(self, path):
        self.path = path
        self.entries = []
        self.errors = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if os.path.exists(path):
            os.unlink(path)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.drain()
        return False

    def drain(self):
        """Stop once everything sent so far is read."""
        self.stop = True
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)

    def _run(self):
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(1 << 22, socket.CMSG_SPACE(4 * 4))
            except socket.timeout:
                if self.stop:
                    return
                continue
            try:
                self.entries.append(self._entry(data, anc))
            except ProtocolError as e:
                self.errors.append(str(e))

    @staticmethod
    def _entry(data, anc):
        fds = []
        for level, typ, d in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds += array.array("i", d[:len(d) - len(d) % 4]).tolist()
        if not fds:
            return parse_entry(data)
        try:
            if len(fds) != 1 or data:
                raise ProtocolError(f"{len(fds)} descriptors and {len(data)} bytes of payload")
            seals = fcntl.fcntl(fds[0], F_GET_SEALS)
            size = os.fstat(fds[0]).st_size
            entry = parse_entry(os.pread(fds[0], size, 0))
            entry["memfd"] = {"seals": seals, "size": size}
            return entry
        finally:
            for fd in fds:
                os.close(fd)
