#!/bin/bash
# vm-initramfs.sh SERIES BIN OUT.cpio.gz [--demo] [--scenarios "A B|all"] [--kprobe "A B"]
#                 [--real] [--selftests] [--vfio [--iommufd]]
#                 [--bench EMPTY_PAIR_BIN --bench-n N --bench-rounds R --bench-pause S --bench-settings "S..."
#                  --bench-base OTHER_BIN] [--bpftrace BPFTRACE_BIN]
#                 [--startup-clock BIN] [--libbpf-tool BIN]
#                 [--soak --soak-seed N --soak-seconds S]
#                 [--storm-seconds S --storm-seed N --storm-variant-seconds S]
#
# Pack the guest initramfs for one Debian kernel series: busybox (static),
# the dmabuf-audit binary BIN (static; a dynamic one, the package's, comes
# with its loader and shared libraries), the test module built for that kernel
# (tests/vm/build-kmod.sh), the static trigger programs (tests/vm/*.c), the guest
# runner tests/vm/init as /init, the test policy, and with --real the vgem
# modules (decompressed on the host: busybox insmod reads plain .ko only) plus
# with --selftests the kernel's own dma-buf selftests (tests/vm/vm-selftests.sh).
# --vfio packs the real-VFIO suite instead of the scenarios (tests/vfio, for
# a guest booted with VM_VFIO=1): Debian's VFIO modules, the test module's
# importer dat_importer.ko, the static dat-vfio program and tests/vfio/run.sh;
# --iommufd adds the real iommufd and the VFIO modules built with it
# (tests/vm/build-iommufd.sh), loaded in place of Debian's for the iommufd flows.
# --vfio also packs the revoke storm (tests/storm: dat-storm, /etc/storm.sh):
# --storm-seconds S on the fixed drivers after the iommufd flows (0: none),
# --storm-variant-seconds S after each bug variant's flow (0, the default: none).
# --bench packs the live benchmark instead of the suite (tools/bench-live.sh):
# the empty fentry/fexit pair loader and tests/vm/bench.sh as /etc/bench.sh.
# --bpftrace packs a dynamically linked bpftrace (Debian's package) with every
# shared library ldd lists, at the host's paths (the bench's bpftrace setting;
# about 200 MB unpacked: boot the guest with VM_MEM=2G).
# --startup-clock packs the bench's stopwatch (tests/bench/startup-clock.c) and
# --libbpf-tool a libbpf-tools tool (Debian's, dynamic: with its libraries) as
# /bin/libbpf-tool, for the bench's startup setting.
# --soak packs the soak test instead (tests/vm/soak.sh; implies --real):
# tests/soak/guest.sh as /etc/soak.sh, the workload tests/soak/dat-soak.c, and
# the host's bpftool with its libraries (the guest lists BPF programs and
# links before, during and after); its work tree is apart from the suite's,
# so a soak build can run beside a vmtest build of the same kernel.
# Prints KREL=... and VMLINUZ=... for the caller to eval.
set -euo pipefail
VM_LOG_TAG=vm-initramfs
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

series=${1:?usage: vm-initramfs.sh SERIES BIN OUT.cpio.gz [options]}
bin=${2:?missing BIN}
out=${3:?missing OUT.cpio.gz}
shift 3
mode=vmtest
scenarios=all
kprobe_scenarios=
real=0
selftests=0
vfio=0
iommufd=0
empty_pair=
bench_base=
bench_n=1500
bench_pause=2
bench_rounds=3
bench_settings="floor pair watch kprobe stacks"
bpftrace=
startup_clock=
libbpf_tool=
soak_seed=1
soak_seconds=600
storm_seconds=0
storm_seed=1
storm_variant_seconds=0
while [ $# -gt 0 ]; do
	case "$1" in
	--demo) mode=demo ;;
	--scenarios) scenarios=$2; shift ;;
	--kprobe) kprobe_scenarios=$2; shift ;;
	--real) real=1 ;;
	--selftests) selftests=1 ;;
	--vfio) mode=vfio; vfio=1 ;;
	--iommufd) iommufd=1 ;;
	--bench) mode=bench; empty_pair=$2; shift ;;
	--bench-n) bench_n=$2; shift ;;
	--bench-rounds) bench_rounds=$2; shift ;;
	--bench-pause) bench_pause=$2; shift ;;
	--bench-settings) bench_settings=$2; shift ;;
	--bench-base) bench_base=$2; shift ;;
	--bpftrace) bpftrace=$2; shift ;;
	--startup-clock) startup_clock=$2; shift ;;
	--libbpf-tool) libbpf_tool=$2; shift ;;
	--soak) mode=soak; real=1 ;;
	--soak-seed) soak_seed=$2; shift ;;
	--soak-seconds) soak_seconds=$2; shift ;;
	--storm-seconds) storm_seconds=$2; shift ;;
	--storm-seed) storm_seed=$2; shift ;;
	--storm-variant-seconds) storm_variant_seconds=$2; shift ;;
	*) vm_die "unknown option $1" ;;
	esac
	shift
