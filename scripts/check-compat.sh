#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Compare module/kapi/vfio_compat.h with the kernel-private drivers/vfio/vfio.h
# of Debian's linux-source-6.1 and linux-source-6.12 packages.
#
# For each range, the block between "compat:<series>:begin" and
# "compat:<series>:end" must equal, verbatim, the kernel's definitions of
# enum vfio_group_type, enum vfio_iommu_notify_type (where it exists) and
# struct vfio_iommu_driver_ops, and the kernel must declare the two
# registration functions exactly as the compat header does.
# Prints TAP; exits non-zero on a mismatch.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$top/out}
compat=$top/module/kapi/vfio_compat.h

# Print the C definition starting at the line matching $2 up to its "};".
extract_def() {
	awk -v start="$2" '
		$0 ~ start { on = 1 }
		on { print }
		on && /^};/ { exit }' "$1"
}

n=0 fail=0
echo "TAP version 13"
echo "1..2"
for series in 6.1 6.12; do
	n=$((n + 1))
	src=$out/src-$series
	"$top/scripts/linux-source.sh" "$series" "$src" drivers/vfio/vfio.h
	h=$src/drivers/vfio/vfio.h
	want=$(mktemp) got=$(mktemp)
	{
		extract_def "$h" '^enum vfio_group_type \{'
		if grep -q '^enum vfio_iommu_notify_type {' "$h"; then
			echo
			grep -B1 '^enum vfio_iommu_notify_type {' "$h" | head -1
			extract_def "$h" '^enum vfio_iommu_notify_type \{'
		fi
		echo
		extract_def "$h" '^struct vfio_iommu_driver_ops \{'
	} >"$want"
	sed -n "/compat:$series:begin/,/compat:$series:end/p" "$compat" | sed '1d;$d' >"$got"
	ok=1
	if ! diff -u "$want" "$got" >"$out/compat-$series.diff"; then
		ok=0
	fi
	for decl in 'int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);' \
		    'void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);'; do
		grep -qxF "$decl" "$h" || { echo "# $series: missing: $decl" >>"$out/compat-$series.diff"; ok=0; }
		grep -qxF "$decl" "$compat" || { echo "# compat header lacks: $decl" >>"$out/compat-$series.diff"; ok=0; }
	done
	if [ $ok = 1 ]; then
		echo "ok $n - vfio_compat.h matches linux-source-$series drivers/vfio/vfio.h"
	else
		sed 's/^/# /' "$out/compat-$series.diff"
		echo "not ok $n - vfio_compat.h differs from linux-source-$series drivers/vfio/vfio.h"
		fail=1
	fi
	rm -f "$want" "$got"
done
exit $fail
