#!/bin/bash
# build-iommufd.sh SERIES OUTDIR [PATCH...]
#
# The real iommufd for the real-driver suite (tests/vfio, docs/testing.md).
# Debian builds its 7.x kernels without CONFIG_IOMMUFD (no /dev/iommu, no
# VFIO device cdev, no IOMMU_IOAS_MAP_FILE).  This builds, from Debian's own
# linux-source-SERIES and against the same headers (tests/vm/build-kmod.sh's
# object tree, in the trixie chroot), the modules that differ once iommufd
# is on: iommufd, iommufd_driver, vfio (with the device cdev and its iommufd
# glue), vfio_iommu_type1, vfio-pci-core and vfio-pci.  The sources are
# unmodified: only the config defines (KCFLAGS) change, and the part of
# lib/interval_tree.c Debian's vmlinux lacks (the span iterator,
# CONFIG_INTERVAL_TREE_SPAN_ITER) is compiled into iommufd.ko.
#
# With PATCHes (e.g. tests/vfio/patches/*.patch, a historical bug put back)
# the unpatched set is built first; then the patches are applied with
# `patch -p1` and only the module directories they touch are built again,
# against the unpatched set's Module.symvers; the other modules are the
# unpatched ones.  Builds are cached in $DA_CACHE/iommufd/KREL-HASH, HASH
# over the source package, the patches and the build recipe (RECIPE below:
# bump it when the build changes), so each variant is built once (per
# kernel: KREL names the architecture too).  arm64 kernels (7.3-arm64) are
# cross-built like tests/vm/build-kmod.sh's module.  OUTDIR gets the .ko files.
set -euo pipefail
VM_LOG_TAG=build-iommufd
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

series=${1:?usage: build-iommufd.sh SERIES OUTDIR [PATCH...]}
outdir=${2:?usage: build-iommufd.sh SERIES OUTDIR [PATCH...]}
shift 2
patches=()
for p in "$@"; do
	[ -f "$p" ] || vm_die "no patch $p"
	patches+=("$(cd "$(dirname "$p")" && pwd)/$(basename "$p")")
done
case "$series" in
7.*) ;;
*) vm_die "iommufd imports dma-bufs since 6.19: series $series is not supported" ;;
esac
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

vm_kernel "$series" --headers --modules --source
[ -f "$SOURCE" ] || vm_die "no linux-source tarball for $series"
common=$(ls -d "$KDIR"/usr/src/linux-headers-*-common | head -n 1)
# the object tree and its headers: prepared (once, cached) by build-kmod.sh
objtree=$DA_CACHE/kbuild/$KREL
[ -f "$objtree/.ready" ] || "$DA_VM/build-kmod.sh" "$series" "$DA_ROOT/build/iommufd/kmod" >&2

RECIPE=2
MODULES="iommufd iommufd_driver vfio vfio_iommu_type1 vfio-pci-core vfio-pci"
DIRS="drivers/iommu/iommufd drivers/vfio drivers/vfio/pci"
key=$({
	basename "$SOURCE"
	stat -c %s "$SOURCE"
	cat "${patches[@]}" /dev/null
	echo "recipe $RECIPE"
} | sha256sum | cut -c1-16)
cache=$DA_CACHE/iommufd/$KREL-$key
base=
dirs=$DIRS
if [ ${#patches[@]} -gt 0 ]; then
	"$0" "$series" "$DA_ROOT/build/iommufd/base-$KREL" >&2
	base=$(cat "$DA_ROOT/build/iommufd/base-$KREL/.cache")
	# the module directories the patches touch (lib/interval_tree.c is built in iommufd's)
	dirs=$(sed -n 's|^+++ b/\(.*\)/[^/]*$|\1|p' "${patches[@]}" |
		sed 's|^lib$|drivers/iommu/iommufd|' | sort -u | tr '\n' ' ')
	for d in $dirs; do
		case " $DIRS " in *" $d "*) ;; *) vm_die "a patch touches $d: not built here" ;; esac
	done
fi
if [ -f "$cache/.ready" ]; then
	vm_log "cached: $cache"
