#!/bin/bash
# build-kernel.sh SERIES [--print-cache]
#
# A kernel of our own from Debian's linux-source-SERIES (7.x only), for what
# no Debian kernel can run: the upstream iommufd selftest needs
# CONFIG_IOMMUFD_TEST (its mock IOMMU and mock dma-buf exporter in
# drivers/iommu/iommufd/selftest.c), which selects FAULT_INJECTION, needs
# DEBUG_KERNEL and iommu_device_register_bus() in vmlinux.
#
# Config: Debian's own (the headers' .config of the same version), then
#   - on:  IOMMUFD=m, IOMMUFD_TEST, FAULT_INJECTION, DEBUG_KERNEL,
#          VFIO_DEVICE_CDEV, DEBUG_INFO_BTF (+ module BTF), LOCALVERSION -dat
#   - cut: every module (=m) except $KEEP_MODULES below: Debian builds about
#          4000 modules, which is hours on two cores; the guests of this
#          kernel load only iommufd (and VFIO for the cdev).  Built-in (=y)
#          options stay Debian's, except what the toolchain or the guest
#          cannot have: Debian's module signing key (the build makes its
#          own, certs/signing_key.pem; lockdown selects MODULE_SIG), module
#          compression (busybox insmod reads plain .ko) and Rust (no rustc
#          in the build chroot; olddefconfig drops it by itself).
# Patches: tests/iommufd-selftest/patches/*.patch, applied with patch -p1 to
# the unpacked source: fixes the selftest needs to test anything (each one
# says why in its header).
# The build runs in the trixie chroot (7.x kbuild needs glibc 2.38) under
# `nice -n 10` with -j2, and is cached in $DA_CACHE/ownkernel/SERIES-HASH,
# HASH over the source package, Debian's config, this recipe (RECIPE: bump it
# when the config or build changes) and the patches.  The cache holds
# vmlinuz, the installed modules (lib/modules/KREL), the config and the uapi
# headers (for the selftests); the source and object trees beside it
# (SERIES-TREE.src/.obj) are keyed without the patches (see tree_key).
#
# Prints, like fetch-kernel.sh, shell assignments a caller can eval:
# KREL KDIR VMLINUZ MODDIR SRCDIR HDRDIR KARCH=amd64.
set -euo pipefail
VM_LOG_TAG=build-kernel
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

series=${1:?usage: build-kernel.sh SERIES [--print-cache]}
case "$series" in
7.*) ;;
*) vm_die "own kernels are built for 7.x (iommufd's dma-buf import): not $series" ;;
esac

RECIPE=1
KEEP_MODULES="IOMMUFD VFIO VFIO_IOMMU_TYPE1 VFIO_PCI_CORE VFIO_PCI"
# The mock exporter's revoke, iommufd_test_dmabuf_revoke(ucmd, fd, revoked)
# in drivers/iommu/iommufd/selftest.c, is static, small and called once:
# gcc inlines it into iommufd_test() (even with -fno-inline-functions-called-once),
# and IPA-SRA would drop its unused ucmd.  Compiled out of line with its
# arguments as written, it is a revoke scope like VFIO's (docs/hooks.md).
# Only files named selftest.o get these flags (kbuild's per-object CFLAGS_,
# given on the command line); the other objects are compiled as Debian does.
SELFTEST_CFLAGS="CFLAGS_selftest.o=-fno-inline-small-functions -fno-inline-functions-called-once -fno-ipa-sra"
# packages the full kernel build needs beyond the chroot's module toolchain
CHROOT_PKGS="flex bison libssl-dev openssl python3 perl cpio rsync"

# vm_kernel replaces KREL/KDIR: keep Debian's for the config and the source
vm_kernel "$series" --headers --source >/dev/null
[ -f "$SOURCE" ] || vm_die "no linux-source tarball for $series"
debian_config=$HEADERS/.config
[ -f "$debian_config" ] || vm_die "no Debian config in $HEADERS"

