#!/usr/bin/env python3
"""plan_check.py: the guest plan against what the build produces (host only, no guest).

For each way the Makefile starts the guest suite (make vmtest with the CI kernels,
make vmtest KERNELS=7.3-arm64, make vmtest-full), ask make what it would run
(`make -n -B`: nothing is built or booted), take the tests/vm/vmtest.sh command line it
prints, and ask tests/vm/vmtest.sh --plan which guests that command boots.  Then each
planned guest must:
  - get a dmabuf-audit that the same make run links, for the guest's architecture
    (the compiler of its link line says which; a binary already built is read too);
  - boot a QEMU machine of its architecture (q35 on amd64, virt on arm64);
and each series must have both of its guests planned, either as a guest or as a
skip with its reason (never dropped).  A control first proves the check fails on
the bug of issue 25: an arm64 VFIO guest given the amd64 binary.
TAP on standard output; exit 1 on any failure.
"""
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MACHINES = {"amd64": "q35", "arm64": "virt"}
ELF_MACHINES = {"Advanced Micro Devices X86-64": "amd64", "AArch64": "arm64"}
RUNS = [("vmtest", []), ("vmtest", ["KERNELS=7.3-arm64"]), ("vmtest-full", [])]


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def result(self, ok, name, diags=()):
        self.n += 1
        self.failed += not ok
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, name))
        for d in diags:
            print("#   " + d)


def host_arch():
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                          text=True).stdout.strip() or "amd64"


def compiler_arch(cc):
    """The architecture a compiler builds for, from its Debian triplet prefix."""
    name = os.path.basename(cc)
    if name.startswith("aarch64-linux-gnu-"):
        return "arm64"
    if name.startswith("x86_64-linux-gnu-"):
        return "amd64"
    return host_arch()


def dry_run(target, args):
    """`make -n -B TARGET ARGS` in the repo: its commands, continuation lines joined."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    out = subprocess.run(["make", "--no-print-directory", "-n", "-B", target] + args, cwd=ROOT,
                         capture_output=True, text=True, env=env)
    return out.returncode, out.stdout.replace("\\\n", " ").splitlines(), out.stderr


def built_binaries(lines):
    """{path: arch} of every dmabuf-audit a dry run links (-o .../dmabuf-audit)."""
    built = {}
    for line in lines:
        words = shlex.split(line) if "-o" in line.split() else []
        for i, w in enumerate(words[:-1]):
            if w == "-o" and os.path.basename(words[i + 1]) == "dmabuf-audit":
                built[os.path.normpath(os.path.join(ROOT, words[i + 1]))] = compiler_arch(words[0])
    return built


def vmtest_command(lines):
    """(environment, BIN, SERIES list) of the tests/vm/vmtest.sh command a dry run prints."""
    for line in lines:
        words = shlex.split(line)
        if "tests/vm/vmtest.sh" not in words:
            continue
        env = dict(w.split("=", 1) for w in words[:words.index("tools/run-suite.sh")]
                   if "=" in w) if "tools/run-suite.sh" in words else {}
        rest = words[words.index("tests/vm/vmtest.sh") + 1:]
        return env, rest[0], rest[1:]
    return None


def plan(env, bin_path, series):
    full_env = dict(os.environ, **env)
    out = subprocess.run([os.path.join(ROOT, "tests/vm/vmtest.sh"), "--plan", bin_path] + series,
                         cwd=ROOT, capture_output=True, text=True, env=full_env)
    return out.returncode, out.stdout.splitlines(), out.stderr


def elf_arch(path):
    out = subprocess.run(["readelf", "-h", path], capture_output=True, text=True).stdout
    m = re.search(r"Machine:\s*(.*)", out)
    return ELF_MACHINES.get(m.group(1).strip(), m.group(1).strip()) if m else None


def judge_guest(words, built):
    """Diagnostics for one planned guest line (empty: the guest is served)."""
    series, guest, arch, machine, bin_path = words[:5]
    diags = []
    path = os.path.normpath(os.path.join(ROOT, bin_path))
    if path not in built:
        diags.append("%s %s guest needs %s, which this make run does not build" %
                     (series, guest, bin_path))
    elif built[path] != arch:
        diags.append("%s %s guest (%s) gets %s, linked for %s" %
                     (series, guest, arch, bin_path, built[path]))
    if os.path.exists(path) and elf_arch(path) != arch:
        diags.append("%s as built is an %s binary, the guest is %s" % (bin_path, elf_arch(path), arch))
    if machine.split(",")[0] != MACHINES.get(arch):
        diags.append("%s %s guest (%s) boots machine %s" % (series, guest, arch, machine))
    return diags


def check_run(tap, target, args):
    what = "make %s" % " ".join([target] + args)
    rc, lines, err = dry_run(target, args)
    cmd = vmtest_command(lines) if rc == 0 else None
    if cmd is None:
        tap.result(False, "%s: the dry run names a tests/vm/vmtest.sh command" % what,
                   err.splitlines()[-5:])
        return
    env, bin_path, series = cmd
    built = built_binaries(lines)
    rc, plan_lines, err = plan(env, bin_path, series)
    tap.result(rc == 0 and plan_lines, "%s: tests/vm/vmtest.sh --plan for %s" % (what, " ".join(series)),
               err.splitlines()[-5:])
    guests = {}
    for line in plan_lines:
        words = line.split()
        guests.setdefault(words[0], []).append(words[1])
        if words[2] == "skip":
            tap.result(len(words) > 3, "%s: %s %s guest planned out, with its reason (%s)" %
                       (what, words[0], words[1], " ".join(words[3:]) or "none given"))
            continue
        diags = judge_guest(words, built)
        tap.result(not diags, "%s: %s %s guest (%s, %s) gets a dmabuf-audit built for %s" %
                   (what, words[0], words[1], words[2], words[3], words[2]), diags)
    for s in series:
        ok = sorted(guests.get(s, [])) == ["scenarios", "vfio"]
        tap.result(ok, "%s: series %s has its scenario and VFIO guests planned (each run or"
                   " skipped)" % (what, s), [] if ok else ["planned: %s" % guests.get(s)])


def main():
    tap = Tap()
    # the control: issue 25's bug, the amd64 binary in the arm64 VFIO guest
    amd64_bin = os.path.join(ROOT, "build/dmabuf-audit")
    wrong = ["7.3-arm64", "vfio", "arm64", "virt,iommu=smmuv3", amd64_bin, "gcc"]
    diags = judge_guest(wrong, {amd64_bin: "amd64"})
    tap.result(bool(diags), "control: a plan giving the arm64 VFIO guest the amd64 binary is refused",
               diags or ["judge_guest accepted it"])
    for target, args in RUNS:
        check_run(tap, target, args)
    print("1..%d" % tap.n)
    print("# %d tests, %d failed" % (tap.n, tap.failed))
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
