#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# extract-vmlinux.sh IMAGE OUT: write the ELF vmlinux that a compressed x86
# kernel image (bzImage: /boot/vmlinuz-*, /usr/lib/modules/*/vmlinuz)
# carries to OUT.  Used by scripts/kconf.sh to read the kernel's BTF (the base
# of its modules' split BTF) for a kernel that is not the running one.
#
# The payload is found by its compression magic (xz, zstd, gzip: what
# Debian's kernels use), decompressed with the tool of that format, and kept
# only if it is an ELF file.  Needs: grep with -P, tail, xz/zstd/gzip,
# readelf.  Exits 1 with a message when no payload decompresses to ELF.
set -eu
img=$1 out=$2
[ -r "$img" ] || { echo "extract-vmlinux.sh: cannot read $img" >&2; exit 1; }

# try MAGIC_HEX TOOL...: each offset of MAGIC in the image, decompressed
# from there with TOOL (trailing data after the stream is ignored).
try() {
	magic=$(printf '%s' "$1" | sed 's/../\\x&/g')
	shift
	command -v "$1" >/dev/null 2>&1 || return 1
	for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
		tail -c +"$((off + 1))" "$img" | "$@" >"$out.tmp" 2>/dev/null || true
		if [ -s "$out.tmp" ] && readelf -h "$out.tmp" >/dev/null 2>&1; then
			mv "$out.tmp" "$out"
			return 0
		fi
	done
	rm -f "$out.tmp"
	return 1
}

try fd377a585a00 xz -dc ||
	try 28b52ffd zstd -dc ||
	try 1f8b0800 gzip -dc || {
		echo "extract-vmlinux.sh: no xz, zstd or gzip payload of $img decompresses to an ELF vmlinux (are xz-utils and zstd installed?)" >&2
		exit 1
	}
