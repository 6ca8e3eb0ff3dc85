#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build vfio_iommu_cxx.ko against one kernel in $OUT/build-<kver> and run the
# object checks.  Writes $OUT/results/build-<kver>.tap.
#   scripts/build-lane.sh <kernel release>
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$1
out=${OUT:-$top/out}
bdir=$out/build-$kver
kdir=/lib/modules/$kver/build
mkdir -p "$bdir" "$out/results"
tap=$out/results/build-$kver.tap

# The lanes build with -Werror (VFIO_CXX_WERROR=1, for the C and C++ units;
# a user's DKMS build has neither it nor the KUnit suites).  The KUnit
# suites join when the caller asks: VFIO_CXX_KUNIT=1 (scripts/debug-lane.sh).
kunit=${VFIO_CXX_KUNIT:-0}

# Build from a copy so that each kernel keeps its own objects.
mkdir -p "$bdir/scripts"
rm -f "$bdir/kunit/"*.o
cp -a "$top/Kbuild" "$top/VERSION" "$top/module" "$top/uapi" "$top/kunit" "$bdir/"
cp -a "$top/scripts/kbuild-cxx.mk" "$top/scripts/kconf.mk" "$top/scripts/kconf.sh" \
	"$top/scripts/extract-vmlinux.sh" "$top/scripts/pahole-cxx" "$top/scripts/pahole-flags" "$bdir/scripts/"
start=$(date +%s)
make -C "$kdir" M="$bdir" PAHOLE="$bdir/scripts/pahole-cxx" \
	VFIO_CXX_WERROR=1 VFIO_CXX_KUNIT="$kunit" modules >"$bdir/build.log" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
{
	echo "TAP version 13"
	echo "# build against $kver took ${secs}s"
	if [ $rc = 0 ]; then
		echo "ok 1 - vfio_iommu_cxx.ko builds against $kver with -Werror"
		python3 "$top/scripts/check-module-objects.py" --start 2 "$bdir" "$kdir" "$bdir/build.log"
		# kconf.sh compiles its feature probes together in one unit; the
		# answers must be those of each probe compiled alone.
		sdir=$bdir/kconf-solo
		rm -rf "$sdir" && mkdir -p "$sdir/scripts"
		cp -a "$top/Kbuild" "$top/VERSION" "$top/module" "$top/uapi" "$sdir/"
		cp -a "$bdir/scripts/." "$sdir/scripts/"
		VFIO_CXX_KCONF_SOLO=1 make -C "$kdir" M="$sdir" PAHOLE="$sdir/scripts/pahole-cxx" \
			module/kapi/abi_check.o >"$sdir/build.log" 2>&1
		srun=$?
		together=$(grep '^#define VFIO_CXX_HAVE_' "$bdir/generated/vfio_cxx_kconf.h" 2>/dev/null | grep -vc '_HAVE_CONTAINER ')
		if [ $srun = 0 ] && grep -q '^probes compiled together' "$bdir/generated/vfio_cxx_kconf.h.log" &&
			cmp -s "$bdir/generated/vfio_cxx_kconf.h" "$sdir/generated/vfio_cxx_kconf.h"; then
			echo "ok 11 - kconf.sh: the probes compiled in one unit answer as each compiled alone ($together probes)"
		else
			echo "not ok 11 - kconf.sh: the probes compiled in one unit answer as each compiled alone"
			diff "$bdir/generated/vfio_cxx_kconf.h" "$sdir/generated/vfio_cxx_kconf.h" 2>&1 | head -10 | sed 's/^/# /'
			grep -m1 '^probes compiled' "$bdir/generated/vfio_cxx_kconf.h.log" 2>/dev/null | sed 's/^/# /'
		fi
		rm -rf "$sdir"
		echo "1..11"
	else
		grep -E 'error|warning' "$bdir/build.log" | head -30 | sed 's/^/# /'
		echo "not ok 1 - vfio_iommu_cxx.ko builds against $kver with -Werror"
		echo "1..1"
	fi
} >"$tap"
cat "$tap"

# The test mediated-device driver (selftests/mdev/), used by the VM lane.
mtap=$out/results/build-$kver-mtest.tap
mdir=$bdir/mtest
"$top/scripts/build-mtest.sh" "$kver" "$kdir"
mrc=$?
{
	echo "TAP version 13"
	if [ $mrc = 0 ]; then
		echo "ok 1 - vfio_cxx_mtest.ko builds against $kver with -Werror"
		# KASAN kernels (the debug lane) give each object its globals' (un)registration.
		arrays='|init_array|fini_array'
		nm -u "$mdir/mtest_engine.o" | grep -w __asan_register_globals >/dev/null && arrays=
		bad=$(readelf -SW "$mdir/mtest_engine.o" | grep -oE "\.(eh_frame|gcc_except_table|ctors|dtors$arrays)\b" | sort -u)
		[ -z "$bad" ] && echo "ok 2 - vfio_cxx_mtest C++ object has no exception/constructor sections" ||
			echo "not ok 2 - vfio_cxx_mtest C++ object has no exception/constructor sections # $bad"
		bad=$(grep -i objtool "$mdir/build.log" | head -5)
		[ -z "$bad" ] && echo "ok 3 - vfio_cxx_mtest objtool silent" ||
			{ echo "not ok 3 - vfio_cxx_mtest objtool silent"; echo "$bad" | sed 's/^/# /'; }
		missing=$(nm -u "$mdir/vfio_cxx_mtest.ko" | awk '{print $2}' |
			grep -vxF -f <(awk '{print $2}' "$kdir/Module.symvers") | tr '\n' ' ')
		[ -z "$missing" ] && echo "ok 4 - vfio_cxx_mtest undefined symbols are all exported by $kver" ||
			echo "not ok 4 - vfio_cxx_mtest undefined symbols are all exported by $kver # missing: $missing"
		echo "1..4"
	else
		grep -E 'error|warning' "$mdir/build.log" | head -30 | sed 's/^/# /'
		echo "not ok 1 - vfio_cxx_mtest.ko builds against $kver with -Werror"
		echo "1..1"
	fi
} >"$mtap"
cat "$mtap"
