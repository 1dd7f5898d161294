#!/bin/bash
# fetch-kernel.sh VERSION [--headers] [--modules] [--source]
# fetch-kernel.sh --mirror      print the Debian mirror URI this machine uses
#
# Fetch a Debian kernel for the guest tests and print where it is, as shell
# assignments a caller can eval:
#
#   KREL=6.12.95+deb12-amd64          uname -r of the guest
#   KDIR=/root/.cache/.../6.12        unpacked packages (dpkg -x)
#   VMLINUZ=$KDIR/boot/vmlinuz-...    the kernel image
#   MODDIR=$KDIR/lib/modules/$KREL    its modules (when the image ships them)
#   HEADERS=$KDIR/usr/src/linux-headers-$KREL   with --headers: a module build dir
#   SOURCE=$KDIR/usr/src/linux-source-X.tar.xz  with --source
#
# VERSION is one of the series below (6.1, 6.12, 7.3, 7.2).  The newest
# Debian build of that series is taken.  The mirror comes from this
# machine's apt configuration (no host name is written here); packages are
# cached under ${DA_CACHE:-~/.cache/dmabuf-audit} so a second run downloads
# nothing.
set -euo pipefail

series=${1:?usage: fetch-kernel.sh VERSION [--headers] [--modules] [--source]}
shift
want_headers=0
want_modules=0
want_source=0
for arg in "$@"; do
	case "$arg" in
	--headers) want_headers=1 ;;
	--modules) want_modules=1 ;;
	--source) want_source=1 ;;
	*) echo "fetch-kernel: unknown option $arg" >&2; exit 2 ;;
	esac
done

cache=${DA_CACHE:-$HOME/.cache/dmabuf-audit}
aptdir=$cache/apt
mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$cache/debs"

log() { echo "fetch-kernel: $*" >&2; }

# The Debian archive URI from the machine's own apt sources (deb822 or
# one-line format): the first non-security source that serves this
# machine's release.
mirror_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '
			/^[[:space:]]*$/ { if (u != "" && s ~ /(bookworm|trixie|sid)/ && s !~ /security/) { print u; exit } u = ""; s = ""; next }
			/^URIs:/ { u = $2 }
			/^Suites:/ { s = $0 }
			END { if (u != "" && s ~ /(bookworm|trixie|sid)/ && s !~ /security/) print u }
		' "$f" | head -n 1)
		if [ -n "$uri" ]; then
			echo "$uri"
			return
		fi
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" && $0 !~ /security/ {
			for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit }
		}' "$f" | head -n 1)
		if [ -n "$uri" ]; then
			echo "$uri"
			return
		fi
	done
	log "no Debian mirror found in /etc/apt/sources.list{,.d}"
	exit 2
}

apt_opts() {
	echo "-o Dir::Etc::SourceList=$aptdir/sources.list -o Dir::Etc::SourceParts=/dev/null" \
		"-o Dir::State::Lists=$aptdir/lists -o Dir::Cache=$aptdir" \
		"-o Dir::Cache::archives=$aptdir/archives -o Debug::NoLocking=1" \
		"-o APT::Sandbox::User=root"
}

refresh_lists() {
	local uri stamp=$aptdir/lists/.stamp
	if [ -f "$stamp" ] && [ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		return
	fi
	uri=$(mirror_uri)
	cat >"$aptdir/sources.list" <<EOF
deb [trusted=yes] $uri bookworm main
deb [trusted=yes] $uri bookworm-backports main
deb [trusted=yes] $uri trixie main
deb [trusted=yes] $uri trixie-backports main
deb [trusted=yes] $uri sid main
EOF
	log "updating package lists from the machine's mirror"
	# shellcheck disable=SC2046
	apt-get $(apt_opts) -qq update >&2
	touch "$stamp"
}

# newest package whose name matches an extended regex
newest() {
	# shellcheck disable=SC2046
	apt-cache $(apt_opts) search --names-only "$1" 2>/dev/null | awk '{print $1}' |
		grep -E "$1" | sort -V | tail -n 1
}

download() {
	local pkg=$1 deb
	deb=$(ls "$cache/debs/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		log "downloading $pkg"
		# shellcheck disable=SC2046
		(cd "$cache/debs" && apt-get $(apt_opts) -qq download "$pkg" >&2)
		deb=$(ls "$cache/debs/${pkg}"_*.deb | head -n 1)
	fi
	echo "$deb"
}

unpack() {
	local pkg=$1 dest=$2 deb mark
	mark="$dest/.unpacked-$pkg"
	[ -f "$mark" ] && return
	deb=$(download "$pkg")
	dpkg -x "$deb" "$dest"
	touch "$mark"
}

if [ "$series" = --mirror ]; then
	mirror_uri
	exit 0
fi

refresh_lists

case "$series" in
6.1)
	image=$(newest '^linux-image-6\.1\.0-[0-9]+-amd64$')
	abi=${image#linux-image-}		# 6.1.0-50-amd64
	krel=$abi
	headers="linux-headers-$abi linux-headers-${abi%-amd64}-common linux-kbuild-6.1"
	modules=
	source=linux-source-6.1
	;;
6.12)
	image=$(newest '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$')
	krel=${image#linux-image-}
	krel=${krel%-unsigned}			# 6.12.95+deb12-amd64
	base=${krel%-amd64}
	headers="linux-headers-$krel linux-headers-$base-common linux-kbuild-$base"
	modules=
	source=linux-source-6.12
	;;
7.*)
	esc=${series//./\\.}
	image=$(newest "^linux-binary-$esc\\.[0-9]+\\+deb13-amd64\$")
	krel=${image#linux-binary-}		# 7.3.4+deb13-amd64
	base=${krel%-amd64}
	headers="linux-headers-$krel linux-headers-$base-common linux-kbuild-$base"
	modules="linux-modules-$krel"
	source=linux-source-$series
	;;
*)
	log "unknown kernel series '$series' (known: 6.1 6.12 7.2 7.3)"
	exit 2
	;;
esac

if [ -z "$image" ]; then
	log "no kernel package for series $series on the mirror"
	exit 2
fi

kdir=$cache/kernels/$krel
mkdir -p "$kdir"
unpack "$image" "$kdir"
[ "$want_modules" = 1 ] && [ -n "$modules" ] && unpack "$modules" "$kdir"
if [ "$want_headers" = 1 ]; then
	for p in $headers; do
		unpack "$p" "$kdir"
	done
fi
[ "$want_source" = 1 ] && unpack "$source" "$kdir"

vmlinuz=$(find "$kdir/boot" "$kdir/usr/lib/modules" -name "vmlinuz*" 2>/dev/null | head -n 1 || true)
if [ -z "$vmlinuz" ]; then
	log "no vmlinuz in $image"
	exit 2
fi
moddir=
for d in "$kdir/lib/modules/$krel" "$kdir/usr/lib/modules/$krel"; do
	[ -d "$d/kernel" ] && moddir=$d
done

echo "KREL=$krel"
echo "KDIR=$kdir"
echo "VMLINUZ=$vmlinuz"
echo "MODDIR=$moddir"
[ "$want_headers" = 1 ] && echo "HEADERS=$kdir/usr/src/linux-headers-$krel"
[ "$want_source" = 1 ] && echo "SOURCE=$(ls "$kdir"/usr/src/linux-source-*.tar.* 2>/dev/null | head -n 1)"
exit 0