done

# pack_soak ROOT WORK: the soak test's guest side (see the header)
pack_soak() {
	local lib
	gcc -static -O2 -Wall -Wextra -pthread -o "$2/dat-soak" "$DA_ROOT/tests/soak/dat-soak.c" ||
		vm_die "building dat-soak failed"
	cp "$2/dat-soak" "$1/bin/"
	cp "$DA_ROOT/tests/soak/guest.sh" "$1/etc/soak.sh"
	command -v bpftool >/dev/null || vm_die "bpftool is not installed (make deps)"
	cp "$(command -v bpftool)" "$1/bin/bpftool"
	# its shared libraries and loader, at the paths it was linked with
	for lib in $(ldd "$(command -v bpftool)" | grep -o '/[^ ]*'); do
		mkdir -p "$1$(dirname "$lib")"
		cp -L "$lib" "$1$lib"
	done
}

# pack_shared_libs ROOT BIN: a dynamically linked BIN (the package's, issue 19) runs with its
# loader and every shared library it needs, recursively, from the host's multiarch folders
# for the guest's architecture (the :arm64 -dev packages of DEPS_ARM64 bring arm64's)
pack_shared_libs() {
	local triplet interp lib d f queue=("$2") seen=" "
	triplet=x86_64-linux-gnu
	[ "$KARCH" = arm64 ] && triplet=aarch64-linux-gnu
	interp=$(readelf -l "$2" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	mkdir -p "$1$(dirname "$interp")"
	cp -L "$interp" "$1$interp" || vm_die "$2's loader $interp is not installed"
	while [ ${#queue[@]} -gt 0 ]; do
		f=${queue[0]}
		queue=("${queue[@]:1}")
		for lib in $(readelf -d "$f" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
			[[ $seen == *" $lib "* ]] && continue
			seen+="$lib "
			for d in /lib/$triplet /usr/lib/$triplet ""; do
				[ -n "$d" ] || vm_die "$lib ($f needs it) is not installed for $triplet"
				[ -e "$d/$lib" ] || continue
				mkdir -p "$1$d"
				cp -L "$d/$lib" "$1$d/$lib"
				queue+=("$d/$lib")
				break
			done
		done
	done
}

[ -x "$bin" ] || vm_die "$bin is not built (make)"
dynamic_bin=
readelf -l "$bin" 2>/dev/null | grep -q 'Requesting program interpreter' && dynamic_bin=1
command -v cpio >/dev/null || vm_die "cpio is not installed (make deps)"

vm_kernel "$series" --modules
# the guest's architecture: its busybox, C compiler for the triggers, and the
# port the results stream goes out on (arm64's virt machine has one UART:
# the stream takes a virtio console, tests/vm/vm-boot.sh)
case "$KARCH" in
arm64)
	busybox=$(vm_arm64_busybox)
	guest_cc=aarch64-linux-gnu-gcc
	results_tty=/dev/hvc0
	;;
*)
	busybox=$(command -v busybox || true)
	guest_cc=gcc
	results_tty=/dev/ttyS1
	;;
esac
[ -n "$busybox" ] || vm_die "busybox is not installed (make deps: busybox-static)"
readelf -l "$busybox" | grep -q 'Requesting program interpreter' &&
	vm_die "$busybox is not static (install busybox-static)"
readelf -h "$bin" | grep -q "$(readelf -h "$busybox" | grep Machine:)" ||
	vm_die "$bin is not built for the guest's architecture ($KARCH): make ARCH=$KARCH"

work=$DA_ROOT/build/vm/$KREL
[ "$mode" = soak ] && work=$DA_ROOT/build/vm/$KREL-soak
root=$work/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc/dmabuf-audit,lib/dat/modules,proc,sys,dev,tmp,results,selftests}

# busybox and its applets
cp "$busybox" "$root/bin/busybox"
# the applets' names from the host's busybox (the same Debian package: an
# arm64 one cannot run here)
for a in $("$(command -v busybox || echo "$busybox")" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done

# the tool, the triggers, the module
cp "$bin" "$root/bin/dmabuf-audit"
[ -z "$dynamic_bin" ] || pack_shared_libs "$root" "$bin"
trigger_bin=$DA_ROOT/build/vm/bin
[ "$KARCH" = amd64 ] || trigger_bin=$DA_ROOT/build/vm/bin-$KARCH
mkdir -p "$trigger_bin"
for prog in dat-trigger dat-prime dat-notify; do
	if [ ! -x "$trigger_bin/$prog" ] ||
		[ "$DA_ROOT/tests/vm/$prog.c" -nt "$trigger_bin/$prog" ] ||
		[ "$DA_ROOT/tests/vm/dat-drivers.h" -nt "$trigger_bin/$prog" ]; then
		"$guest_cc" -static -O2 -Wall -Wextra -o "$trigger_bin/$prog" \
			"$DA_ROOT/tests/vm/$prog.c" || vm_die "building $prog failed"
	fi
	cp "$trigger_bin/$prog" "$root/bin/"
done
"$DA_VM/build-kmod.sh" "$series" "$work/kmod" >&2
cp "$work/kmod/dmabuf_audit_test.ko" "$root/lib/dat/"

cp "$DA_ROOT/tests/vm/init" "$root/init"
chmod +x "$root/init"
install -m 0755 "$DA_ROOT/tests/vm/dat-reload" "$root/bin/dat-reload"
cp "$DA_ROOT/tests/vm/policy" "$root/etc/dmabuf-audit/policy"

# real drivers: vgem (--real) or VFIO (--vfio) and their dependencies, in load order
if [ "$real" = 1 ] || [ "$vfio" = 1 ]; then
	[ -n "$MODDIR" ] || vm_die "no modules for $KREL"
	# depends= of a module file (.ko, .ko.xz, .ko.zst)
	mod_file() { find "$MODDIR/kernel" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" | head -n 1; }
	mod_cat() {
		case "$1" in
		*.xz) xz -dc "$1" ;;
		*.zst) zstd -qdc "$1" ;;
		*) cat "$1" ;;
		esac
	}
	order=()
	add_mod() {
		local name=${1//-/_} f deps d m
		for m in "${order[@]:-}"; do [ "$m" = "$name.ko" ] && return 0; done
		f=$(mod_file "$name")
		[ -z "$f" ] && f=$(mod_file "${name//_/-}")
		[ -n "$f" ] || vm_die "module $name not found in $MODDIR"
		deps=$(mod_cat "$f" | strings | sed -n 's/^depends=//p' | head -n 1)
		for d in ${deps//,/ }; do add_mod "$d"; done
		mod_cat "$f" >"$root/lib/dat/modules/$name.ko"
		order+=("$name.ko")
	}
	if [ "$real" = 1 ]; then
		add_mod vgem
		printf '%s\n' "${order[@]}" >"$root/lib/dat/modules.order"
	fi
	if [ "$vfio" = 1 ]; then
		order=()
		add_mod vfio_iommu_type1
		add_mod vfio_pci
		printf '%s\n' "${order[@]}" >"$root/lib/dat/vfio-modules.order"
		# the revoke storm's PRIME importer (tests/storm/guest.sh loads it)
		order=()
		add_mod vgem
		printf '%s\n' "${order[@]}" >"$root/lib/dat/storm-modules.order"
	fi
fi
if [ "$vfio" = 1 ]; then
	cp "$work/kmod/dat_importer.ko" "$root/lib/dat/"
	# for the guest's architecture, as the triggers
	if [ ! -x "$trigger_bin/dat-vfio" ] ||
		[ "$DA_ROOT/tests/vfio/dat-vfio.c" -nt "$trigger_bin/dat-vfio" ] ||
		[ "$DA_ROOT/tests/vfio/dat-vfio-uapi.h" -nt "$trigger_bin/dat-vfio" ]; then
		"$guest_cc" -static -O2 -Wall -Wextra -o "$trigger_bin/dat-vfio" \
			"$DA_ROOT/tests/vfio/dat-vfio.c" || vm_die "building dat-vfio failed"
	fi
	cp "$trigger_bin/dat-vfio" "$root/bin/"
	cp "$DA_ROOT/tests/vfio/run.sh" "$root/etc/vfio.sh"
	"$guest_cc" -static -O2 -Wall -Wextra -pthread -o "$work/dat-storm" \
		"$DA_ROOT/tests/storm/dat-storm.c" ||
		vm_die "building dat-storm failed"
	cp "$work/dat-storm" "$root/bin/"
	cp "$DA_ROOT/tests/storm/guest.sh" "$root/etc/storm.sh"
fi
if [ "$vfio" = 1 ] && [ "$iommufd" = 1 ]; then
	mkdir -p "$root/lib/dat/iommufd"
	"$DA_VM/build-iommufd.sh" "$series" "$work/iommufd" >&2
	# load order: what each needs first (irqbypass is Debian's, in modules/)
	for m in iommufd_driver iommufd vfio vfio_iommu_type1 vfio-pci-core vfio-pci; do
		cp "$work/iommufd/$m.ko" "$root/lib/dat/iommufd/"
		echo "$m.ko" >>"$root/lib/dat/iommufd/modules.order"
	done
	# each historical bug put back: the same set built with its patch, and
	# the dat-vfio flow its "Flow:" line names
	for p in "$DA_ROOT"/tests/vfio/patches/*.patch; do
		v=$(basename "$p" .patch)
		"$DA_VM/build-iommufd.sh" "$series" "$work/variants/$v" "$p" >&2
		mkdir -p "$root/lib/dat/variants/$v"
		cp "$work/variants/$v"/*.ko "$root/lib/dat/variants/$v/"
		cp "$root/lib/dat/iommufd/modules.order" "$root/lib/dat/variants/$v/"
		sed -n 's/^Flow: \([a-z-]*\).*/\1/p' "$p" >"$root/lib/dat/variants/$v/flow"
		[ -s "$root/lib/dat/variants/$v/flow" ] || vm_die "$p has no Flow: line"
	done
fi

if [ "$selftests" = 1 ]; then
	"$DA_VM/vm-selftests.sh" "$series" "$root/selftests" >&2
fi

cat >"$root/etc/vmtest.conf" <<EOF
DAT_MODE=$mode
DAT_SCENARIOS="$scenarios"
DAT_KPROBE_SCENARIOS="$kprobe_scenarios"
DAT_REAL=$real
DAT_SELFTESTS=$selftests
DAT_CASE_TIMEOUT=120
DAT_RESULTS_TTY=$results_tty
DAT_BENCH_N=$bench_n
DAT_BENCH_ROUNDS=$bench_rounds
DAT_BENCH_PAUSE=$bench_pause
DAT_BENCH_SETTINGS="$bench_settings"
DAT_SOAK_SEED=$soak_seed
DAT_SOAK_SECONDS=$soak_seconds
DAT_STORM_SECONDS=$storm_seconds
DAT_STORM_SEED=$storm_seed
DAT_STORM_VARIANT_SECONDS=$storm_variant_seconds
EOF
[ "$mode" = demo ] && cp "$DA_ROOT/tests/vm/demo.sh" "$root/etc/demo.sh"
if [ "$mode" = bench ]; then
	[ -x "$empty_pair" ] || vm_die "--bench: $empty_pair is not built (make bench-live)"
	cp "$empty_pair" "$root/bin/empty-pair"
	cp "$DA_ROOT/tests/vm/bench.sh" "$root/etc/bench.sh"
	[ -z "$bench_base" ] || cp "$bench_base" "$root/bin/dmabuf-audit-base"
fi

# bpftrace and its shared libraries (and the dynamic loader) at the host's paths
if [ -n "$bpftrace" ]; then
	[ -x "$bpftrace" ] || vm_die "--bpftrace: $bpftrace is not executable (apt-get install bpftrace)"
	mkdir -p "$root/usr/bin"
	cp -L "$bpftrace" "$root/usr/bin/bpftrace"
	for lib in $(ldd "$bpftrace" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
fi
[ -z "$startup_clock" ] || cp "$startup_clock" "$root/bin/startup-clock"
if [ -n "$libbpf_tool" ]; then
	[ -x "$libbpf_tool" ] || vm_die "--libbpf-tool: $libbpf_tool is not executable (apt-get install libbpf-tools)"
	cp -L "$libbpf_tool" "$root/bin/libbpf-tool"
	pack_shared_libs "$root" "$libbpf_tool"
fi
[ "$mode" = soak ] && pack_soak "$root" "$work"

# every module packed is built for the guest's architecture (a cross build
# gone wrong stops here, not as an insmod failure in the guest)
guest_machine=$(readelf -h "$busybox" | sed -n 's/^ *Machine: *//p')
while IFS= read -r ko; do
	readelf -h "$ko" | grep -q "Machine: *$guest_machine\$" ||
		vm_die "${ko#"$root"} is not built for the guest's architecture ($KARCH)"
done < <(find "$root" -name '*.ko')

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
echo "KREL=$KREL"
echo "VMLINUZ=$VMLINUZ"
