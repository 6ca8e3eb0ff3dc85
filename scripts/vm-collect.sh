#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Copy one VM boot's results (scripts/vm-lane.sh, $OUT/vm-<kver>/) into the
# results directory and print their verdict lines: guest.tap, the runner's
# kselftest.tap, each suite's TAP and, with <pkg> 1, the package cycle's.
#   scripts/vm-collect.sh <kver> <results dir> <pkg 0|1> <suite>...
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
k=$1 results=$2 pkg=$3
shift 3
vm=${OUT:-$top/out}/vm-$k
mkdir -p "$results"
if [ "$pkg" = 1 ]; then
	cp "$vm/pkg/pkg-guest.tap" "$results/pkg-vm-$k.tap"
	grep -E '^(not )?ok|^# (the boot|apt|DKMS)' "$results/pkg-vm-$k.tap"
fi
cp "$vm/guest.tap" "$results/vm-$k-guest.tap"
cat "$results/vm-$k-guest.tap"
cp "$vm/kselftest.tap" "$results/vm-$k-kselftest.tap"
grep -E '^(not )?ok' "$results/vm-$k-kselftest.tap"
for t in "$@"; do
	cp "$vm/$t.tap" "$results/vm-$k-$t.tap"
	grep -E '^(not )?ok|^# (Totals|FAIL)' "$results/vm-$k-$t.tap"
done
exit 0
