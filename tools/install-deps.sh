#!/bin/sh
# Install the Debian packages named on the command line, if any is missing.
# Packages come from the machine's own apt sources; nothing else is fetched.
set -eu
missing=
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps: need root to install:$missing" >&2
		echo "install-deps: run as root: apt-get install -y$missing" >&2
		exit 2
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# PKG:arm64 (the arm64 cross build): Debian multiarch needs the architecture
case "$missing" in
*:arm64*)
	dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
	;;
esac
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
