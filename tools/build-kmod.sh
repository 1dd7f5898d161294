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
# - 7.x: its kbuild tools need glibc 2.38: built in a trixie chroot
#   (tools/vm-lib.sh vm_trixie_chroot) with the trees bind-mounted.
# - Module BTF: kbuild generates it only when it finds the kernel's vmlinux
#   (the BTF base) in the object tree.  6.12 and 7.3 headers ship one; for
#   6.1 it is extracted from vmlinuz (tools/extract-btf.sh --elf).
set -euo pipefail
VM_LOG_TAG=build-kmod
# shellcheck source=tools/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

series=${1:?usage: build-kmod.sh SERIES OUTDIR}
outdir=${2:?usage: build-kmod.sh SERIES OUTDIR}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

case "$series" in
7.*) vm_kernel "$series" --headers --modules ;;
*) vm_kernel "$series" --headers ;;
esac
common=$(ls -d "$KDIR"/usr/src/linux-headers-*-common 2>/dev/null | head -n 1)
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
		"$DA_TOOLS/extract-btf.sh" "$VMLINUZ" "$objtree.tmp/vmlinux" --elf ||
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
case "$series" in
7.*)
	root=$(vm_trixie_chroot)
	# 7.x's arch Makefile names its object tree through KBUILD_OUTPUT
	vm_in_chroot "$root" "$KDIR" "$objtree" "$src" -- "$kmake KBUILD_OUTPUT=$objtree" >"$log" 2>&1 || {
		cat "$log" >&2
		vm_die "module build for $KREL failed (in the trixie chroot)"
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
