#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a virtme-ng guest (see scripts/vm-lane.sh).
#   guest-run.sh <vfio_iommu_cxx.ko> <results dir> <selftest binary>...
# With VFIO_CXX_MTEST_KO=<vfio_cxx_mtest.ko> in the environment it also loads
# mdev and the test mediated-device driver before the suites and unloads it
# after them.  VFIO_CXX_SUITE_ARGS, if set, is passed to every suite
# (kselftest_harness options, e.g. "-V type1").
# Binds QEMU's edu device to vfio-pci, loads the module, runs each kselftest
# suite, unloads the module and checks the kernel log and taint.  Writes
# guest.tap (its own checks), <suite>.tap for each suite and dmesg.txt.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ko=$1 out=$2
shift 2
mkdir -p "$out"
tap=$out/guest.tap
n=0
: >"$tap"
result() { # result <0|1> <description>
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2" >>"$tap"; else echo "not ok $n - $2" >>"$tap"; fi
}

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
echo "# kernel $(uname -r)" >>"$tap"
taint0=$(cat /proc/sys/kernel/tainted)

modprobe vfio-pci && modprobe vfio_iommu_type1
result $? "vfio-pci and vfio_iommu_type1 loaded"

edu=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edu=$d
		break
	fi
done
[ -n "$edu" ] && [ -e "$edu/iommu_group" ]
result $? "edu device present behind the IOMMU"

group=-1
if [ -n "$edu" ]; then
	bdf=$(basename "$edu")
	echo vfio-pci >"$edu/driver_override"
	echo "$bdf" >/sys/bus/pci/drivers_probe
	group=$(basename "$(readlink "$edu/iommu_group")")
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e "/dev/vfio/$group" ] && break; sleep 0.2; done
fi
[ -e "/dev/vfio/$group" ] && [ "$(basename "$(readlink "$edu/driver")")" = vfio-pci ]
result $? "edu bound to vfio-pci as /dev/vfio/$group"

insmod "$ko"
result $? "insmod $(basename "$ko")"

mtest=${VFIO_CXX_MTEST_KO:-}
if [ -n "$mtest" ]; then
	modprobe mdev && insmod "$mtest"
	result $? "modprobe mdev and insmod $(basename "$mtest")"
fi

for test in "$@"; do
	name=$(basename "$test")
	# shellcheck disable=SC2086 # VFIO_CXX_SUITE_ARGS: harness options, split
	VFIO_CXX_GROUP=$group VFIO_CXX_KO=$ko timeout 600 "$test" ${VFIO_CXX_SUITE_ARGS:-} >"$out/$name.tap" 2>&1
	echo "# $name exit status $?" >>"$tap"
done

if [ -n "$mtest" ]; then
	rmmod vfio_cxx_mtest
	result $? "rmmod vfio_cxx_mtest after the suites"
fi

rmmod vfio_iommu_cxx
result $? "rmmod vfio_iommu_cxx after the suite"

dmesg >"$out/dmesg.txt"
bad=$(awk -f "$here/dmesg-bad.awk" "$out/dmesg.txt")
[ -z "$bad" ]
result $? "kernel log has no WARN/BUG/oops/lockdep/KASAN/kmemleak report"
[ -n "$bad" ] && echo "$bad" | head -20 | sed 's/^/# /' >>"$tap"

taint=$(cat /proc/sys/kernel/tainted)
# Allowed: O (out-of-tree, 4096) and E (unsigned module, 8192).
extra=$(( (taint & ~taint0) & ~(4096 | 8192) ))
[ "$extra" = 0 ]
result $? "no taint other than out-of-tree/unsigned (tainted=$taint, at boot $taint0)"

echo "1..$n" >>"$tap"
