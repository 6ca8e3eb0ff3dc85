#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a virtme-ng guest of the debug kernel (scripts/debug-lane.sh).
#   debug-guest-run.sh <vfio_iommu_cxx.ko> <results dir> <selftest binary>...
# 1. kmemleak baseline: scan, keep what boot left behind (the kernel's, not
#    ours: our module has not been loaded yet) in kmemleak-boot.txt, clear.
# 2. KUnit: load the module with KUnit's filter set to our suites (they run
#    at load), keep /sys/kernel/debug/kunit/<suite>/results as one KTAP
#    document (kunit.ktap), unload.
# 3. The VM selftest suites through guest-run.sh, our variants only (-V type1), with the KUnit
#    filter set to match nothing so that its insmod does not run them again.
# 4. kmemleak scan (twice, 6 s apart: kmemleak reports only objects older
#    than 5 s) and the whole kernel log: any leak, KASAN report, lockdep
#    splat, WARN or BUG fails.  Writes debug.tap.
set -u
ko=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
tap=$out/debug.tap
n=0
: >"$tap"
result() { # result <0|1> <description>
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2" >>"$tap"; else echo "not ok $n - $2" >>"$tap"; fi
}
leaks() { grep -c '^unreferenced object' "$1" 2>/dev/null; }

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
kml=/sys/kernel/debug/kmemleak
glob=/sys/module/kunit/parameters/filter_glob
echo "# kernel $(uname -r)" >>"$tap"

# 1. Baseline.
[ -w "$kml" ]
result $? "kmemleak is enabled"
echo scan >"$kml"; sleep 6; echo scan >"$kml"
cat "$kml" >"$out/kmemleak-boot.txt"
echo "# kmemleak before our module was loaded: $(leaks "$out/kmemleak-boot.txt") object(s) (kmemleak-boot.txt), cleared as the baseline" >>"$tap"
echo clear >"$kml"

# 2. KUnit.
printf '%s' 'vfio_cxx*' >"$glob"	# no newline: it would be part of the glob
insmod "$ko"
result $? "insmod with the KUnit suites"
{
	suites=(/sys/kernel/debug/kunit/vfio_cxx*/)
	echo "KTAP version 1"
	echo "1..${#suites[@]}"
	i=0
	for d in "${suites[@]}"; do
		i=$((i + 1))
		# Each file is a KTAP document of one suite: drop its header
		# and renumber the suite's result line.
		tail -n +3 "$d/results" | sed -E "\$s/^(not ok|ok) 1 /\1 $i /"
	done
} >"$out/kunit.ktap"
grep -q '^ok\|^not ok' "$out/kunit.ktap"
result $? "KUnit results collected from debugfs"
rmmod vfio_iommu_cxx
result $? "rmmod after the KUnit suites"

# 3. The VM suites, as lane-vm runs them, but our backend's variants only:
#    the type1 variants are lane-vm's differential, and the in-tree type1
#    has a lock-order inversion of its own that lockdep reports as soon as
#    a vendor driver unpins from dma_unmap (device_list_lock is held across
#    the callback, whose vfio_unpin_pages takes iommu->lock, while
#    register_device and the notification take them the other way round;
#    see Documentation/differences.rst).  Lockdep stops at its first report,
#    which would hide any of ours.
printf '%s' 'vfio_cxx_none_' >"$glob"
# The multi-process fuzzer's budget here (lane-vm runs its default of 1500
# steps per variant): more rounds and steps under KASAN/lockdep/kmemleak
# (about 40 ms a step there), and more time.
export VFIO_CXX_FUZZ_MP_STEPS=${VFIO_CXX_FUZZ_MP_STEPS:-2500} VFIO_CXX_FUZZ_MP_ROUNDS=${VFIO_CXX_FUZZ_MP_ROUNDS:-4} \
	VFIO_CXX_FUZZ_MP_SECONDS=${VFIO_CXX_FUZZ_MP_SECONDS:-120}
VFIO_CXX_SUITE_ARGS="-V type1" bash "$here/guest-run.sh" "$ko" "$out" "$@"

# 4. Leaks and splats after everything.
sleep 6; echo scan >"$kml"; sleep 6; echo scan >"$kml"
cat "$kml" >"$out/kmemleak.txt"
[ "$(leaks "$out/kmemleak.txt")" = 0 ]
result $? "kmemleak: no new unreferenced object after KUnit and the VM suites"
grep -E '^unreferenced object|^  (comm|backtrace)|^    \[' "$out/kmemleak.txt" | head -40 | sed 's/^/# /' >>"$tap"

dmesg >"$out/dmesg-debug.txt"
bad=$(awk -f "$here/dmesg-bad.awk" "$out/dmesg-debug.txt")
[ -z "$bad" ]
result $? "kernel log (boot to end) has no WARN/BUG/KASAN/lockdep/kmemleak report"
[ -n "$bad" ] && echo "$bad" | head -20 | sed 's/^/# /' >>"$tap"

echo "1..$n" >>"$tap"
