#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# packaging/build-deb.sh BUILD [ARCH]: build the Debian package into BUILD/ (make deb).
# ARCH (the Makefile's, e.g. arm64) other than the machine's: cross-built with
# dpkg-buildpackage -a (make deb ARCH=arm64; the DEPS_ARM64 cross compiler and libraries).
#
# dpkg-buildpackage wants debian/ at the top of the tree it builds, and writes the package
# next to that tree: it runs in BUILD/deb/src, a folder holding only a copy of
# packaging/debian/, and debian/rules builds and installs from this source tree
# (DA_SOURCE) with its own make targets (dynamic, install). Nothing is fetched.
set -eu

build=${1:?usage: packaging/build-deb.sh BUILD [ARCH]}
want_arch=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)

# the package's version is the program's: debian/changelog must agree with the Makefile
version=$(sed -n 's/^VERSION := *//p' "$src/Makefile")
deb_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
if [ "$version" != "$deb_version" ]; then
	echo "build-deb: packaging/debian/changelog is at $deb_version, the Makefile's VERSION" \
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
cross=
case "$want_arch" in
"" | "$arch") ;;
x86 | x86_64 | amd64) [ "$arch" = amd64 ] || cross=amd64 ;;
arm64 | aarch64) cross=arm64 ;;
*)
	echo "build-deb: ARCH=$want_arch: only amd64 and arm64 packages are built" >&2
	exit 2
	;;
esac
# -d: the cross build's dependencies are the Makefile's DEPS_ARM64 (the host's compilers and
# bpftool, the target's -dev libraries), which dpkg-checkbuilddeps cannot express for bpftool
cross_flags=
if [ -n "$cross" ]; then
	arch=$cross
	cross_flags="-a $cross -d"
fi
deb=dmabuf-audit_${version}_$arch.deb

echo "build-deb: dpkg-buildpackage $cross_flags in $work/src (log: $work/build.log)"
# shellcheck disable=SC2086
if ! (cd "$work/src" && DA_SOURCE=$src dpkg-buildpackage -b -us -uc $cross_flags \
	>"$work/build.log" 2>&1); then
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
