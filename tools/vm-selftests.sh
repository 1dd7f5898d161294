#!/bin/bash
# vm-selftests.sh SERIES DESTDIR
#
# Build the kernel's own dma-buf selftests statically for the guest, from
# Debian's linux-source package of SERIES (tools/fetch-kernel.sh --source):
#   tools/testing/selftests/drivers/dma-buf/udmabuf.c   -> DESTDIR/udmabuf
#   tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c  -> DESTDIR/dmabuf-heap
# Only these files (and the uapi headers they need) are taken from the
# tarball, once, into $DA_CACHE/selftests/VERSION; they build with the
# machine's gcc against the kernel's own uapi headers.
set -euo pipefail
VM_LOG_TAG=vm-selftests
# shellcheck source=tools/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

series=${1:?usage: vm-selftests.sh SERIES DESTDIR}
dest=${2:?usage: vm-selftests.sh SERIES DESTDIR}
vm_kernel "$series" --source
[ -f "$SOURCE" ] || vm_die "no linux-source tarball for $series"

src=$DA_CACHE/selftests/$(basename "$SOURCE" | sed 's/\.tar\..*//')
if [ ! -f "$src/.ready" ]; then
	vm_log "extracting the dma-buf selftests from $(basename "$SOURCE") (once)"
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$SOURCE" -C "$src.tmp" --strip-components=1 --wildcards \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/drivers/dma-buf/udmabuf.c' \
		'*/tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c' \
		'*/include/uapi/linux/udmabuf.h' '*/include/uapi/linux/dma-heap.h' \
		'*/include/uapi/linux/dma-buf.h' '*/include/uapi/drm/drm.h' \
		'*/include/uapi/drm/drm_mode.h'
	touch "$src.tmp/.ready"
	rm -rf "$src"
	mv "$src.tmp" "$src"
fi

# the kernel's uapi headers first (newer than the build machine's), then libc's
mkdir -p "$dest"
# (headers_install would strip __user from them; define it away instead)
inc="-isystem $src/include/uapi -D__user="
st=$src/tools/testing/selftests
# shellcheck disable=SC2086
gcc -static -O2 $inc -o "$dest/udmabuf" "$st/drivers/dma-buf/udmabuf.c"
# shellcheck disable=SC2086
gcc -static -O2 -Wl,-no-as-needed $inc -o "$dest/dmabuf-heap" "$st/dmabuf-heaps/dmabuf-heap.c"
vm_log "built udmabuf and dmabuf-heap from $(basename "$src")"
