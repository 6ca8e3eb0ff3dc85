#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Extract files from Debian's linux-source-<series> tarball into a cache,
# once.  Nothing extracted here is ever committed.
#
#   scripts/linux-source.sh <series> <dest> <path-in-tree>...
# e.g. scripts/linux-source.sh 6.12 out/src-6.12 drivers/vfio/vfio.h
set -euo pipefail
series=$1 dest=$2
shift 2
tarball=/usr/src/linux-source-$series.tar.xz
[ -r "$tarball" ] || { echo "linux-source.sh: $tarball missing (make deps)" >&2; exit 1; }
mkdir -p "$dest"
stamp="$dest/.extracted-$(stat -c %Y-%s "$tarball")-$(echo "$*" | md5sum | cut -c1-8)"
[ -e "$stamp" ] && exit 0
members=()
for p in "$@"; do members+=("linux-source-$series/$p"); done
tar -xJf "$tarball" -C "$dest" --strip-components=1 "${members[@]}"
touch "$stamp"
