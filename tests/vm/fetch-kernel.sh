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
#   KARCH=amd64|arm64  KFLAVOUR=amd64|rt-amd64|arm64
#   KSUITE=bookworm|trixie|sid        whose toolchain builds its modules
#
# VERSION is a series: 6.1, 6.12 (bookworm-backports), 6.12-newest (the
# newest 6.12.y of any suite), 7.N, or sid (the newest kernel in sid), each
# optionally with -rt (PREEMPT_RT flavour) and/or -arm64 (the arm64 build,
# from a private arm64 package list).  The newest Debian build of the series
# is taken, by version, at fetch time.  The mirror comes from this
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

# apt's options for the private configuration of ARCH (default amd64, the
# host's): each architecture has its own lists and archive under $cache
apt_opts() {
	local dir=$aptdir
	[ "${1:-amd64}" = amd64 ] || dir=$cache/apt-$1
	echo "-o Dir::Etc::SourceList=$aptdir/sources.list -o Dir::Etc::SourceParts=/dev/null" \
		"-o Dir::State::Lists=$dir/lists -o Dir::Cache=$dir" \
		"-o Dir::Cache::archives=$dir/archives -o Debug::NoLocking=1" \
		"-o APT::Sandbox::User=root -o APT::Architecture=${1:-amd64}" \
		"-o APT::Architectures=${1:-amd64}"
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

# the package lists of another architecture (arm64), same sources
refresh_arch_lists() {
	local dir=$cache/apt-$1 stamp
	stamp=$dir/lists/.stamp
	mkdir -p "$dir/lists/partial" "$dir/archives/partial"
	if [ -f "$stamp" ] && [ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		return
	fi
	log "updating the $1 package lists from the machine's mirror"
	# shellcheck disable=SC2046
	apt-get $(apt_opts "$1") -qq update >&2
	touch "$stamp"
}

# newest package (of $arch) whose name matches an extended regex
newest() {
	# shellcheck disable=SC2046
	apt-cache $(apt_opts "$arch") search --names-only "$1" 2>/dev/null | awk '{print $1}' |
		grep -E "$1" | sort -V | tail -n 1
}

# newest package of one suite (sid) whose name matches an extended regex
suite_newest() {
	local suite=$1 re=$2 dir=$aptdir f
	[ "$arch" = amd64 ] || dir=$cache/apt-$arch
	for f in "$dir"/lists/*_dists_"${suite}"_main_binary-"${arch}"_Packages*; do
		[ -f "$f" ] || continue
		/usr/lib/apt/apt-helper cat-file "$f" | sed -n 's/^Package: //p'
	done | grep -E "$re" | sort -V | tail -n 1
}

have_package() {
	# shellcheck disable=SC2046
	apt-cache $(apt_opts "$arch") show "$1" >/dev/null 2>&1
}

# download PKG[:ARCH]: the cached .deb, fetched once
download() {
	local pkg=${1%:*} parch=amd64 deb
	[ "$1" = "$pkg" ] || parch=${1#*:}
	deb=$(ls "$cache/debs/${pkg}"_*_"$parch".deb "$cache/debs/${pkg}"_*_all.deb 2>/dev/null |
		head -n 1 || true)
	if [ -z "$deb" ]; then
		log "downloading $pkg ($parch)"
		# shellcheck disable=SC2046
		(cd "$cache/debs" && apt-get $(apt_opts "$parch") -qq download "$pkg" >&2)
		deb=$(ls "$cache/debs/${pkg}"_*_"$parch".deb "$cache/debs/${pkg}"_*_all.deb \
			2>/dev/null | head -n 1)
	fi
	echo "$deb"
}

unpack() {
	local pkg=$1 dest=$2 deb mark
	mark="$dest/.unpacked-${pkg%:*}"
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

# SERIES = BASE[-rt][-arm64]: BASE is 6.1, 6.12, 6.12-newest, 7.N or sid;
# -rt takes the PREEMPT_RT flavour, -arm64 the arm64 build.
base_series=$series
flavour=amd64
arch=amd64
case "$base_series" in *-arm64) arch=arm64; flavour=arm64; base_series=${base_series%-arm64} ;; esac
case "$base_series" in *-rt) flavour=rt-$flavour; base_series=${base_series%-rt} ;; esac
[ "$arch" = arm64 ] && refresh_arch_lists arm64
fl=$flavour
q=					# arch qualifier of arch-dependent packages
[ "$arch" = amd64 ] || q=:$arch

# 6.12's image is linux-image-*-unsigned (the signed one only wraps it)
pick_6x_image() {
	local esc=${1//./\\.} suite=$2
	image=$(newest "^linux-image-$esc\\.[0-9]+\\+$suite-$fl-unsigned\$")
	krel=${image#linux-image-}
	krel=${krel%-unsigned}
}

# 7.x: the image is linux-binary-* and the modules are a package of their own
pick_7x_image() {
	image=$1
	krel=${image#linux-binary-}
	modules="linux-modules-$krel$q"
}

modules=
headers=
case "$base_series" in
6.1)
	image=$(newest "^linux-image-6\\.1\\.0-[0-9]+-$fl\$")
	abi=${image#linux-image-}		# 6.1.0-50-amd64
	krel=$abi
	common=linux-headers-${abi%-"$flavour"}-common
	[ "$flavour" != "${flavour#rt-}" ] && common=$common-rt
	headers="linux-headers-$abi$q $common linux-kbuild-6.1"
	source=linux-source-6.1
	;;
6.12 | 6.12-newest)
	# 6.12: bookworm-backports' build (+deb12); 6.12-newest: the newest
	# 6.12.y of any suite
	suite='deb12'
	[ "$base_series" = 6.12-newest ] && suite='deb[0-9]+'
	pick_6x_image 6.12 "$suite"
	source=linux-source-6.12
	;;
7.*)
	esc=${base_series//./\\.}
	pick_7x_image "$(newest "^linux-binary-$esc\\.[0-9]+\\+deb[0-9]+-$fl\$")"
	source=linux-source-$base_series
	;;
sid)
	# the newest kernel in sid's own package list (by version, at fetch time)
	pick_7x_image "$(suite_newest sid "^linux-binary-[0-9.]+\\+deb[0-9]+-$fl\$")"
	source=linux-source-$(echo "$krel" | cut -d. -f1,2)
	;;
*)
	log "unknown kernel series '$series' (known: 6.1 6.12 6.12-newest 7.N sid, each with -rt and/or -arm64)"
	exit 2
	;;
esac
kver=${krel%-"$flavour"}			# 6.12.95+deb12
if [ -z "$headers" ] && [ -n "$image" ]; then
	# the RT flavour of 6.12 has its own -common-rt headers; 7.x shares one
	common=linux-headers-$kver-common
	[ "$flavour" != "${flavour#rt-}" ] && have_package "$common-rt" && common=$common-rt
	headers="linux-headers-$krel$q $common linux-kbuild-$kver"
fi
# the module build's host: bookworm's own gcc-12 for +deb12 builds, else
# the chroot of the suite that built the kernel (tests/vm/build-kmod.sh)
case "$krel" in
*+deb12-* | 6.1.0-*) ksuite=bookworm ;;
*+deb13-*) ksuite=trixie ;;
*) ksuite=sid ;;
esac

if [ -z "$image" ]; then
	log "no kernel package for series $series on the mirror"
	exit 2
fi

kdir=$cache/kernels/$krel
mkdir -p "$kdir"
unpack "$image$q" "$kdir"
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
echo "KARCH=$arch"
echo "KFLAVOUR=$flavour"
echo "KSUITE=$ksuite"
[ "$want_headers" = 1 ] && echo "HEADERS=$kdir/usr/src/linux-headers-$krel"
[ "$want_source" = 1 ] && echo "SOURCE=$(ls "$kdir"/usr/src/linux-source-*.tar.* 2>/dev/null | head -n 1)"
exit 0
