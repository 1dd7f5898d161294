#!/bin/bash
# vmtest.sh BIN SERIES... (make vmtest KERNELS="6.1 6.12 7.3")
#
# SERIES as tests/vm/fetch-kernel.sh names them: 6.1, 6.12, 7.3, and 6.12-rt
# (PREEMPT_RT), 6.12-newest, sid (the newest kernels, picked at fetch time),
# 7.3-arm64 (the arm64 guest).
#
# The guest scenario suite.  For each Debian kernel series: build the guest
# initramfs (tests/vm/vm-initramfs.sh: test module, triggers, BIN, policy; the
# real-driver test where the kernel has udmabuf and vgem; the kernel's own
# dma-buf selftests on 6.12 and 7.3), boot it once under QEMU TCG
# (tests/vm/vm-boot.sh; every scenario runs in that one boot, each under its own
# `dmabuf-audit run`), then judge everything on the host with
# tests/vm/compare.py: TAP lines (one per kernel x case), a table
# case x kernel -> expected / seen, and the time each kernel took.  On 7.x a
# second guest runs the real-VFIO suite (tests/vfio: intel-iommu, ivshmem
# bound to vfio-pci), judged with compare.py --vfio.
# Outputs in build/vmtest/SERIES/ (and SERIES-vfio/).  Environment: VMTEST_TIMEOUT (seconds per
# guest, default 1500), VM_CONSOLE=1 (show the guest console while it runs),
# VMTEST_ONLY=vfio (only the real-VFIO guest of each 7.x series) or main (no
# VFIO guest), VMTEST_SCENARIOS="S..." (the scenario guests run and are judged
# on these scenarios only, as the arm64 guest).
#
# vmtest.sh --plan BIN SERIES...: print the guests the run would boot, one
# line each, without fetching or booting anything (tests/vm/plan_check.py
# checks them in `make check`):
#   SERIES GUEST ARCH MACHINE BIN CC       a guest (GUEST: scenarios, vfio)
#   SERIES GUEST skip REASON...            a guest this series cannot have
# Every guest is planned from its series' architecture (plan_series): the
# binary, the compiler of the static guest programs and the QEMU machine
# are that architecture's; a guest a series cannot serve is a TAP `# SKIP`
# with its reason in the run's results, never a failure nor left out.
set -uo pipefail
VM_LOG_TAG=vmtest
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

plan_only=
if [ "${1:-}" = --plan ]; then
	plan_only=1
	shift
