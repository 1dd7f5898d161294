#!/bin/bash
# vm-boot.sh VMLINUZ INITRD OUTDIR TIMEOUT_SEC
#
# Boot one guest under QEMU (TCG: KVM is not dependable on these machines,
# see docs/testing.md) with the console on the first serial port
# (OUTDIR/console.log) and the results stream on the second
# (OUTDIR/results.stream, decoded by tests/vm/compare.py).  The guest powers
# itself off when done (panic=-1 -no-reboot: a panic ends the boot too).
# Exit status: QEMU's, or 124 when TIMEOUT_SEC passed (the guest is killed).
# A guest kernel that dies during its own boot, before /init sent anything
# (seen once with 7.3 under multi-threaded TCG: an "Oops: int3" while the
# kernel patched its text), is booted once more; OUTDIR/boot-retry says so
# and the first console is kept as OUTDIR/console.attempt1.log.
# Environment: VM_MACHINE (QEMU's -machine: tests/vm/vmtest.sh's plan; default
# q35, virt for an arm64 kernel), VM_MEM (default 1G), VM_SMP (default 2), VM_CONSOLE=1 also
# copies the console to standard error while it runs.  VM_VFIO=1: the
# real-VFIO guest (tests/vfio): an emulated Intel IOMMU with interrupt
# remapping (vfio_iommu_type1 refuses a group without it) and an
# ivshmem-plain device (4 MiB BAR 2 on a RAM backend) behind a PCIe root
# port (so vfio-pci has a bus reset for it), intel_iommu=on; on arm64 the
# virt machine's SMMUv3 and a GICv3 ITS (below).
set -euo pipefail
vmlinuz=${1:?usage: vm-boot.sh VMLINUZ INITRD OUTDIR TIMEOUT_SEC}
initrd=${2:?missing INITRD}
outdir=${3:?missing OUTDIR}
limit=${4:?missing TIMEOUT_SEC}
mkdir -p "$outdir"
command -v qemu-system-x86_64 >/dev/null || {
	echo "vm-boot: qemu-system-x86_64 is not installed (make deps)" >&2
	exit 2
}

machine=${VM_MACHINE:-q35}
vfio_args=()
vfio_append=
if [ "${VM_VFIO:-0}" = 1 ]; then
	machine=${VM_MACHINE:-q35,kernel-irqchip=split}
	# shellcheck disable=SC2054 # the commas separate QEMU's suboptions
	vfio_args=(-device intel-iommu,intremap=on,eim=off
		-object memory-backend-ram,id=datmem,size=4M
		-device pcie-root-port,id=datrp,bus=pcie.0,chassis=1,slot=1
		-device ivshmem-plain,memdev=datmem,bus=datrp)
	vfio_append=" intel_iommu=on"
fi

tail_pid=
if [ "${VM_CONSOLE:-0}" = 1 ]; then
	tail -n +1 -f "$outdir/console.log" >&2 &
	tail_pid=$!
fi

boot() {
	: >"$outdir/console.log"
	: >"$outdir/results.stream"
	set +e
	timeout -s KILL "$limit" qemu-system-x86_64 \
		-machine "$machine" -accel tcg,thread=single -cpu max -m "${VM_MEM:-1G}" -smp "${VM_SMP:-2}" \
		"${vfio_args[@]}" \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 edd=off quiet loglevel=4 oops=panic$vfio_append" \
		-display none -monitor none -no-reboot \
		-serial "file:$outdir/console.log" -serial "file:$outdir/results.stream" \
		</dev/null >"$outdir/qemu.log" 2>&1
	rc=$?
	set -e
	[ "$rc" = 137 ] && rc=124
	return 0
}

# An arm64 kernel (an arm64 Image: "ARMd" at offset 56) boots in
# qemu-system-aarch64's virt machine (TCG, -cpu max with the cheaper
# implementation-defined pointer authentication), console on its PL011
# UART; it has no second UART, so the results stream goes out on a virtio
# console (/dev/hvc0 in the guest, DAT_RESULTS_TTY in tests/vm/init).
if [ "$(dd if="$vmlinuz" bs=1 skip=56 count=4 status=none 2>/dev/null | tr -d '\0')" = ARMd ]; then
	command -v qemu-system-aarch64 >/dev/null || {
		echo "vm-boot: qemu-system-aarch64 is not installed (make ARCH=arm64 deps)" >&2
		exit 2
	}
	machine=${VM_MACHINE:-virt}
	vfio_args=()
	if [ "${VM_VFIO:-0}" = 1 ]; then
		# the real-VFIO guest on arm64: an emulated SMMUv3 in front of the
		# PCIe host bridge, GICv3 with its ITS (its MSIs are isolated:
		# vfio_iommu_type1 and iommufd refuse a device whose MSIs are not;
		# virt's default GICv2m is not), ivshmem-plain behind a root port
		machine=${VM_MACHINE:-virt,iommu=smmuv3,gic-version=3}
		# shellcheck disable=SC2054 # the commas separate QEMU's suboptions
		vfio_args=(-object memory-backend-ram,id=datmem,size=4M
			-device pcie-root-port,id=datrp,bus=pcie.0,chassis=1,slot=1
			-device ivshmem-plain,memdev=datmem,bus=datrp)
	fi
	case "$machine" in
	virt | virt,*) ;;
	*)
		echo "vm-boot: $vmlinuz is an arm64 kernel: machine $machine cannot boot it" >&2
		exit 2
		;;
	esac
	boot() {
		: >"$outdir/console.log"
		: >"$outdir/results.stream"
		set +e
		timeout -s KILL "$limit" qemu-system-aarch64 \
			-machine "$machine" -accel tcg -cpu max,pauth-impdef=on -m "${VM_MEM:-1G}" \
			-smp "${VM_SMP:-2}" "${vfio_args[@]}" -kernel "$vmlinuz" -initrd "$initrd" \
			-append "console=ttyAMA0 panic=-1 quiet loglevel=4 oops=panic" \
			-display none -monitor none -no-reboot -serial "file:$outdir/console.log" \
			-device virtio-serial-pci -chardev "file,id=results,path=$outdir/results.stream" \
			-device virtconsole,chardev=results \
			</dev/null >"$outdir/qemu.log" 2>&1
		rc=$?
		set -e
		[ "$rc" = 137 ] && rc=124
		return 0
	}
fi

rm -f "$outdir/boot-retry" "$outdir/console.attempt1.log"
boot
if [ ! -s "$outdir/results.stream" ] && grep -qE 'Oops|Kernel panic' "$outdir/console.log"; then
	why=$(grep -m1 -E 'Oops|Kernel panic' "$outdir/console.log" | sed 's/^\[[^]]*\] //')
	echo "vm-boot: the guest kernel died during its boot, before /init ($why);" \
		"booting it once more" >&2
	echo "$why" >"$outdir/boot-retry"
	cp "$outdir/console.log" "$outdir/console.attempt1.log"
	boot
fi
if [ -n "$tail_pid" ]; then
	sleep 0.5
	kill "$tail_pid" 2>/dev/null || true
	wait "$tail_pid" 2>/dev/null || true
fi
exit "$rc"
