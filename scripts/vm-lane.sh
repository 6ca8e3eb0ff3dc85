#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# One virtme-ng boot of a kernel with an emulated Intel IOMMU and QEMU's edu
# device, running the VM selftest suites against vfio_iommu_cxx (and, for the
# differential suite, against vfio_iommu_type1 in the same boot).
#   scripts/vm-lane.sh <kernel release> <module dir> <kselftest install dir> <suite>...
# The suites run from the installed kselftest collections (make
# kselftest-install) through their run_kselftest.sh, as a user runs them
# (selftests/vm/guest-run.sh); each <suite> is vfio_cxx/<suite>:<suite>.
# The test mediated-device driver is loaded in the guest too when
# $VFIO_CXX_MTEST_KO names it, or else when <module dir>/mtest/vfio_cxx_mtest.ko
# exists (scripts/build-mtest.sh).
# Results: $OUT/vm-<kver>/{guest.tap,<suite>.tap,kselftest.tap,kselftest.log,dmesg.txt,console.log}
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$1 moddir=$2 ksft=$(cd "$3" && pwd)
shift 3
tests=("$@")
sel=()
for t in "${tests[@]}"; do sel+=("vfio_cxx/$t:$t"); done
out=${OUT:-$top/out}/vm-$kver
rm -rf "$out"
mkdir -p "$out"

# TCG (nested KVM dies in the decompressor); q35 + intel-iommu + edu.
qemu_opts='-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on -device edu'
# Shared folders must be given as --rwdir=path=path with vng 1.35.
share=$(cd "$top" && pwd)
shared_out=$(cd "$out" && pwd)
mtest=${VFIO_CXX_MTEST_KO:-$moddir/mtest/vfio_cxx_mtest.ko}
[ -f "$mtest" ] && mtest=$(cd "$(dirname "$mtest")" && pwd)/$(basename "$mtest") || mtest=
start=$(date +%s)
timeout 2400 vng -r "/boot/vmlinuz-$kver" --disable-kvm --memory 2G \
	--append 'intel_iommu=on' --qemu-opts="$qemu_opts" \
	--rwdir="$share=$share" $( [ "${shared_out#"$share"/}" = "$shared_out" ] && echo "--rwdir=$shared_out=$shared_out" ) \
	--exec "VFIO_CXX_MTEST_KO=$mtest bash $share/selftests/vm/guest-run.sh $moddir/vfio_iommu_cxx.ko $shared_out $ksft ${sel[*]}" \
	>"$out/console.log" 2>&1 </dev/null
rc=$?
echo "vm-lane: $kver: vng exit $rc after $(( $(date +%s) - start ))s" >&2
if [ ! -s "$out/guest.tap" ]; then
	{ echo "not ok 1 - $kver: VM boot produced no results (vng exit $rc, see console.log)"; echo "1..1"; } >"$out/guest.tap"
fi
for t in "${tests[@]}"; do
	name=$t
	if ! grep -qE '^(not )?ok ' "$out/$name.tap" 2>/dev/null; then
		{ echo "not ok 1 - $kver: $name did not run (see console.log)"; echo "1..1"; } >"$out/$name.tap"
	fi
done
if ! grep -qE '^(not )?ok ' "$out/kselftest.tap" 2>/dev/null; then
	{ echo "not ok 1 - $kver: run_kselftest.sh did not run (see console.log)"; echo "1..1"; } >"$out/kselftest.tap"
fi
exit 0