fi
bin=${1:?usage: vmtest.sh [--plan] BIN SERIES...}
shift
[ $# -gt 0 ] || vm_die "usage: vmtest.sh [--plan] BIN SERIES..."
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
limit=${VMTEST_TIMEOUT:-1500}
# run again with the kprobe fallback forced: between them they use every
# core hook (map/unmap locked and unlocked, pin/unpin, vmap, fence waits,
# scopes, the resv unlock)
kprobe_scenarios="missing-fence-wait ok-revoke ok-static ok-vmap unbalanced-unpin"
# An -arm64 series boots the arm64 binary ($DA_BIN_ARM64, make ARCH=arm64)
# in qemu-system-aarch64 (TCG emulating another ISA: slower); by default it
# runs this representative subset: a finding of each kind of hook (access,
# fence wait, reservation lock, pin, mapping, revoke scope) and the correct
# drivers, among them every kprobe scenario.  VMTEST_ARM64_SCENARIOS=all
# (make vmtest-full) runs them all.
arm64_scenarios=${VMTEST_ARM64_SCENARIOS:-"access-after-revoke access-after-revoke-vmap
	missing-fence-wait fence-wait-incomplete resv-not-held revoke-stalled pin-leak
	unbalanced-unpin mapping-leak non-revocable-importer-accepted ok-revoke ok-dynamic-move
	ok-static ok-vmap"}
arm64_scenarios=$(echo $arm64_scenarios)
# the revoke storm in the VFIO guest (tests/storm): on the fixed drivers for
# VMTEST_STORM_SECONDS, after each bug variant for VMTEST_STORM_VARIANT_SECONDS
# (0: none; make vmtest-storm sets both), seeded with VMTEST_STORM_SEED (a new
# one each run by default: the TAP line prints it).  Off by default in make
# vmtest; make test sets VMTEST_STORM_SECONDS=75 (the short storm), make
# vmtest-storm (also the end of make vmtest-full) the long one and the variants.
storm_seconds=${VMTEST_STORM_SECONDS:-0}
storm_variant_seconds=${VMTEST_STORM_VARIANT_SECONDS:-0}
storm_seed=${VMTEST_STORM_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

# plan_series SERIES: what its guests need, from the series' architecture
# (an -arm64 series: tests/vm/fetch-kernel.sh) and kernel version.  Sets
# plan_arch (amd64, arm64), plan_bin (the dmabuf-audit built for it: make,
# or make arm64 -> $DA_BIN_ARM64), plan_cc (the compiler of the static guest
# programs, tests/vm/vm-initramfs.sh), plan_machine and plan_vfio_machine
# (tests/vm/vm-boot.sh's -machine: VM_MACHINE), and plan_vfio_skip (why the series has
# no real-VFIO guest; empty when it has one).
plan_series() {
	case "$1" in
	*-arm64)
		plan_arch=arm64
		plan_bin=${DA_BIN_ARM64:-$DA_ROOT/build/arm64/dmabuf-audit}
		plan_cc=aarch64-linux-gnu-gcc
		plan_machine=virt
		plan_vfio_machine=virt,iommu=smmuv3,gic-version=3
		;;
	*)
		plan_arch=amd64
		plan_bin=$bin
		plan_cc=gcc
		plan_machine=q35
		plan_vfio_machine=q35,kernel-irqchip=split
		;;
	esac
	case "$1" in
	7.*) plan_vfio_skip= ;;
	*) plan_vfio_skip="the real-VFIO suite runs on the 7.N series: VFIO exports dma-bufs since 6.19 and iommufd is rebuilt from linux-source-7.N" ;;
	esac
}

# plan_print SERIES...: the --plan lines (see the header)
plan_print() {
	local series
	for series in "$@"; do
		plan_series "$series"
		if [ "${VMTEST_ONLY:-}" != vfio ]; then
			echo "$series scenarios $plan_arch $plan_machine $plan_bin $plan_cc"
		fi
		if [ "${VMTEST_ONLY:-}" = main ]; then
			continue
		elif [ -n "$plan_vfio_skip" ]; then
			echo "$series vfio skip $plan_vfio_skip"
		else
			echo "$series vfio $plan_arch $plan_vfio_machine $plan_bin $plan_cc"
		fi
	done
}
if [ -n "$plan_only" ]; then
	plan_print "$@"
	exit 0
fi

# vfio_guest SERIES: build the --vfio initramfs and boot it with VM_VFIO=1
# (intel-iommu, ivshmem) into build/vmtest/SERIES-vfio, judged with --vfio
vfio_guest() {
	local series=$1 out=$DA_ROOT/build/vmtest/$1-vfio t0 t1 t2
	plan_series "$series"
	if [ -n "$plan_vfio_skip" ]; then
		skips+=(--skip "$series VFIO guest" "$plan_vfio_skip")
		return
	fi
	rm -rf "$out"
	mkdir -p "$out"
	vfio_specs+=(--vfio "$series:$out")
	t0=$(date +%s)
	echo "# $series: building the VFIO guest initramfs ($plan_arch, $plan_vfio_machine)"
	if ! "$DA_VM/vm-initramfs.sh" "$series" "$plan_bin" "$out/initrd.cpio.gz" --vfio --iommufd \
		--storm-seconds "$storm_seconds" --storm-seed "$storm_seed" \
		--storm-variant-seconds "$storm_variant_seconds" \
		>"$out/initramfs.env" 2>"$out/build.log"; then
		touch "$out/build.failed"
		echo "# $series: VFIO initramfs build failed (see $out/build.log)"
		return
	fi
	eval "$(cat "$out/initramfs.env")"
	t1=$(date +%s)
	echo "# $series: booting the VFIO guest under QEMU TCG (limit ${limit}s)"
	VM_VFIO=1 VM_MACHINE=$plan_vfio_machine "$DA_VM/vm-boot.sh" "$VMLINUZ" "$out/initrd.cpio.gz" "$out" "$limit"
	echo $? >"$out/boot.rc"
	t2=$(date +%s)
	printf 'build_s %d\nguest_s %d\ntotal_s %d\n' $((t1 - t0)) $((t2 - t1)) $((t2 - t0)) \
		>"$out/times.txt"
	echo "# $series: VFIO guest finished in $((t2 - t1))s (exit $(cat "$out/boot.rc"))"
}

