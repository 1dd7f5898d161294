# shellcheck shell=bash
# vm-lib.sh: helpers shared by the guest-test tools (sourced, not run).
#
# Everything downloaded or built for the guests lives under $DA_CACHE
# (default ~/.cache/dmabuf-audit), never in the work tree; per-run outputs
# (initramfs, results) go under build/.

DA_CACHE=${DA_CACHE:-$HOME/.cache/dmabuf-audit}
export DA_CACHE
DA_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
DA_ROOT=$(cd "$DA_TOOLS/.." && pwd)

vm_log() { echo "${VM_LOG_TAG:-vm}: $*" >&2; }
vm_die() { vm_log "$*"; exit 2; }

# The Debian archive URI from the machine's own apt sources (no host name
# is written in the repo): tools/fetch-kernel.sh knows how to find it.
vm_mirror_uri() {
	"$DA_TOOLS/fetch-kernel.sh" --mirror 2>/dev/null
}

# vm_kernel SERIES [fetch-kernel options]: sets KREL KDIR VMLINUZ MODDIR HEADERS
vm_kernel() {
	local out
	out=$("$DA_TOOLS/fetch-kernel.sh" "$@") || vm_die "fetching kernel $1 failed"
	eval "$out"
}

# The trixie chroot that builds modules for 7.x kernels (their kbuild tools
# need glibc 2.38; bookworm has 2.36).  Created once, cached.
vm_trixie_chroot() {
	local root=$DA_CACHE/chroot/trixie mirror
	if [ ! -x "$root/usr/bin/gcc-14" ] || [ ! -x "$root/usr/bin/pahole" ]; then
		command -v debootstrap >/dev/null || vm_die "debootstrap is not installed (make deps)"
		mirror=$(vm_mirror_uri) || vm_die "no Debian mirror in /etc/apt/sources.list{,.d}"
		vm_log "creating the trixie build chroot in $root (once, about a minute)"
		rm -rf "$root.tmp"
		mkdir -p "$DA_CACHE/chroot"
		debootstrap --variant=minbase \
			--include=gcc,make,libc6-dev,libelf-dev,bc,dwarves,kmod,xz-utils,zstd \
			trixie "$root.tmp" "$mirror" >"$DA_CACHE/chroot/debootstrap.log" 2>&1 ||
			vm_die "debootstrap failed, see $DA_CACHE/chroot/debootstrap.log"
		rm -rf "$root"
		mv "$root.tmp" "$root"
	fi
	echo "$root"
}

# vm_in_chroot ROOT DIR... -- CMD...: run CMD (through sh -c) in the chroot
# with each DIR bind-mounted at the same path and /proc mounted, inside a
# private mount namespace so nothing stays mounted afterwards.
vm_in_chroot() {
	local root=$1 binds=() d
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		binds+=("$1")
		shift
	done
	shift
	local script="set -e; mount -t proc proc '$root/proc'"
	for d in "${binds[@]}"; do
		mkdir -p "$root$d"
		script="$script; mount --bind '$d' '$root$d'"
	done
	script="$script; exec chroot '$root' /bin/sh -c \"\$0\""
	unshare --mount --propagation private /bin/sh -c "$script" "$*"
}
