# shellcheck shell=bash
# vm-lib.sh: helpers shared by the guest-test tools (sourced, not run).
#
# Everything downloaded or built for the guests lives under $DA_CACHE
# (default ~/.cache/dmabuf-audit), never in the work tree; per-run outputs
# (initramfs, results) go under build/.

DA_CACHE=${DA_CACHE:-$HOME/.cache/dmabuf-audit}
export DA_CACHE
# the guest harness's folder, tests/vm/
DA_VM=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
DA_ROOT=$(cd "$DA_VM/../.." && pwd)
# the judges import the shared helpers of tests/lib/ by name, as under tools/run-suite.sh,
# also when a guest script is run by hand
export PYTHONPATH=$DA_ROOT/tests/lib${PYTHONPATH:+:$PYTHONPATH}

vm_log() { echo "${VM_LOG_TAG:-vm}: $*" >&2; }
vm_die() { vm_log "$*"; exit 2; }

# The Debian archive URI from the machine's own apt sources (no host name
# is written in the repo): tests/vm/fetch-kernel.sh knows how to find it.
vm_mirror_uri() {
	"$DA_VM/fetch-kernel.sh" --mirror 2>/dev/null
}

# vm_kernel SERIES [fetch-kernel options]: sets KREL KDIR VMLINUZ MODDIR HEADERS
vm_kernel() {
	local out
	out=$("$DA_VM/fetch-kernel.sh" "$@") || vm_die "fetching kernel $1 failed"
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

# vm_suite_chroot SUITE [PACKAGE...]: a build chroot of a Debian suite
# (trixie, sid) for kernels whose kbuild tools need its glibc and compiler,
# with the extra packages (the kernel's gcc-N, a cross compiler).  Created
# once and cached (the trixie one is vm_trixie_chroot's); packages it lacks
# are installed into it with its own apt.
vm_suite_chroot() {
	local suite=$1 root mirror pkg missing=()
	shift
	root=$DA_CACHE/chroot/$suite
	if [ "$suite" = trixie ]; then
		root=$(vm_trixie_chroot)
	elif [ ! -x "$root/usr/bin/pahole" ]; then
		command -v debootstrap >/dev/null || vm_die "debootstrap is not installed (make deps)"
		mirror=$(vm_mirror_uri) || vm_die "no Debian mirror in /etc/apt/sources.list{,.d}"
		vm_log "creating the $suite build chroot in $root (once, about a minute)"
		rm -rf "$root.tmp"
		mkdir -p "$DA_CACHE/chroot"
		debootstrap --variant=minbase \
			--include=gcc,make,libc6-dev,libelf-dev,bc,dwarves,kmod,xz-utils,zstd \
			"$suite" "$root.tmp" "$mirror" >"$DA_CACHE/chroot/debootstrap-$suite.log" 2>&1 ||
			vm_die "debootstrap failed, see $DA_CACHE/chroot/debootstrap-$suite.log"
		rm -rf "$root"
		mv "$root.tmp" "$root"
	fi
	for pkg in "$@"; do
		chroot "$root" dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' ||
			missing+=("$pkg")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		vm_log "installing ${missing[*]} in the $suite chroot (once)"
		vm_in_chroot "$root" -- "apt-get -qq update && DEBIAN_FRONTEND=noninteractive" \
			"apt-get install -y -qq --no-install-recommends ${missing[*]}" \
			>"$DA_CACHE/chroot/apt-$suite.log" 2>&1 ||
			vm_die "installing ${missing[*]} in $root failed, see $DA_CACHE/chroot/apt-$suite.log"
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

# A static arm64 busybox for arm64 guests: busybox-static:arm64 is not
# co-installable with the host's amd64 one, so its .deb (from the machine's
# apt, arm64 added as a foreign architecture) is unpacked under $DA_CACHE.
vm_arm64_busybox() {
	local dir=$DA_CACHE/arm64/busybox
	if [ ! -x "$dir/bin/busybox" ]; then
		dpkg --print-foreign-architectures | grep -qx arm64 ||
			vm_die "arm64 is not a dpkg architecture here (make ARCH=arm64 deps adds it)"
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		(cd "$dir.tmp" && apt-get -o APT::Sandbox::User=root download -qq busybox-static:arm64 >&2) ||
			vm_die "apt-get download busybox-static:arm64 failed"
		dpkg -x "$dir.tmp"/busybox-static_*_arm64.deb "$dir.tmp"
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir/bin/busybox"
}