specs=()
vfio_specs=()
skips=()
for series in "$@"; do
	if [ "${VMTEST_ONLY:-}" = vfio ]; then
		vfio_guest "$series"
		continue
	fi
	out=$DA_ROOT/build/vmtest/$series
	rm -rf "$out"
	mkdir -p "$out"
	specs+=("$series:$out")
	t0=$(date +%s)
	opts=()
	plan_series "$series"
	series_bin=$plan_bin
	[ -x "$series_bin" ] || echo "# $series: $series_bin is not built (make ARCH=$plan_arch)"
	case "$series" in
	*-arm64)
		if [ "$arm64_scenarios" != all ]; then
			opts+=(--scenarios "$arm64_scenarios")
			echo "$arm64_scenarios" >"$out/scenarios.subset"
		fi
		;;
	esac
	if [ -n "${VMTEST_SCENARIOS:-}" ]; then
		opts+=(--scenarios "$VMTEST_SCENARIOS")
		echo "$VMTEST_SCENARIOS" >"$out/scenarios.subset"
	fi
	case "$series" in
	6.1 | 6.1-*) ;;			# no udmabuf, no dma-heaps in Debian's 6.1
	6.12 | 7.3) opts+=(--real --selftests) ;;
	*) opts+=(--real) ;;
	esac
	echo "# $series: building the guest initramfs"
	if ! "$DA_VM/vm-initramfs.sh" "$series" "$series_bin" "$out/initrd.cpio.gz" "${opts[@]}" \
		--kprobe "$kprobe_scenarios" \
		>"$out/initramfs.env" 2>"$out/build.log"; then
		touch "$out/build.failed"
		echo "# $series: initramfs build failed (see $out/build.log)"
		continue
	fi
	grep '^build-kmod:' "$out/build.log" | sed 's/^/# /'
	eval "$(cat "$out/initramfs.env")"
	t1=$(date +%s)
	echo "# $series: booting $KREL under QEMU TCG (limit ${limit}s)"
	VM_MACHINE=$plan_machine "$DA_VM/vm-boot.sh" "$VMLINUZ" "$out/initrd.cpio.gz" "$out" "$limit"
	echo $? >"$out/boot.rc"
	t2=$(date +%s)
	printf 'build_s %d\nguest_s %d\ntotal_s %d\n' $((t1 - t0)) $((t2 - t1)) $((t2 - t0)) \
		>"$out/times.txt"
	echo "# $series: guest finished in $((t2 - t1))s (exit $(cat "$out/boot.rc"))"
	# the real-VFIO suite (tests/vfio) in a guest of its own (7.x: VFIO
	# exports dma-bufs since 6.19; plan_series says why another has none)
	[ "${VMTEST_ONLY:-}" = main ] || vfio_guest "$series"
done

# the kernel's own KTAP parser, for the selftests' nested documents
kunit=$("$DA_VM/kunit-parser.sh" 7.3) || kunit=
python3 "$DA_ROOT/tests/vm/compare.py" --bin "$bin" --expect "$DA_ROOT/tests/vm/expect" \
	--policy "$DA_ROOT/tests/vm/policy" --kprobe-scenarios "$kprobe_scenarios" --kunit "$kunit" \
	"${skips[@]}" "${vfio_specs[@]}" "${specs[@]}"