else
	# the few source directories needed, extracted once per source package
	pristine=$DA_CACHE/iommufd/src-$(basename "$SOURCE" .tar.xz)-$(stat -c %s "$SOURCE")
	if [ ! -f "$pristine/.ready" ]; then
		top=$(basename "$SOURCE" .tar.xz) # linux-source-SERIES, its top directory
		rm -rf "$pristine.tmp"
		mkdir -p "$pristine.tmp"
		tar xJf "$SOURCE" -C "$pristine.tmp" --strip-components=1 \
			"$top/drivers/iommu/iommufd" "$top/drivers/iommu/iommu-priv.h" \
			"$top/drivers/iommu/iommu-pages.h" "$top/drivers/vfio" \
			"$top/lib/interval_tree.c"
		touch "$pristine.tmp/.ready"
		rm -rf "$pristine"
		mv "$pristine.tmp" "$pristine"
	fi
	src=$DA_ROOT/build/iommufd/$KREL-$key
	rm -rf "$src"
	mkdir -p "$src"
	cp -a "$pristine/." "$src/"
	rm -f "$src/.ready"
	for p in "${patches[@]}"; do
		(cd "$src" && patch -p1 --no-backup-if-mismatch <"$p" >&2) ||
			vm_die "patch $p does not apply to $(basename "$SOURCE")"
	done
	# the span iterator only: the rest of lib/interval_tree.c is in vmlinux
	{
		sed -n '1,/^#include/p;/^#include/p' "$src/lib/interval_tree.c" | sort -u | grep '^#include'
		sed -n '/^#ifdef CONFIG_INTERVAL_TREE_SPAN_ITER/,/^#endif/p' "$src/lib/interval_tree.c"
	} >"$src/drivers/iommu/iommufd/interval_tree_span.c"
	# Kbuild files win over the in-tree Makefiles, which use Debian's config
	for d in $dirs; do echo "obj-m += $d/"; done >"$src/Kbuild"
	cat >"$src/drivers/iommu/iommufd/Kbuild" <<'EOF'
obj-m += iommufd.o iommufd_driver.o
iommufd-y := device.o eventq.o hw_pagetable.o io_pagetable.o ioas.o main.o pages.o \
	vfio_compat.o viommu.o interval_tree_span.o
iommufd_driver-y := driver.o
EOF
	cat >"$src/drivers/vfio/Kbuild" <<'EOF'
obj-m += vfio.o vfio_iommu_type1.o
vfio-y := vfio_main.o device_cdev.o group.o iommufd.o container.o virqfd.o
EOF
	cat >"$src/drivers/vfio/pci/Kbuild" <<'EOF'
obj-m += vfio-pci-core.o vfio-pci.o
vfio-pci-core-y := vfio_pci_core.o vfio_pci_intrs.o vfio_pci_rdwr.o vfio_pci_config.o \
	vfio_pci_dmabuf.o
vfio-pci-y := vfio_pci.o
vfio-pci-$(CONFIG_VFIO_PCI_IGD) += vfio_pci_igd.o
EOF
	defines="-DCONFIG_IOMMUFD_MODULE=1 -DCONFIG_IOMMUFD_DRIVER_CORE_MODULE=1"
	defines="$defines -DCONFIG_VFIO_DEVICE_CDEV=1 -DCONFIG_INTERVAL_TREE_SPAN_ITER=1"
	kbuild=$(ls -d "$KDIR"/usr/lib/linux-kbuild-* | head -n 1)
	kmake="make -j2 -C $objtree -f $common/Makefile M=$src KBUILD_OUTPUT=$objtree"
	if [ -n "$base" ]; then
		cp "$base/Module.symvers" "$src/base.symvers" # inside the chroot's bind mounts
		kmake="$kmake KBUILD_EXTRA_SYMBOLS=$src/base.symvers"
	fi
	[ -x "$kbuild/tools/bpf/resolve_btfids/resolve_btfids" ] || kmake="$kmake RESOLVE_BTFIDS=true"
	root=$(vm_trixie_chroot)
	if [ "$KARCH" = arm64 ]; then
		# cross-built as tests/vm/build-kmod.sh builds the test module: the
		# suite's gcc-N-aarch64-linux-gnu (the kernel's compiler), the
		# amd64 kbuild host tools of the same version
		kcc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([a-z0-9_]*-linux-gnu-\)\{0,1\}\(gcc-[0-9]*\).*/\2/p' \
			"$HEADERS/.config")
		root=$(vm_suite_chroot "$KSUITE" "$kcc-aarch64-linux-gnu")
		kmake="$kmake ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
	fi
	log=$src/build.log
	t0=$(date +%s)
	vm_in_chroot "$root" "$KDIR" "$objtree" "$src" -- \
		"$kmake KCFLAGS='$defines' modules" >"$log" 2>&1 || {
		tail -40 "$log" >&2
		vm_die "building iommufd and VFIO for $KREL failed (log: $log)"
	}
	vm_log "built $dirs in $(($(date +%s) - t0)) s"
	rm -rf "$cache.tmp"
	mkdir -p "$cache.tmp"
	for m in $MODULES; do
		f=$(find "$src" -name "$m.ko" | head -n 1)
		[ -n "$f" ] || f=${base:+$base/$m.ko}
		[ -f "$f" ] || vm_die "$m.ko was not built"
		cp "$f" "$cache.tmp/"
	done
	cp "$src/Module.symvers" "$cache.tmp/"
	touch "$cache.tmp/.ready"
	rm -rf "$cache"
	mv "$cache.tmp" "$cache"
fi
for m in $MODULES; do
	cp "$cache/$m.ko" "$outdir/"
done
echo "$cache" >"$outdir/.cache"
echo "build-iommufd: $KREL: $MODULES in $outdir (${#patches[@]} patch(es), cache $cache)"
