#!/bin/bash
# vm-selftests.sh SERIES DESTDIR
#
# Build the kernel's own dma-buf selftests statically for the guest, from
# Debian's linux-source package of SERIES (tests/vm/fetch-kernel.sh --source):
#   tools/testing/selftests/drivers/dma-buf/udmabuf.c   -> DESTDIR/udmabuf
#   tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c  -> DESTDIR/dmabuf-heap
# (6.12 and 7.3 guests: each from its own series' source)
# Only these files (and the uapi headers) are taken from the
# tarball, once, into $DA_CACHE/selftests/VERSION; they build with the
# machine's gcc against the kernel's own uapi headers.
set -euo pipefail
VM_LOG_TAG=vm-selftests
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

series=${1:?usage: vm-selftests.sh SERIES DESTDIR}
dest=${2:?usage: vm-selftests.sh SERIES DESTDIR}
vm_kernel "$series" --source
[ -f "$SOURCE" ] || vm_die "no linux-source tarball for $series"

src=$DA_CACHE/selftests/$(basename "$SOURCE" | sed 's/\.tar\..*//')-uapi
# Of the uapi tree only the headers the tests use are put on the include
# path ($src/uapi), the rest come from the build machine: the raw tree's
# linux/types.h needs kernel-internal headers.  7.3's drm_mode.h also wants
# linux/bits.h, which 6.12 has not.
if [ ! -f "$src/.ready" ]; then
	vm_log "extracting the dma-buf selftests from $(basename "$SOURCE") (once)"
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$SOURCE" -C "$src.tmp" --strip-components=1 --wildcards \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/drivers/dma-buf/udmabuf.c' \
		'*/tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c' \
		'*/include/uapi/linux/*.h' '*/include/uapi/drm/drm.h' '*/include/uapi/drm/drm_mode.h'
	for h in linux/udmabuf.h linux/dma-heap.h linux/dma-buf.h drm/drm.h drm/drm_mode.h \
		linux/bits.h; do
		[ -f "$src.tmp/include/uapi/$h" ] || continue
		mkdir -p "$(dirname "$src.tmp/uapi/$h")"
		cp "$src.tmp/include/uapi/$h" "$src.tmp/uapi/$h"
	done
	rm -rf "$src.tmp/include"
	touch "$src.tmp/.ready"
	rm -rf "$src"
	mv "$src.tmp" "$src"
fi

# the kernel's uapi headers first (newer than the build machine's), then libc's
mkdir -p "$dest"
# (headers_install would strip __user from them; define it away instead)
st=$src/tools/testing/selftests
# (kselftest.h: 6.12's tests include it by a relative path, 7.3's by name, as lib.mk's -I does)
inc="-isystem $src/uapi -D__user= -I$st"
# shellcheck disable=SC2086
gcc -static -O2 $inc -o "$dest/udmabuf" "$st/drivers/dma-buf/udmabuf.c"
# shellcheck disable=SC2086
gcc -static -O2 -Wl,-no-as-needed $inc -o "$dest/dmabuf-heap" "$st/dmabuf-heaps/dmabuf-heap.c"
vm_log "built udmabuf and dmabuf-heap from $(basename "$SOURCE")"
