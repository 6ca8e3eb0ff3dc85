#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The debug-kernel lane: build vfio_iommu_cxx.ko (with its KUnit suites)
# against the debug kernel, boot it once under TCG with the same machine as
# lane-vm (q35, emulated Intel IOMMU, edu), run KUnit and the VM selftest
# suites (selftests/vm/debug-guest-run.sh), then check kmemleak and the log.
#   scripts/debug-lane.sh <selftest binary>...
# Results: $OUT/results/{build-<krel>,vm-debug-*}.tap; logs in $OUT/vm-debug/.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tests=("$@")
OUT=${OUT:-$top/out}
export OUT
results=$OUT/results
out=$OUT/vm-debug
rm -rf "$out"
mkdir -p "$out" "$results"

fail() { { echo "not ok 1 - debug lane: $1"; echo "1..1"; } >"$results/vm-debug-error.tap"; cat "$results/vm-debug-error.tap"; exit 0; }

kdir=$("$top/scripts/debug-kernel.sh") || fail "no debug kernel (scripts/debug-kernel.sh failed)"
krel=$(basename "$(ls -d "$kdir"/lib/modules/*/ | head -1)")
# With its KUnit suites (VFIO_CXX_KUNIT=1): they run when the module loads.
VFIO_CXX_KUNIT=1 "$top/scripts/build-lane.sh" "$krel" | grep -E '^(not )?ok'
moddir=$OUT/build-$krel
[ -f "$moddir/vfio_iommu_cxx.ko" ] || fail "vfio_iommu_cxx.ko did not build against $krel"
# The test mediated-device driver (build-lane.sh builds it), for the mdev suite.
mtest=$moddir/mtest/vfio_cxx_mtest.ko
[ -f "$mtest" ] || mtest=

# kunit.py (tools/testing/kunit/) from the same source package, never committed.
"$top/scripts/linux-source.sh" 6.12 "$OUT/src-6.12" tools/testing/kunit

# Two edus as in lane-vm (scripts/vm-lane.sh): the multi-group and shared-region tests need the second.
edu='-device edu,dma_mask=0xffffffffffffffff'
qemu_opts="-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on $edu $edu"
share=$top
start=$(date +%s)
# vng looks for the modules next to the image (the nearest ancestor with
# lib/modules/); from the cache it would link the guest's /lib/modules to
# /var/cache, which the guest hides.  A copy outside the cache makes it use
# the host's /lib/modules/<release>, where debug-kernel.sh installed them.
cp "$kdir/bzImage" "$out/bzImage"
boot() {
	timeout 3600 vng -r "$out/bzImage" --disable-kvm --memory 2G \
		--append 'intel_iommu=on' --qemu-opts="$qemu_opts" \
		--rwdir="$share=$share" $( [ "${out#"$share"/}" = "$out" ] && echo "--rwdir=$out=$out" ) \
		--exec "VFIO_CXX_MTEST_KO=$mtest bash $share/selftests/vm/debug-guest-run.sh $moddir/vfio_iommu_cxx.ko $out ${tests[*]}" \
		>"$out/console.log" 2>&1 </dev/null
	rc=$?
}
boot
# A boot that never reached the guest script (seen once, 2026-12-03: vng
# exit 255 after 410 s, nothing on the console, not one file written by
# debug-guest-run.sh, whose first act is the boot's kmemleak report; the
# rerun passed) is tried once more, as scripts/vm-lane.sh does.  Nothing
# ran, so no result is hidden; debug.tap says so.
retried=
if [ $rc != 0 ] && [ ! -s "$out/console.log" ] && [ ! -e "$out/kmemleak-boot.txt" ] &&
   [ ! -e "$out/debug.tap" ] && [ ! -e "$out/guest.tap" ]; then
	echo "debug-lane: $krel: vng exit $rc after $(( $(date +%s) - start ))s before the guest script ran; booting again" >&2
	retried="# the first boot did not reach the guest script (vng exit $rc after $(( $(date +%s) - start ))s, empty console); this is the second"
	boot
fi
echo "debug-lane: $krel: vng exit $rc after $(( $(date +%s) - start ))s" >&2
[ -z "$retried" ] || [ ! -f "$out/debug.tap" ] || echo "$retried" >>"$out/debug.tap"

copy() { # copy <file in $out> <results name> <what>
	if grep -qE '^(not )?ok ' "$out/$1" 2>/dev/null; then
		cp "$out/$1" "$results/$2"
	else
		{ echo "not ok 1 - debug lane: $3 did not run (vng exit $rc, see $out/console.log)"; echo "1..1"; } >"$results/$2"
	fi
	grep -E '^(not )?ok|^# (Totals|FAIL|kmemleak)' "$results/$2"
}
copy debug.tap vm-debug-checks.tap "the debug guest"
copy guest.tap vm-debug-guest.tap "guest-run.sh"
for t in "${tests[@]}"; do
	name=$(basename "$t")
	copy "$name.tap" "vm-debug-$name.tap" "$name"
done

# KUnit: the KTAP from debugfs, read by kunit.py's own parser
# (scripts/kunit-tap.py: kunit_parser.parse_run_tests, what `kunit.py parse`
# runs); its flat TAP, one result per test case and per parser error, is
# what summarize.py counts.  `kunit.py parse` itself still writes the
# KernelCI JSON and its report beside the logs.  kunit/.kunitconfig must be
# a subset of the debug kernel's .config (vm-debug-kunitconfig.tap).
kunit=$OUT/src-6.12/tools/testing/kunit
python3 "$top/scripts/kunit-tap.py" "$kunit" --kunitconfig "$top/kunit/.kunitconfig" "$kdir/config" \
	>"$results/vm-debug-kunitconfig.tap" 2>&1
if [ -s "$out/kunit.ktap" ]; then
	python3 "$kunit/kunit.py" parse --json="$out/kunit.json" "$out/kunit.ktap" >"$out/kunit-parse.txt" 2>&1
	python3 "$top/scripts/kunit-tap.py" "$kunit" "$out/kunit.ktap" >"$results/vm-debug-kunit.tap" 2>"$out/kunit-tap.err" ||
		{ echo "not ok 1 - kunit_parser failed on the KUnit results (see $out/kunit-tap.err)"; echo "1..1"; } \
			>"$results/vm-debug-kunit.tap"
	grep -E '^(not )?ok' "$results/vm-debug-kunit.tap"
else
	{ echo "not ok 1 - debug lane: no KUnit results (see $out/console.log)"; echo "1..1"; } >"$results/vm-debug-kunit.tap"
fi
exit 0
