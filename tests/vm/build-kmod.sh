#!/bin/bash
# build-kmod.sh SERIES OUTDIR
#
# Build the test module (tests/kmod) for a Debian guest kernel (6.1, 6.12,
# 7.x) and write OUTDIR/dmabuf_audit_test.ko.  Prints one line saying whether
# the module got BTF (needed for fentry on its revoke scope functions; without
# it dmabuf-audit falls back to kprobes for them).
#
# - 6.x: the machine's gcc-12 against the unpacked Debian headers.  The arch
#   headers' Makefile includes the -common tree by an absolute /usr/src path,
#   so the build runs with `make -f COMMON/Makefile` from a private copy of
#   the arch headers (its kbuild symlinks made absolute) under $DA_CACHE.
# - 7.x, and any kernel built for trixie or sid (6.12-newest, sid): their
#   kbuild tools need that suite's glibc (2.38+; bookworm has 2.36) and
#   compiler: built in a chroot of the suite the kernel came from
#   (fetch-kernel's KSUITE; tests/vm/vm-lib.sh vm_suite_chroot) with the trees
#   bind-mounted.
# - 6.12-rt: the same as 6.12, against the -rt headers (-common-rt).
# - arm64 (7.3-arm64): cross-built in the trixie chroot with its
#   gcc-N-aarch64-linux-gnu, against Debian's arm64 headers and the amd64
#   linux-kbuild (host tools) of the same version.
# - Module BTF: kbuild generates it only when it finds the kernel's vmlinux
#   (the BTF base) in the object tree.  6.12 and 7.3 headers ship one; for
#   6.1 it is extracted from vmlinuz (tests/vm/extract-btf.sh --elf).
set -euo pipefail
VM_LOG_TAG=build-kmod
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

series=${1:?usage: build-kmod.sh SERIES OUTDIR}
outdir=${2:?usage: build-kmod.sh SERIES OUTDIR}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

vm_kernel "$series" --headers --modules
common=$(ls -d "$KDIR"/usr/src/linux-headers-*-common "$KDIR"/usr/src/linux-headers-*-common-rt 2>/dev/null | head -n 1 || true)
kbuild=$(ls -d "$KDIR"/usr/lib/linux-kbuild-* 2>/dev/null | head -n 1)
if [ ! -d "$common" ] || [ ! -d "$kbuild" ]; then
	vm_die "incomplete headers for $KREL in $KDIR"
fi

# private object tree: arch headers + absolute kbuild links + vmlinux
objtree=$DA_CACHE/kbuild/$KREL
if [ ! -f "$objtree/.ready" ]; then
	rm -rf "$objtree.tmp"
	mkdir -p "$(dirname "$objtree")"
	cp -a "$HEADERS" "$objtree.tmp"
	ln -sfn "$kbuild/scripts" "$objtree.tmp/scripts"
	ln -sfn "$kbuild/tools" "$objtree.tmp/tools"
	if [ ! -f "$objtree.tmp/vmlinux" ]; then
		vm_log "extracting vmlinux (BTF base for module BTF) from $(basename "$VMLINUZ")"
		"$DA_VM/extract-btf.sh" "$VMLINUZ" "$objtree.tmp/vmlinux" --elf ||
			vm_log "no vmlinux: the module will have no BTF (kprobe fallback)"
	fi
	touch "$objtree.tmp/.ready"
	rm -rf "$objtree"
	mv "$objtree.tmp" "$objtree"
fi

# sources copied to a per-kernel build dir (kbuild writes next to them)
src=$DA_ROOT/build/kmod/$KREL
rm -rf "$src"
mkdir -p "$src"
cp "$DA_ROOT"/tests/kmod/Kbuild "$DA_ROOT"/tests/kmod/*.c "$src/"

log=$src/build.log
kmake="make -C $objtree -f $common/Makefile M=$src modules"
# 6.1's linux-kbuild ships no resolve_btfids; the module has no BTF_ID sets,
# so there is nothing for it to resolve
[ -x "$kbuild/tools/bpf/resolve_btfids/resolve_btfids" ] || kmake="$kmake RESOLVE_BTFIDS=true"
case "$KSUITE" in
trixie | sid)
	# the compiler that built the kernel (gcc-14 in trixie, gcc-16 in sid)
	kcc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([a-z0-9_]*-linux-gnu-\)\{0,1\}\(gcc-[0-9]*\).*/\2/p' \
		"$HEADERS/.config")
	kpkg=$kcc
	if [ "$KARCH" = arm64 ]; then
		# cross-built: the suite's aarch64 cross compiler, the amd64 kbuild tools
		kpkg=$kcc-aarch64-linux-gnu
		kmake="$kmake ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
	fi
	# shellcheck disable=SC2086
	root=$(vm_suite_chroot "$KSUITE" $kpkg)
	# 7.x's arch Makefile names its object tree through KBUILD_OUTPUT
	vm_in_chroot "$root" "$KDIR" "$objtree" "$src" -- "$kmake KBUILD_OUTPUT=$objtree" >"$log" 2>&1 || {
		cat "$log" >&2
		vm_die "module build for $KREL failed (in the $KSUITE chroot)"
	}
	;;
*)
	command -v gcc-12 >/dev/null || vm_die "gcc-12 is not installed"
	$kmake >"$log" 2>&1 || {
		cat "$log" >&2
		vm_die "module build for $KREL failed"
	}
	;;
esac
grep -iE 'warning|skipping btf' "$log" >&2 || true
cp "$src/dmabuf_audit_test.ko" "$outdir/dmabuf_audit_test.ko"
# the real-driver suite's importer (tests/kmod/dat_importer.c)
cp "$src/dat_importer.ko" "$outdir/dat_importer.ko"
# grep without -q reads to the end: readelf must not die of SIGPIPE (pipefail)
if readelf -S "$outdir/dmabuf_audit_test.ko" | grep '\.BTF ' >/dev/null; then
	echo "build-kmod: $KREL: dmabuf_audit_test.ko built, with module BTF"
else
	echo "build-kmod: $KREL: dmabuf_audit_test.ko built, WITHOUT module BTF (kprobe fallback for its scopes)"
fi