PATCHES=("$DA_ROOT"/tests/iommufd-selftest/patches/*.patch)
# the source and object trees are keyed without the patches (kbuild's command
# lines hold their paths: a new path would rebuild everything), the result
# with them; a tree is patched in place, so a patch change rebuilds only what
# the patches touch
tree_key=$({
	basename "$SOURCE"
	stat -c %s "$SOURCE"
	sha256sum <"$debian_config"
	echo "recipe $RECIPE keep $KEEP_MODULES"
} | sha256sum | cut -c1-16)
key=$({
	echo "$tree_key"
	cat "${PATCHES[@]}"
} | sha256sum | cut -c1-16)
tree=$DA_CACHE/ownkernel/$series-$tree_key
cache=$DA_CACHE/ownkernel/$series-$key
# --print-cache: where this recipe's kernel is (or would be) cached
if [ "${2:-}" = --print-cache ]; then
	echo "$cache"
	exit 0
fi

# config_fragment: the options set on top of Debian's config
config_fragment() {
	cat <<'EOF'
CONFIG_IOMMUFD=m
CONFIG_IOMMUFD_TEST=y
CONFIG_FAULT_INJECTION=y
CONFIG_DEBUG_KERNEL=y
CONFIG_VFIO_DEVICE_CDEV=y
CONFIG_DEBUG_INFO_BTF=y
CONFIG_DEBUG_INFO_BTF_MODULES=y
CONFIG_LOCALVERSION="-dat"
# CONFIG_LOCALVERSION_AUTO is not set
CONFIG_MODULE_SIG_KEY="certs/signing_key.pem"
# CONFIG_MODULE_COMPRESS is not set
CONFIG_SYSTEM_TRUSTED_KEYS=""
CONFIG_SYSTEM_REVOCATION_KEYS=""
EOF
}

# make_config SRC OUT: Debian's config with the modules cut and the fragment
# applied; olddefconfig (in the chroot) settles the dependencies
make_config() {
	local src=$1 out=$2 keep_re
	keep_re=${KEEP_MODULES// /|}
	sed -E "/^CONFIG_($keep_re)=m\$/b; s/^(CONFIG_[A-Za-z0-9_]+)=m\$/# \\1 is not set/" \
		"$debian_config" >"$out/.config"
	config_fragment >"$out/fragment.config"
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
		"$out/fragment.config" >"$out/merge.log" 2>&1 ||
		vm_die "merging the config failed (log: $out/merge.log)"
}

# check_config OUT: the options the selftest needs survived olddefconfig
check_config() {
	local opt
	for opt in CONFIG_IOMMUFD=m CONFIG_IOMMUFD_TEST=y CONFIG_FAULT_INJECTION=y \
		CONFIG_DEBUG_KERNEL=y CONFIG_VFIO_DEVICE_CDEV=y CONFIG_DEBUG_INFO_BTF=y \
		CONFIG_DEBUG_INFO_BTF_MODULES=y CONFIG_DMA_SHARED_BUFFER=y; do
		grep -qx "$opt" "$1/.config" || vm_die "$opt did not survive olddefconfig (see $1/.config)"
	done
}

# patch_tree SRC: the tree carries exactly PATCHES (.applied.patch holds what
# it carries: taken back first when it differs)
patch_tree() {
	local src=$1 p
	cat "${PATCHES[@]}" | cmp -s - "$src/.applied.patch" && return 0
	if [ -s "$src/.applied.patch" ]; then
		(cd "$src" && patch -R -p1 --no-backup-if-mismatch <.applied.patch >&2) ||
			vm_die "taking back the patches of $src failed"
	fi
	: >"$src/.applied.patch"
	for p in "${PATCHES[@]}"; do
		(cd "$src" && patch -p1 --no-backup-if-mismatch <"$p" >&2) ||
			vm_die "patch $p does not apply to $(basename "$SOURCE")"
		cat "$p" >>"$src/.applied.patch"
	done
}

if [ -f "$cache/.ready" ]; then
	vm_log "cached: $cache"
else
	root=$(vm_suite_chroot trixie $CHROOT_PKGS)
	mkdir -p "$DA_CACHE/ownkernel"
	src=$tree.src
	if [ ! -f "$src/.ready" ]; then
		vm_log "unpacking $(basename "$SOURCE")"
		rm -rf "$src"
		mkdir -p "$src"
		tar xJf "$SOURCE" -C "$src" --strip-components=1
		: >"$src/.applied.patch"
		touch "$src/.ready"
	fi
	patch_tree "$src"
	obj=$tree.obj
	mkdir -p "$obj"
	make_config "$src" "$obj"
	kmake="make -C $src O=$obj"
	vm_in_chroot "$root" "$src" "$obj" -- "$kmake olddefconfig" >"$obj/olddefconfig.log" 2>&1 ||
		vm_die "olddefconfig failed (log: $obj/olddefconfig.log)"
	check_config "$obj"
	vm_log "building $series in $obj (nice -n 10, -j2; log: $obj/build.log)"
	t0=$(date +%s)
	vm_in_chroot "$root" "$src" "$obj" -- \
		"nice -n 10 $kmake -j2 '$SELFTEST_CFLAGS' bzImage modules" >"$obj/build.log" 2>&1 || {
		tail -40 "$obj/build.log" >&2
		vm_die "building the kernel failed (log: $obj/build.log)"
	}
	seconds=$(($(date +%s) - t0))
	vm_log "built in $seconds s"
	rm -rf "$cache.tmp"
	mkdir -p "$cache.tmp"
	vm_in_chroot "$root" "$src" "$obj" "$cache.tmp" -- \
		"$kmake INSTALL_MOD_PATH=$cache.tmp modules_install &&" \
		"$kmake INSTALL_HDR_PATH=$cache.tmp/usr headers_install" >"$obj/install.log" 2>&1 ||
		vm_die "installing modules and headers failed (log: $obj/install.log)"
	cp "$obj/arch/x86/boot/bzImage" "$cache.tmp/vmlinuz"
	cp "$obj/.config" "$obj/Module.symvers" "$cache.tmp/"
	echo "$seconds" >"$cache.tmp/build-seconds"
	touch "$cache.tmp/.ready"
	rm -rf "$cache"
	mv "$cache.tmp" "$cache"
fi
krel=$(ls "$cache/lib/modules" | head -n 1)
echo "KREL=$krel"
echo "KDIR=$cache"
echo "VMLINUZ=$cache/vmlinuz"
echo "MODDIR=$cache/lib/modules/$krel"
echo "SRCDIR=$tree.src"
echo "HDRDIR=$cache/usr/include"
echo "KARCH=amd64"
