#!/bin/bash
# vm-iommufd-selftest.sh BIN [--full]
#
# The upstream iommufd selftest (tools/testing/selftests/iommu/iommufd.c) under
# `dmabuf-audit run --format ktap` in a guest booting the 7.3 kernel of our
# own (tests/vm/build-kernel.sh: CONFIG_IOMMUFD_TEST, built once and cached).
# The selftest is built statically from the same source, in the trixie
# chroot, against that kernel's uapi headers.  The guest (tests/iommufd-
# selftest/init) runs its dma-buf test cases (dmabuf_simple and dmabuf_revoke
# of every variant) with the default policy, again with the policy line
# that allows the mock exporter's missing fence wait, and with --full every
# test case of the selftest; tests/iommufd-selftest/check.py judges the
# results (TAP on standard output).  Results: build/iommufd-selftest/out.
# Environment: DAT_CASE_TIMEOUT (s, one dma-buf run, default 300),
# DAT_FULL_TIMEOUT (s, the full run, default 1500).
set -euo pipefail
VM_LOG_TAG=vm-iommufd-selftest
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

bin=${1:?usage: vm-iommufd-selftest.sh BIN [--full]}
full=0
[ "${2:-}" = --full ] && full=1
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
case_timeout=${DAT_CASE_TIMEOUT:-300}
full_timeout=${DAT_FULL_TIMEOUT:-1500}

eval "$("$DA_VM/build-kernel.sh" 7.3)"
work=$DA_ROOT/build/iommufd-selftest
mkdir -p "$work"

# the selftest, from the kernel's own source, against its uapi headers
selftest=$work/iommufd
if [ ! -x "$selftest" ] || [ "$SRCDIR/tools/testing/selftests/iommu/iommufd.c" -nt "$selftest" ] ||
	[ "$VMLINUZ" -nt "$selftest" ]; then
	root=$(vm_suite_chroot trixie libcap-dev)
	dir=$SRCDIR/tools/testing/selftests
	vm_in_chroot "$root" "$SRCDIR" "$KDIR" "$work" -- \
		"cd $dir/iommu && gcc -static -O2 -Wall -Wno-unused-function -D_GNU_SOURCE" \
		"-isystem $HDRDIR -I$dir -o $selftest.tmp iommufd.c -lcap" >"$work/selftest-build.log" 2>&1 || {
		tail -20 "$work/selftest-build.log" >&2
		vm_die "building the iommufd selftest failed (log: $work/selftest-build.log)"
	}
	mv "$selftest.tmp" "$selftest"
fi

# the initramfs: busybox, the tool, the selftest, iommufd.ko and what it needs
root=$work/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib/dat}
busybox=$(command -v busybox) || vm_die "busybox is not installed (make deps)"
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done
cp "$bin" "$root/bin/dmabuf-audit"
cp "$selftest" "$root/bin/iommufd"
order=()
add_mod() {
	local name=$1 f deps d m
	for m in "${order[@]:-}"; do [ "$m" = "$name.ko" ] && return 0; done
	f=$(find "$MODDIR/kernel" -name "$name.ko" -o -name "${name//_/-}.ko" | head -n 1)
	[ -n "$f" ] || vm_die "module $name not found in $MODDIR"
	deps=$(strings "$f" | sed -n 's/^depends=//p' | head -n 1)
	for d in ${deps//,/ }; do add_mod "$d"; done
	cp "$f" "$root/lib/dat/$name.ko"
	order+=("$name.ko")
}
add_mod iommufd
printf '%s\n' "${order[@]}" >"$root/lib/dat/modules.order"
cp "$DA_ROOT/tests/iommufd-selftest/init" "$root/init"
chmod +x "$root/init"
echo "allow missing-fence-wait exporter iommufd" >"$root/etc/allow-iommufd.policy"
cat >"$root/etc/selftest.conf" <<EOF
DAT_CASE_TIMEOUT=$case_timeout
DAT_FULL=$full
DAT_FULL_TIMEOUT=$full_timeout
EOF
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.cpio.gz"

out=$work/out
rm -rf "$out"
limit=$((120 + 2 * case_timeout + full * full_timeout))
vm_log "booting $KREL ($VMLINUZ), at most $limit s"
set +e
VM_MEM=${VM_MEM:-2G} "$DA_VM/vm-boot.sh" "$VMLINUZ" "$work/initrd.cpio.gz" "$out" "$limit"
boot_rc=$?
set -e
[ "$boot_rc" = 0 ] || vm_log "the guest ended with status $boot_rc (console: $out/console.log)"
check_args=("$bin" "$out")
[ "$full" = 1 ] && check_args+=(--full)
python3 "$DA_ROOT/tests/iommufd-selftest/check.py" "${check_args[@]}"
