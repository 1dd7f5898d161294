#!/bin/bash
# kunit-parser.sh [SERIES]
#
# The kernel's own KTAP parser, tools/testing/kunit/kunit.py (python3 only;
# `kunit.py parse FILE` reads a KTAP document), from Debian's linux-source
# package of SERIES (default 7.3; tests/vm/fetch-kernel.sh --source).  Only
# tools/testing/kunit/ is taken from the tarball, once, into
# $DA_CACHE/kunit/linux-source-X.  Prints the path of kunit.py.
set -euo pipefail
VM_LOG_TAG=kunit-parser
# shellcheck source=tests/vm/vm-lib.sh
. "$(dirname "$0")/vm-lib.sh"

series=${1:-7.3}
vm_kernel "$series" --source >&2
[ -f "$SOURCE" ] || vm_die "no linux-source tarball for $series"
dir=$DA_CACHE/kunit/$(basename "$SOURCE" | sed 's/\.tar\..*//')
if [ ! -f "$dir/.ready" ]; then
	vm_log "extracting tools/testing/kunit from $(basename "$SOURCE") (once)"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	tar -xf "$SOURCE" -C "$dir.tmp" --strip-components=1 --wildcards '*/tools/testing/kunit/*'
	touch "$dir.tmp/.ready"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi
[ -f "$dir/tools/testing/kunit/kunit.py" ] || vm_die "no kunit.py in $(basename "$SOURCE")"
echo "$dir/tools/testing/kunit/kunit.py"
