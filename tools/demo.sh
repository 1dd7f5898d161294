#!/bin/bash
# demo.sh BIN (make demo)
#
# The first thing a new user runs: boot one guest (Debian 6.12 under QEMU
# TCG) and show dmabuf-audit catching a real revoke bug, the one VFIO had
# before Linux 7.1: the exporter invalidates the importers' mappings and
# never waits for their DMA fences (missing-fence-wait), next to the correct
# revoke that gives no finding.  About a minute when the kernel is cached.
# Exit 0 when the demo showed what it should (correct flow: exit 0; bug:
# exit 1), else 1.  Environment: DEMO_KERNEL (default 6.12).
set -uo pipefail
VM_LOG_TAG=demo
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/../tests/vm/vm-lib.sh"

bin=${1:?usage: demo.sh BIN}
series=${DEMO_KERNEL:-6.12}
out=$DA_ROOT/build/demo
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)

cat <<'EOF'
========================================================================
 dmabuf-audit demo: catching a dma-buf revoke bug in a running kernel
========================================================================
 dma-buf lets one driver (the exporter, e.g. VFIO) share memory with
 others (importers: GPUs, RDMA, iommufd).  When the exporter REVOKES the
 buffer it must invalidate every mapping AND wait for the importers' DMA
 (their fences) before the memory goes away.  VFIO before Linux 7.1 did
 not wait.  dmabuf-audit sees this from outside, with BPF programs on the
 dma-buf core, and reports it with the buffer's history.

 This machine's own kernel does not allow BPF tracing, so the demo boots
 a Debian kernel under QEMU with a small test module that drives the real
 dma-buf core: once correctly, once with the VFIO bug.
EOF
echo
echo "[1/3] building the guest: Debian $series kernel, test module, dmabuf-audit ..."
if ! "$DA_VM/vm-initramfs.sh" "$series" "$bin" "$out/initrd.cpio.gz" --demo \
	>"$out/initramfs.env" 2>"$out/build.log"; then
	cat "$out/build.log" >&2
	vm_die "building the guest failed (log above)"
fi
eval "$(cat "$out/initramfs.env")"
echo "      kernel $KREL ready ($(($(date +%s) - start))s)"
echo
echo "[2/3] booting it under QEMU (TCG); attaching the BPF programs takes a few"
echo "      seconds per run under emulation.  The guest's console:"
echo

# the guest console, without kernel log lines
: >"$out/console.log"
tail -n +1 -F "$out/console.log" 2>/dev/null > >(grep --line-buffered -v '^\[ *[0-9.]*\]' |
	grep --line-buffered -v '^guest: ') &
tail_pid=$!
"$DA_VM/vm-boot.sh" "$VMLINUZ" "$out/initrd.cpio.gz" "$out" 600
rc=$?
sleep 1
kill "$tail_pid" 2>/dev/null
wait "$tail_pid" 2>/dev/null

python3 - "$out" <<'EOF' >"$out/guest.txt"
import base64, sys
cur, buf, notes = None, [], ""
for line in open(sys.argv[1] + "/results.stream", errors="replace"):
    line = line.rstrip("\r\n")
    if line.startswith("=== DAT-FILE "):
        cur, buf = line[13:].split()[0], []
    elif line.startswith("=== DAT-END ") and cur is not None:
        if cur == "guest.txt":
            notes = base64.b64decode("".join(buf)).decode(errors="replace")
        cur = None
    elif cur is not None:
        buf.append(line)
print(notes, end="")
EOF
ok_rc=$(awk '$1 == "demo_ok_rc" { print $2 }' "$out/guest.txt")
bug_rc=$(awk '$1 == "demo_bug_rc" { print $2 }' "$out/guest.txt")

echo
echo "[3/3] result ($(($(date +%s) - start))s in all)"
if [ "$rc" = 0 ] && [ "$ok_rc" = 0 ] && [ "$bug_rc" = 1 ]; then
	echo "      correct revoke: no finding (exit 0); VFIO-before-7.1 bug: caught (exit 1)."
	echo "      Next: make vmtest (every rule on kernels 6.1, 6.12, 7.3), docs/testing.md."
	exit 0
fi
echo "      the demo did not go as expected: guest exit $rc, correct flow exit ${ok_rc:-?}," \
	"bug exit ${bug_rc:-?} (expected 0 and 1); console: $out/console.log"
exit 1
