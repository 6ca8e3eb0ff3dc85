#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a virtme-ng guest (see scripts/vm-lane.sh).
#   guest-run.sh <vfio_iommu_cxx.ko> <results dir> <kselftest install dir> [<collection:test>...]
#   guest-run.sh <vfio_iommu_cxx.ko> <results dir> <selftest binary>...
# The first form runs the installed kselftest collections (make
# kselftest-install) with their own run_kselftest.sh, as a user would (all
# of kselftest-list.txt, or the tests named), its per-test logs (-p) giving
# <suite>.tap and its own results kselftest.tap; the second runs each
# binary directly (the debug lane).
# With VFIO_CXX_MTEST_KO=<vfio_cxx_mtest.ko> in the environment it also loads
# mdev and the test mediated-device driver before the suites and unloads it
# after them.  VFIO_CXX_SUITE_ARGS, if set, is passed to every suite
# (kselftest_harness options, e.g. "-V type1").
# Binds QEMU's edu device to vfio-pci, loads the module, runs each kselftest
# suite, unloads the module and checks the kernel log and taint.  Writes
# guest.tap (its own checks), <suite>.tap for each suite and dmesg.txt.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../kselftest/edu.sh
. "$here/../kselftest/edu.sh"
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

edu=$(edu_find)
[ -n "$edu" ] && [ -e "$edu/iommu_group" ]
result $? "edu device present behind the IOMMU"

group=-1
[ -n "$edu" ] && group=$(edu_bind_vfio "$edu")
[ -e "/dev/vfio/$group" ] && [ "$(basename "$(readlink "$edu/driver")")" = vfio-pci ]
result $? "edu bound to vfio-pci as /dev/vfio/$group"

insmod "$ko"
result $? "insmod $(basename "$ko")"

mtest=${VFIO_CXX_MTEST_KO:-}
if [ -n "$mtest" ]; then
	modprobe mdev && insmod "$mtest"
	result $? "modprobe mdev and insmod $(basename "$mtest")"
fi

if [ $# -ge 1 ] && [ -x "$1/run_kselftest.sh" ]; then
	ksft=$1
	shift
	sel=()
	for t in "$@"; do sel+=(-t "$t"); done
	if [ $# = 0 ]; then
		mapfile -t names < <(cut -d: -f2 "$ksft/kselftest-list.txt")
	else
		names=("${@#*:}")
	fi
	# vfio_cxx_env.sh (sourced by each test) finds all of this set up already.
	export VFIO_CXX_GROUP=$group VFIO_CXX_KO=$ko VFIO_CXX_MTEST_KO=$mtest
	for name in "${names[@]}"; do rm -f "/tmp/$name"; done
	"$ksft/run_kselftest.sh" -p "${sel[@]}" >"$out/kselftest.log" 2>&1
	echo "# run_kselftest.sh exit status $?" >>"$tap"
	# Its per-test log: "# timeout set to N", then the test's output with
	# "# " before every line (kselftest/prefix.pl): the suite's own TAP back.
	for name in "${names[@]}"; do
		[ -f "/tmp/$name" ] && sed -e '1{/^# timeout set to /d}' -e 's/^# //' "/tmp/$name" >"$out/$name.tap"
		grep -h "^# vfio_cxx: $name exit" "$out/$name.tap" >>"$tap"
	done
	# The runner's verdict per test (exit status, timeout), one TAP document.
	{
		echo "TAP version 13"
		echo "# run_kselftest.sh on $(uname -r)"
		grep -E '^(not )?ok [0-9]+ selftests: ' "$out/kselftest.log" |
			awk '{ n++; sub(/^ok [0-9]+/, "ok " n); sub(/^not ok [0-9]+/, "not ok " n); print }'
		echo "1..${#names[@]}"
	} >"$out/kselftest.tap"
else
	# Binaries by path (the debug lane): one generous bound per suite
	# (the debug kernel's fuzz_test, the longest, is ~520 s under a CPU hog
	# with its time budgets).
	for test in "$@"; do
		name=$(basename "$test")
		# shellcheck disable=SC2086 # VFIO_CXX_SUITE_ARGS: harness options, split
		VFIO_CXX_GROUP=$group VFIO_CXX_KO=$ko timeout "${VFIO_CXX_SUITE_TIMEOUT:-1800}" "$test" ${VFIO_CXX_SUITE_ARGS:-} >"$out/$name.tap" 2>&1
		echo "# $name exit status $?" >>"$tap"
	done
fi

# The demo's DMA (scripts/demo/vfio_cxx_demo.c, what make demo shows): a
# Type1v2 container on the edu group, served by vfio_iommu_cxx, an edu DMA
# between two mapped buffers, and the IOMMU fault once one is unmapped.
demo=${VFIO_CXX_DEMO:-}
if [ -n "$demo" ]; then
	opened() { awk '$1 == "containers_opened" { print $2 }' /sys/kernel/debug/vfio_iommu_cxx/stats; }
	before=$(opened)
	"$demo" "$group" "$(basename "$edu")" >"$out/demo.log" 2>&1
	rc=$?
	after=$(opened)
	# Its container was ours: one more container opened by vfio_iommu_cxx.
	[ $rc = 0 ] && [ -n "$before" ] && [ "$after" = $((before + 1)) ]
	result $? "the demo's edu DMA through vfio_iommu_cxx, bytes match and the fault after unmap (demo exit $rc, containers_opened $before -> $after; demo.log)"
fi

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
