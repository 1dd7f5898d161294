#!/bin/bash
# soak.sh BIN [--build-only | --boot-only]   (make soak)
#
# The soak test: `dmabuf-audit watch` as a service runs for SOAK_SECONDS
# (default 600) in a Debian SOAK_KERNEL guest (default 6.12: udmabuf,
# dma-heaps and vgem) under QEMU TCG, while tests/soak/dat-soak.c churns
# udmabuf and heap buffers through vgem and the test module's correct flows,
# injects the module's bug scenarios at times drawn from SOAK_SEED, sends
# SIGHUP every 30 s with a changed policy and the -o file moved away, and
# reads the metrics file back every 5 s.  Then SIGTERM.  The host judges
# (tests/soak/judge.py): TAP lines.
#
# --build-only packs the initramfs and stops; --boot-only boots what an
# earlier --build-only packed, then judges.  `make test` uses the pair to
# build first (the suite's builds share build/vm/bin and build/kmod) and then
# run the guest beside the vmtest guests.
# Outputs in build/soak/.  Environment: SOAK_SECONDS, SOAK_SEED, SOAK_KERNEL,
# SOAK_TIMEOUT (seconds for the whole guest, default SOAK_SECONDS + 600),
# VM_CONSOLE=1 (show the guest console while it runs).
set -uo pipefail
VM_LOG_TAG=soak
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

bin=${1:?usage: soak.sh BIN [--build-only|--boot-only]}
phase=${2:-all}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
series=${SOAK_KERNEL:-6.12}
seconds=${SOAK_SECONDS:-600}
seed=${SOAK_SEED:-20261130}
limit=${SOAK_TIMEOUT:-$((seconds + 600))}
out=$DA_ROOT/build/soak

if [ "$phase" != --boot-only ]; then
	rm -rf "$out"
	mkdir -p "$out"
	t0=$(date +%s)
	echo "# soak: building the $series guest initramfs (seed $seed, ${seconds}s)"
	if ! "$DA_VM/vm-initramfs.sh" "$series" "$bin" "$out/initrd.cpio.gz" --soak \
		--soak-seed "$seed" --soak-seconds "$seconds" \
		>"$out/initramfs.env" 2>"$out/build.log"; then
		touch "$out/build.failed"
		echo "# soak: initramfs build failed (see $out/build.log)"
	fi
	echo "build_s $(($(date +%s) - t0))" >"$out/times.txt"
	[ "$phase" = --build-only ] && exit 0
fi

if [ -e "$out/build.failed" ] || [ ! -s "$out/initramfs.env" ]; then
	echo "not ok 1 - soak: the $series guest initramfs was not built (see $out/build.log)"
	exit 1
fi
eval "$(cat "$out/initramfs.env")"
t1=$(date +%s)
echo "# soak: booting $KREL under QEMU TCG for a ${seconds}s soak (limit ${limit}s)"
"$DA_VM/vm-boot.sh" "$VMLINUZ" "$out/initrd.cpio.gz" "$out" "$limit"
echo $? >"$out/boot.rc"
t2=$(date +%s)
echo "guest_s $((t2 - t1))" >>"$out/times.txt"
echo "# soak: guest finished in $((t2 - t1))s (exit $(cat "$out/boot.rc"))"
python3 "$DA_ROOT/tests/soak/judge.py" --expect "$DA_ROOT/tests/vm/expect" --seconds "$seconds" \
	"$out"
