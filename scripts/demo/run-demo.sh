#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot <kver> in virtme-ng (TCG, q35 + intel-iommu + edu) and run the demo.
#   run-demo.sh <kver> <module dir> <demo binary>
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kver=$1 moddir=$2 demo=$3
echo "Booting $kver under TCG with an emulated Intel IOMMU and QEMU's edu device (about a minute)..."
vng -r "/boot/vmlinuz-$kver" --disable-kvm --memory 2G --append 'intel_iommu=on' \
	--qemu-opts='-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on -device edu' \
	--rwdir="$top=$top" \
	--exec "bash $top/scripts/demo/guest-demo.sh $moddir/vfio_iommu_cxx.ko $demo" </dev/null
