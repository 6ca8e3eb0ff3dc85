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
# exists (scripts/build-mtest.sh).  VFIO_CXX_VMLINUZ boots another image than
# /boot/vmlinuz-<kver> (a build root's kernel: scripts/root-kernel.sh).
# With VFIO_CXX_PKG=<dir> (the .debs of scripts/pkg-build.sh) and
# VFIO_CXX_PKG_SMOKE=<pkg-smoke binary>, the same boot then goes through the
# Debian packages' life cycle (selftests/vm/pkg-guest.sh, issue 16 item 2):
# apt install, modprobe, a container listed by vfio-cxx-stat, apt purge.
# The guest's /usr, /var and /etc are then overlays in its memory: dpkg,
# DKMS and depmod write there, never to the host.
# Results: $OUT/vm-<kver>/{guest.tap,<suite>.tap,kselftest.tap,kselftest.log,dmesg.txt,console.log},
# $OUT/vm-<kver>/pkg/pkg-guest.tap (and its logs) for the packages.
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

# TCG (nested KVM dies in the decompressor); q35 + intel-iommu + two edus,
# each alone in its IOMMU group: the suites use the first; the QEMU client
# suite binds the second too, for two groups in one container and
# peer-to-peer DMA.  Their DMA mask is 64 bits (the edu's default masks DMA
# addresses to 28): the QEMU client suite DMAs into the nested machine's
# DIMMs above 4 GiB and into the other edu's BAR at 0xe0100000.
edu='-device edu,dma_mask=0xffffffffffffffff'
qemu_opts="-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on $edu $edu"
# Shared folders must be given as --rwdir=path=path with vng 1.35.
share=$(cd "$top" && pwd)
shared_out=$(cd "$out" && pwd)
mtest=${VFIO_CXX_MTEST_KO:-$moddir/mtest/vfio_cxx_mtest.ko}
[ -f "$mtest" ] && mtest=$(cd "$(dirname "$mtest")" && pwd)/$(basename "$mtest") || mtest=
outside() { [ "${1#"$share"/}" = "$1" ]; }
opts=(--rwdir="$share=$share")
outside "$shared_out" && opts+=(--rwdir="$shared_out=$shared_out")
# The demo binary (VFIO_CXX_DEMO, make's $(DEMO)): guest-run.sh runs its DMA too.
demo=${VFIO_CXX_DEMO:-}
if [ -n "$demo" ] && [ -x "$demo" ]; then
	demo=$(cd "$(dirname "$demo")" && pwd)/$(basename "$demo")
	outside "$demo" && opts+=(--rwdir="$(dirname "$demo")=$(dirname "$demo")")
else
	demo=
fi
cmd="VFIO_CXX_MTEST_KO=$mtest VFIO_CXX_DEMO=$demo bash $share/selftests/vm/guest-run.sh $moddir/vfio_iommu_cxx.ko $shared_out $ksft ${sel[*]}"
# Bound: measured 2026-12-02, the suites' boot takes 268-293 s quiet; with
# the package cycle after them 1012 s (6.1) and 1066 s (6.12) beside a CPU
# hog, and 1465 s (6.1) and 1621 s (6.12) on 2026-12-07 beside a hog on a
# new machine (the cycle alone was 1540 s once beside another VM: its DKMS
# build and two depmods of the whole module tree are slow under TCG).
bound=2400
# vCPUs: VFIO_CXX_VM_CPUS (lane-vm: 2 for the Debian kernels' boots, with or
# without the package cycle, so that the suites' races run on two), and 2
# with the package cycle; vng's default otherwise.
cpus=${VFIO_CXX_VM_CPUS:-}
pkg=${VFIO_CXX_PKG:-}
if [ -n "$pkg" ]; then
	pkg=$(cd "$pkg" && pwd)
	smoke=$(cd "$(dirname "$VFIO_CXX_PKG_SMOKE")" && pwd)/$(basename "$VFIO_CXX_PKG_SMOKE")
	outside "$pkg" && opts+=(--rwdir="$pkg=$pkg")
	outside "$smoke" && opts+=(--rwdir="$(dirname "$smoke")=$(dirname "$smoke")")
	# Two vCPUs (MTTCG): the DKMS build in the guest runs make -j2.
	cpus=2
	opts+=(--overlay-rwdir=/usr --overlay-rwdir=/var --overlay-rwdir=/etc)
	cmd+="; bash $share/selftests/vm/pkg-guest.sh $pkg $shared_out/pkg $smoke $(cat "$top/VERSION")"
	bound=3600
fi
[ -z "$cpus" ] || opts+=(--cpus "$cpus")
boot() {
	start=$(date +%s)
	timeout "${VFIO_CXX_VM_TIMEOUT:-$bound}" vng -r "${VFIO_CXX_VMLINUZ:-/boot/vmlinuz-$kver}" --disable-kvm --memory 2G \
		--append 'intel_iommu=on' --qemu-opts="$qemu_opts" "${opts[@]}" --exec "$cmd" \
		>"$out/console.log" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
}
boot
# A boot that never started (seen once, 2026-12-03: vng exit 255 after 8 s,
# nothing on the console, no guest.tap; the same kernel booted before and
# after) is tried once more.  Nothing ran, so no result is hidden; the
# retry is said in guest.tap.
retried=
if [ $rc != 0 ] && [ $secs -lt 60 ] && [ ! -s "$out/guest.tap" ] && [ ! -s "$out/console.log" ]; then
	echo "vm-lane: $kver: vng exit $rc after ${secs}s with an empty console; booting again" >&2
	retried="# the first boot did not start (vng exit $rc after ${secs}s, empty console); this is the second"
	boot
fi
echo "vm-lane: $kver: vng exit $rc after ${secs}s" >&2
if [ -n "$pkg" ]; then
	t=$out/pkg/pkg-guest.tap
	if grep -qE '^(not )?ok ' "$t" 2>/dev/null; then
		sed -i "1i # the boot (suites, then the packages) took ${secs}s (vng exit $rc)" "$t"
	else
		mkdir -p "$out/pkg"
		{ echo "not ok 1 - $kver: the package cycle produced no results (vng exit $rc after ${secs}s, see console.log)"; echo "1..1"; } >"$t"
	fi
fi
if [ ! -s "$out/guest.tap" ]; then
	{ echo "not ok 1 - $kver: VM boot produced no results (vng exit $rc, see console.log)"; echo "1..1"; } >"$out/guest.tap"
fi
[ -z "$retried" ] || sed -i "1i $retried" "$out/guest.tap"
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
