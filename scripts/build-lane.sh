#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build vfio_iommu_cxx.ko against one kernel in $OUT/build-<kver> and run the
# object checks.  Writes $OUT/results/build-<kver>.tap.
#   scripts/build-lane.sh <kernel release>
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$1
out=${OUT:-$top/out}
bdir=$out/build-$kver
kdir=/lib/modules/$kver/build
mkdir -p "$bdir" "$out/results"
tap=$out/results/build-$kver.tap

# Build from a copy so that each kernel keeps its own objects.
mkdir -p "$bdir/scripts"
cp -a "$top/Kbuild" "$top/module" "$top/uapi" "$bdir/"
cp -a "$top/scripts/kbuild-cxx.mk" "$bdir/scripts/"
start=$(date +%s)
make -C "$kdir" M="$bdir" MODULE_PAHOLE_FLAGS="$(cat "$top/scripts/pahole-flags")" modules >"$bdir/build.log" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
{
	echo "TAP version 13"
	echo "# build against $kver took ${secs}s"
	if [ $rc = 0 ]; then
		echo "ok 1 - vfio_iommu_cxx.ko builds against $kver with -Werror"
		python3 "$top/scripts/check-module-objects.py" --start 2 "$bdir" "$kdir" "$bdir/build.log"
		echo "1..7"
	else
		grep -E 'error|warning' "$bdir/build.log" | head -30 | sed 's/^/# /'
		echo "not ok 1 - vfio_iommu_cxx.ko builds against $kver with -Werror"
		echo "1..1"
	fi
} >"$tap"
cat "$tap"
