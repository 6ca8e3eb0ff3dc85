#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the test mediated-device driver vfio_cxx_mtest.ko (selftests/mdev/)
# against one kernel, from a copy in $OUT/build-<kver>/mtest/ so that each
# kernel keeps its own objects.  Log: $OUT/build-<kver>/mtest/build.log.
#   scripts/build-mtest.sh <kernel release> [<kernel build dir>]
# Exit status: make's.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$1
kdir=${2:-/lib/modules/$kver/build}
out=${OUT:-$top/out}
mdir=$out/build-$kver/mtest
mkdir -p "$mdir"
cp -a "$top"/selftests/mdev/. "$mdir/"
cp -a "$top/scripts/kbuild-cxx.mk" "$top/scripts/kconf.mk" "$top/scripts/kconf.sh" \
	"$top/scripts/extract-vmlinux.sh" "$mdir/"
make -C "$kdir" M="$mdir" PAHOLE="$top/scripts/pahole-cxx" modules >"$mdir/build.log" 2>&1
