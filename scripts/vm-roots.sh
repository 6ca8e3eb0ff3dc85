#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM lane's boots of the kernels bookworm cannot install (issue 12 item
# 4): for each suite, the kernel of its build root (scripts/build-root.sh),
# booted from the root's image and modules (scripts/root-kernel.sh copies
# them to /lib/modules/<kver> for the boot and removes them afterwards;
# nothing is installed by dpkg), with the module and the test mdev driver
# that lane-kernels built in that root, running the same suites as the
# Debian 12 kernels' boots.  The package cycle is not run there: the
# packages are bookworm's.
#   scripts/vm-roots.sh <results dir> <kselftest dir> <suites "a b"> <suite>...
# Results as lane-vm's: $RESULTS/vm-<kver>-*.tap.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$top/out}
export OUT
results=$1 ksft=$2 suites=$3
shift 3
for suite in "$@"; do
	if ! root=$("$top/scripts/build-root.sh" "$suite" 2>"$OUT/vm-root-$suite.log"); then
		printf 'not ok 1 - %s: no build root to boot its kernel from # %s\n1..1\n' "$suite" \
			"$(tail -1 "$OUT/vm-root-$suite.log")" | tee "$results/vm-root-$suite.tap"
		continue
	fi
	for d in "$root"/lib/modules/*/build; do
		[ -e "$d" ] || continue
		k=$(basename "$(dirname "$d")")
		# The module and the mdev driver, built in the root (lane-kernels, or now).
		if [ ! -f "$OUT/build-$k/vfio_iommu_cxx.ko" ] || [ ! -f "$OUT/build-$k/mtest/vfio_cxx_mtest.ko" ]; then
			"$top/scripts/root-run.sh" "$root" bash "$top/scripts/build-lane.sh" "$k" >/dev/null
		fi
		if ! img=$("$top/scripts/root-kernel.sh" "$root" "$k" 2>"$OUT/vm-root-$suite.log"); then
			printf 'not ok 1 - %s: %s cannot be booted # %s\n1..1\n' "$suite" "$k" \
				"$(tail -1 "$OUT/vm-root-$suite.log")" | tee "$results/vm-$k-guest.tap"
			continue
		fi
		# shellcheck disable=SC2086 # $suites is a list
		VFIO_CXX_VMLINUZ=$img "$top/scripts/vm-lane.sh" "$k" "$OUT/build-$k" "$ksft" $suites
		"$top/scripts/root-kernel.sh" --remove "$k"
		# shellcheck disable=SC2086
		"$top/scripts/vm-collect.sh" "$k" "$results" 0 $suites
	done
done
