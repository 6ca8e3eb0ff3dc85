# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# vfio_cxx_env.sh: the environment of the vfio_cxx kselftest collections,
# sourced by each test's wrapper (vfio_cxx/<suite>/<suite>), so that
# `./run_kselftest.sh` works in any VM with QEMU's edu device (1234:11e8)
# behind an IOMMU, as root.  What is already set up is left alone (the VM
# lane's guest-run.sh sets everything up itself first); otherwise:
#
# - vfio-pci and vfio_iommu_type1 are loaded (modprobe);
# - the edu device is bound to vfio-pci; VFIO_CXX_GROUP is its IOMMU group;
# - vfio_iommu_cxx is loaded: $VFIO_CXX_KO if set, else the collection's
#   modules/$(uname -r)/vfio_iommu_cxx.ko, else the installed one (the
#   vfio-cxx-dkms package or DKMS: modprobe); VFIO_CXX_KO names it (the
#   netlink suite reloads it);
# - mdev and the test mediated-device driver are loaded when there is one
#   ($VFIO_CXX_MTEST_KO or modules/$(uname -r)/vfio_cxx_mtest.ko); the
#   mdev suite and a few others skip without it.
#
# It prints what it did as TAP comments; nothing here fails a test by
# itself: a suite whose precondition is missing says so (skip or fail).
# vfio_cxx_run <suite> then runs bin/<suite> with $VFIO_CXX_SUITE_ARGS
# (kselftest_harness options, e.g. "-V type1") and prints its duration.

VFIO_CXX_KSFT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export VFIO_CXX_KSFT

# shellcheck source=edu.sh
. "$VFIO_CXX_KSFT/edu.sh"

vfio_cxx_say() { echo "# vfio_cxx_env: $*"; }

vfio_cxx_setup() {
	local kver edu was group ko mtest
	kver=$(uname -r)
	mountpoint -q /sys/kernel/debug 2>/dev/null || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	[ -d /sys/module/vfio_pci ] || modprobe vfio-pci || vfio_cxx_say "modprobe vfio-pci failed"
	[ -d /sys/module/vfio_iommu_type1 ] || modprobe vfio_iommu_type1 ||
		vfio_cxx_say "modprobe vfio_iommu_type1 failed"

	edu=$(edu_find)
	if [ -z "$edu" ] || [ ! -e "$edu/iommu_group" ]; then
		vfio_cxx_say "no edu device behind an IOMMU (qemu: -device intel-iommu -device edu, intel_iommu=on)"
	else
		was=$(basename "$(readlink "$edu/driver" 2>/dev/null)")
		group=$(edu_bind_vfio "$edu") || vfio_cxx_say "edu $(basename "$edu"): no /dev/vfio/$group"
		[ "$was" = vfio-pci ] || vfio_cxx_say "bound edu $(basename "$edu") to vfio-pci: /dev/vfio/$group"
		export VFIO_CXX_GROUP=${VFIO_CXX_GROUP:-$group}
	fi

	ko=${VFIO_CXX_KO:-}
	[ -z "$ko" ] && [ -f "$VFIO_CXX_KSFT/modules/$kver/vfio_iommu_cxx.ko" ] &&
		ko=$VFIO_CXX_KSFT/modules/$kver/vfio_iommu_cxx.ko
	[ -z "$ko" ] && ko=$(modinfo -n vfio_iommu_cxx 2>/dev/null)
	if [ ! -d /sys/module/vfio_iommu_cxx ]; then
		if [ -n "$ko" ] && [ -f "$ko" ]; then
			insmod "$ko" && vfio_cxx_say "insmod $ko"
		else
			modprobe vfio_iommu_cxx && vfio_cxx_say "modprobe vfio_iommu_cxx"
		fi
		[ -d /sys/module/vfio_iommu_cxx ] || vfio_cxx_say "vfio_iommu_cxx is not loaded (no module for $kver)"
	fi
	[ -n "$ko" ] && export VFIO_CXX_KO=$ko

	mtest=${VFIO_CXX_MTEST_KO:-}
	[ -z "$mtest" ] && [ -f "$VFIO_CXX_KSFT/modules/$kver/vfio_cxx_mtest.ko" ] &&
		mtest=$VFIO_CXX_KSFT/modules/$kver/vfio_cxx_mtest.ko
	if [ -n "$mtest" ] && [ ! -d /sys/module/vfio_cxx_mtest ]; then
		modprobe mdev 2>/dev/null
		insmod "$mtest" && vfio_cxx_say "insmod $mtest"
	fi
	[ -n "$mtest" ] && export VFIO_CXX_MTEST_KO=$mtest
	return 0
}

vfio_cxx_run() {
	local name=$1 t0=$EPOCHREALTIME rc
	# shellcheck disable=SC2086 # VFIO_CXX_SUITE_ARGS: harness options, split
	"$VFIO_CXX_KSFT/bin/$name" ${VFIO_CXX_SUITE_ARGS:-}
	rc=$?
	echo "# vfio_cxx: $name exit $rc after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
	return $rc
}

vfio_cxx_setup
