# SPDX-License-Identifier: GPL-2.0
"""What every judge of a guest run shares (python3 stdlib only): the guest's
results stream decoded into files, TAP output, reading a file that may be
missing, the kernel log lines that mean the kernel was hurt, the console's
last lines.  tests/vm/compare.py (the guest suite), tests/soak/judge.py (the
soak) and tests/iommufd-selftest/check.py (the upstream iommufd selftest)
judge with it.

The stream is what the guest's /init (tests/vm/init) writes on the second
serial port (tests/vm/vm-boot.sh keeps it as OUTDIR/results.stream): each
file between "=== DAT-FILE NAME MD5" and "=== DAT-END NAME", base64, and
"=== DAT-DONE" when the guest finished.
"""
import base64
import hashlib
import os
import re
import sys

# kernel log lines that mean a scenario hurt the kernel
KERNEL_TROUBLE = re.compile(r"WARNING:|BUG:|Oops|Call Trace:|general protection|"
                            r"kernel panic|Kernel panic|list_del corruption|refcount_t:")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, diags=()):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, name))
        self.diagnostics(diags)

    def skip(self, name, reason):
        """A test the plan cannot run here (tests/vm/vmtest.sh plan_series): said, with why."""
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason))
        sys.stdout.flush()

    def diagnostics(self, diags):
        for d in diags:
            for line in str(d).splitlines() or [""]:
                print("#   " + line)
        sys.stdout.flush()


def decode_stream(outdir):
    """results.stream -> outdir/results/NAME; returns (names, done_marker_seen)."""
    dest = os.path.join(outdir, "results")
    os.makedirs(dest, exist_ok=True)
    names, done, cur, buf, errors = [], False, None, [], []
    path = os.path.join(outdir, "results.stream")
    if not os.path.exists(path):
        return names, done, errors
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("=== DAT-FILE "):
                if cur is not None:
                    errors.append("%s: transfer cut (no end marker)" % cur[0])
                fields = line[len("=== DAT-FILE "):].split()
                cur, buf = (fields + ["", ""])[:2], []
            elif line.startswith("=== DAT-END ") and cur is not None:
                name, md5 = os.path.basename(cur[0]), cur[1]
                cur = None
                try:
                    data = base64.b64decode("".join(buf), validate=True)
                except ValueError:
                    errors.append("%s: not valid base64" % name)
                    continue
                if md5 and hashlib.md5(data).hexdigest() != md5:
                    errors.append("%s: md5 mismatch, damaged in transfer" % name)
                    continue
                with open(os.path.join(dest, name), "wb") as out:
                    out.write(data)
                names.append(name)
            elif line == "=== DAT-DONE":
                done = True
            elif cur is not None:
                buf.append(line)
    if cur is not None:
        errors.append("%s: transfer cut (no end marker)" % cur[0])
    return names, done, errors


def read(path, default=None):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def kernel_trouble(dmesg):
    return [l for l in (dmesg or "").splitlines() if KERNEL_TROUBLE.search(l)]


def console_tail(outdir, n=40):
    text = read(os.path.join(outdir, "console.log"), "") or ""
    return text.splitlines()[-n:]
