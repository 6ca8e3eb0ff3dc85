#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the demo VM: bind edu to vfio-pci, load vfio_iommu_cxx, run the demo,
# then the real client (qemu-demo.py: QEMU with the edu through vfio-pci).
#   guest-demo.sh <vfio_iommu_cxx.ko> <demo binary>
set -eu
ko=$1 demo=$2
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
modprobe vfio-pci
# shellcheck source=../../selftests/kselftest/edu.sh
. "$(dirname "$0")/../../selftests/kselftest/edu.sh"
edu=$(edu_find)
group=$(edu_bind_vfio "$edu")
echo "== QEMU edu device $(basename "$edu") bound to vfio-pci, IOMMU group $group (kernel $(uname -r))"
insmod "$ko"
echo "== $(dmesg | grep vfio_iommu_cxx | tail -1 | sed 's/^\[[^]]*\] //')"
echo
"$demo" "$group" "$(basename "$edu")"
echo
echo "== kernel log (IOMMU fault of the last DMA):"
dmesg | grep -E "DMAR:.*fault|vfio_iommu_cxx" | tail -4 | sed "s/^\[[^]]*\] /   /"
echo
# The real client (issue 13): Debian's own QEMU, the edu assigned through
# -device vfio-pci, its container served by us (claim_type1=1, the default).
echo "== the real client: Debian's QEMU with the edu through -device vfio-pci"
python3 "$(dirname "$0")/qemu-demo.py" "$(basename "$edu")" "$(dirname "$demo")/../tool/vfio-cxx-stat" ||
	echo "== the real client FAILED (exit $?)"
rmmod vfio_iommu_cxx
echo
echo "== vfio_iommu_cxx unloaded cleanly"
