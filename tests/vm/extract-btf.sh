#!/bin/bash
# extract-btf.sh VMLINUZ OUT [--elf]
#
# Extract the kernel's BTF from a bzImage (x86 vmlinuz) or an arm64 Image
# without booting it.  bzImage:
# the boot header names the compressed payload (offset and length, boot
# protocol 2.08+), which is the vmlinux ELF compressed with xz (Debian 6.1),
# zstd (6.12, 7.x) or gzip.  OUT gets the raw .BTF section (what
# /sys/kernel/btf/vmlinux holds; `dmabuf-audit hooks --btf OUT` and
# `bpftool btf dump file OUT` read it); with --elf, OUT gets the whole
# decompressed vmlinux ELF instead (a BTF base for out-of-tree module builds).
# The output is written atomically, so an interrupted run leaves no half file.
set -euo pipefail

vmlinuz=${1:?usage: extract-btf.sh VMLINUZ OUT [--elf]}
out=${2:?usage: extract-btf.sh VMLINUZ OUT [--elf]}
want_elf=0
[ "${3:-}" = --elf ] && want_elf=1

die() { echo "extract-btf: $*" >&2; exit 2; }

[ -r "$vmlinuz" ] || die "cannot read $vmlinuz"

# little-endian unsigned integer of $2 bytes at offset $1
le() { od -An -tu"$2" -j "$1" -N "$2" "$vmlinuz" | tr -d ' '; }

# arm64 (Debian ships the uncompressed Image, magic "ARMd" at 56): the .BTF
# section is in the image's read-only data as is; find its header (magic
# 0xeB9F, version 1, 24-byte header) and cut it out by its own lengths
if [ "$(dd if="$vmlinuz" bs=1 skip=56 count=4 status=none)" = ARMd ]; then
	[ "$want_elf" = 0 ] || die "$vmlinuz: --elf is for x86 bzImages (arm64 headers ship vmlinux)"
	python3 - "$vmlinuz" "$out.tmp.$$" <<'EOF' || die "$vmlinuz: no BTF found in the arm64 Image"
import struct
import sys

data = open(sys.argv[1], "rb").read()
pos = data.find(b"\x9f\xeb\x01\x00\x18\x00\x00\x00")
while pos >= 0:
    type_off, type_len, str_off, str_len = struct.unpack_from("<4I", data, pos + 8)
    size = 24 + max(type_off + type_len, str_off + str_len)
    # a real header: types then strings, inside the image, strings start with NUL
    if type_off == 0 and str_off == type_len and pos + size <= len(data) and \
            data[pos + 24 + str_off] == 0 and type_len > 0:
        open(sys.argv[2], "wb").write(data[pos:pos + size])
        sys.exit(0)
    pos = data.find(b"\x9f\xeb\x01\x00\x18\x00\x00\x00", pos + 1)
sys.exit(1)
EOF
	mv "$out.tmp.$$" "$out"
	exit 0
fi

[ "$(dd if="$vmlinuz" bs=1 skip=514 count=4 status=none)" = HdrS ] ||
	die "$vmlinuz is not an x86 bzImage (no HdrS boot header) nor an arm64 Image"
setup_sects=$(le 497 1)
[ "$setup_sects" -eq 0 ] && setup_sects=4
payload_offset=$(le 584 4)
payload_length=$(le 588 4)
[ "$payload_length" -gt 0 ] || die "$vmlinuz: boot header names no payload (protocol < 2.08?)"
start=$(((setup_sects + 1) * 512 + payload_offset))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dd if="$vmlinuz" of="$tmp/payload" bs=1M iflag=skip_bytes,count_bytes skip="$start" \
	count="$payload_length" status=none
magic=$(od -An -tx1 -N 6 "$tmp/payload" | tr -d ' \n')
case "$magic" in
fd377a585a00*) xz -dc <"$tmp/payload" >"$tmp/vmlinux" 2>/dev/null || true ;;
28b52ffd*) zstd -qdc <"$tmp/payload" >"$tmp/vmlinux" 2>/dev/null || true ;;
1f8b*) gzip -dc <"$tmp/payload" >"$tmp/vmlinux" 2>/dev/null || true ;;
*) die "$vmlinuz: unknown payload compression (magic $magic)" ;;
esac
[ "$(od -An -tx1 -N 4 "$tmp/vmlinux" | tr -d ' \n')" = 7f454c46 ] ||
	die "$vmlinuz: the decompressed payload is not an ELF file"

if [ "$want_elf" = 1 ]; then
	mv "$tmp/vmlinux" "$tmp/out"
else
	objcopy --dump-section .BTF="$tmp/out" "$tmp/vmlinux" "$tmp/discard" 2>/dev/null || true
	[ -s "$tmp/out" ] || die "$vmlinuz: the kernel has no .BTF section (CONFIG_DEBUG_INFO_BTF off?)"
fi
mv "$tmp/out" "$out.tmp.$$"
mv "$out.tmp.$$" "$out"
