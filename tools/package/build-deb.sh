#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tools/package/build-deb.sh BUILD: build the Debian package into BUILD/ (make deb).
#
# dpkg-buildpackage wants debian/ at the top of the tree it builds, and writes the package
# next to that tree: it runs in BUILD/deb/src, a folder holding only a copy of
# tools/package/debian/, and debian/rules builds and installs from this source tree
# (DA_SOURCE) with its own make targets (dynamic, install). Nothing is fetched.
set -eu

build=${1:?usage: tools/package/build-deb.sh BUILD}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)

# the package's version is the program's: debian/changelog must agree with the Makefile
version=$(sed -n 's/^VERSION := *//p' "$src/Makefile")
deb_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
if [ "$version" != "$deb_version" ]; then
	echo "build-deb: tools/package/debian/changelog is at $deb_version, the Makefile's VERSION" \
		"at $version: add a changelog entry (dch -v $version)" >&2
	exit 2
fi

work=$build/deb
# a package is built from scratch, with dpkg-buildflags' hardening flags: make does not see
# that flags changed, so an earlier build/dyn (make dynamic) must not be reused
rm -rf "$work" "$build/dyn"
mkdir -p "$work/src"
cp -r "$here/debian" "$work/src/debian"
arch=$(dpkg --print-architecture)
deb=dmabuf-audit_${version}_$arch.deb

echo "build-deb: dpkg-buildpackage in $work/src (log: $work/build.log)"
if ! (cd "$work/src" && DA_SOURCE=$src dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1); then
	tail -n 30 "$work/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; the whole log is $work/build.log" >&2
	exit 1
fi
cp "$work/$deb" "$build/$deb"
echo "build-deb: $build/$deb"
# the detached debug symbols (dh_strip), for a backtrace of the packaged binary
for dbg in "$work"/dmabuf-audit-dbgsym_"${version}"_*.*deb; do
	[ -f "$dbg" ] && cp "$dbg" "$build/" && echo "build-deb: $build/$(basename "$dbg")"
done
