#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench-live.sh BIN EMPTY_PAIR SERIES  (make bench-live KERNEL=6.12; the arm64
# guest: make ARCH=arm64 bench-live KERNEL=7.3-arm64, BIN and EMPTY_PAIR cross-built)
#
# What dmabuf-audit costs the kernel it watches, in one guest boot: the test
# module's bench entry (a tight loop of each dma-buf hot path and of a
# ww_mutex that is no dma-buf's, timed in the kernel) runs with nothing
# attached, with an empty fentry/fexit pair on the same functions
# (tests/bench/empty_pair.bpf.c), and under dmabuf-audit watch in each mode,
# the settings alternated for several rounds (tests/vm/bench.sh).  Prints
# the table (tests/bench/bench-live-report.py); outputs in
# build/bench-live/SERIES/.  Environment: BENCH_N (iterations per path,
# default 1500: one path's events fit the default ring buffer), BENCH_PAUSE
# (seconds after each path for the consumer to drain, default 2),
# BENCH_ROUNDS (default 3), BENCH_SETTINGS (default "floor pair mirror watch
# modfentry kprobe stacks"; mirror: watch's programs returning at once, DMABUF_AUDIT_BENCH_MIRROR=1; modfentry: --module-mode fentry), BENCH_BASE (another static build of dmabuf-audit: adds the
# setting "base", its watch in default mode, alternated with the others so
# that a change to the BPF programs is measured in one boot),
# BENCH_BPFTRACE (a bpftrace binary, e.g. /usr/bin/bpftrace from Debian's
# package: packed with its libraries, adds the setting "bpftrace", the script
# a kernel developer would write, and boots the guest with 2 GiB),
# BENCH_LIBBPF_TOOL (a libbpf-tools tool, /usr/sbin/opensnoop from Debian's
# libbpf-tools: packed with its libraries for the startup setting),
# VMTEST_TIMEOUT (default 1500 s).
# Not a timed test: it fails only when the guest or a path fails.
set -uo pipefail
VM_LOG_TAG=bench-live
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/../tests/vm/vm-lib.sh"

bin=${1:?usage: bench-live.sh BIN EMPTY_PAIR SERIES}
pair=${2:?missing EMPTY_PAIR}
series=${3:?missing SERIES}
out=$DA_ROOT/build/bench-live/$series
rm -rf "$out"
mkdir -p "$out"
opts=(--bench "$pair" --bench-n "${BENCH_N:-1500}" --bench-rounds "${BENCH_ROUNDS:-3}"
	--bench-pause "${BENCH_PAUSE:-2}"
	--bench-settings "${BENCH_SETTINGS:-floor pair mirror ${BENCH_BPFTRACE:+bpftrace }${BENCH_BASE:+base }watch modfentry kprobe stacks}")
[ -z "${BENCH_BASE:-}" ] || opts+=(--bench-base "$BENCH_BASE")
[ -z "${BENCH_LIBBPF_TOOL:-}" ] || opts+=(--libbpf-tool "$BENCH_LIBBPF_TOOL")
[ ! -x "$(dirname "$pair")/startup-clock" ] || opts+=(--startup-clock "$(dirname "$pair")/startup-clock")
if [ -n "${BENCH_BPFTRACE:-}" ]; then
	opts+=(--bpftrace "$BENCH_BPFTRACE")
	export VM_MEM=${VM_MEM:-2G}
fi
echo "# $series: building the guest initramfs"
"$DA_VM/vm-initramfs.sh" "$series" "$bin" "$out/initrd.cpio.gz" "${opts[@]}" \
	>"$out/initramfs.env" 2>"$out/build.log" || vm_die "initramfs build failed, see $out/build.log"
eval "$(cat "$out/initramfs.env")"
echo "# $series: booting $KREL under QEMU TCG"
t0=$(date +%s)
"$DA_VM/vm-boot.sh" "$VMLINUZ" "$out/initrd.cpio.gz" "$out" "${VMTEST_TIMEOUT:-1500}"
rc=$?
echo "# $series: guest finished in $(($(date +%s) - t0))s (exit $rc)"
python3 "$DA_ROOT/tests/bench/bench-live-report.py" "$out/results.stream" | tee "$out/table.txt"
report_rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || { echo "bench-live: the guest failed (exit $rc), see $out/console.log"; exit 1; }
exit "$report_rc"
