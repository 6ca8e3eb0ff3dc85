#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: vfio_iommu_cxx against vfio_iommu_type1, iommufd's native
# API and the floor (bench/floor/), side by side in one TCG boot (q35 +
# intel-iommu + edu, as scripts/vm-lane.sh), then the report:
# bench/results/{results.md,results.json,scaling.png}.
#   scripts/bench.sh --bench-kernel   the bench kernel (scripts/debug-kernel.sh
#                                     bench: linux-source-6.12 with iommufd and
#                                     the vfio cdev beside the legacy container,
#                                     no debugging machinery; built once, cached)
#   scripts/bench.sh <kernel release> an installed kernel (Debian's have no
#                                     iommufd: type1, ours and the floor only)
# Environment:
#   BENCH_ARGS     arguments of vfio_bench (default: -r 5 -R 3 -s 1024 -H 256 -n 65536 -t 4)
#   BENCH_MEM      guest memory (default 4G)
#   BENCH_RESULTS  where the report goes (default bench/results)
#   BENCH_TRACE    functions for ftrace's function_graph in the guest
#                  (make bench-profile): the trace's profile goes to
#                  $BENCH_RESULTS/profile.md (bench/profile.py)
#   BENCH_INSNS=1  (make bench-insns) count guest instructions per marked
#                  loop with a QEMU TCG plugin (bench/tcg-insns/insns.c):
#                  $BENCH_RESULTS/insns.md (bench/insns.py)
# Raw samples, the console log and the guest's dmesg: $OUT/bench-<kver>/.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kver=${1:?usage: $0 --bench-kernel | <kernel release>}
OUT=${OUT:-$top/out}
export OUT
image=
if [ "$kver" = --bench-kernel ]; then
	kdir=$("$top/scripts/debug-kernel.sh" bench) || { echo "bench: no bench kernel (scripts/debug-kernel.sh bench failed)" >&2; exit 1; }
	kver=$(basename "$(ls -d "$kdir"/lib/modules/*/ | head -1)")
	image=$kdir/bzImage
else
	image=/boot/vmlinuz-$kver
fi
out=$OUT/bench-$kver
results=${BENCH_RESULTS:-$top/bench/results}
args=${BENCH_ARGS:--r 5 -R 3 -s 1024 -H 256 -n 65536 -t 4}
mem=${BENCH_MEM:-4G}
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# The plot needs matplotlib (Debian's python3-matplotlib); installed once,
# as scripts/deps.sh installs what is missing.
if ! dpkg-query -W -f='${Status}\n' python3-matplotlib 2>/dev/null | grep -q '^install ok installed$'; then
	echo "bench: installing python3-matplotlib"
	$SUDO apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends python3-matplotlib >/dev/null ||
		echo "bench: python3-matplotlib not installed; the report will have no plot" >&2
fi

bdir=$OUT/build-$kver
if ! "$top/scripts/build-lane.sh" "$kver" >/dev/null; then
	[ -f "$bdir/vfio_iommu_cxx.ko" ] || { echo "bench: the module does not build for $kver (see $bdir/build.log)" >&2; exit 1; }
	echo "bench: the build lane reported failures for $kver; benchmarking $bdir/vfio_iommu_cxx.ko anyway" >&2
fi
"$top/scripts/build-mtest.sh" "$kver" || { echo "bench: vfio_cxx_mtest does not build (see $bdir/mtest/build.log)" >&2; exit 1; }
# The floor module (bench/floor/), from a copy like the test mdev driver's.
fdir=$bdir/floor
mkdir -p "$fdir"
cp -a "$top"/bench/floor/. "$fdir/"
make -C "/lib/modules/$kver/build" M="$fdir" modules >"$fdir/build.log" 2>&1 ||
	{ echo "bench: the floor module does not build (see $fdir/build.log)" >&2; exit 1; }
mkdir -p "$OUT/bench"
# iommufd's uAPI and the vfio cdev's come from the source of the bench
# kernel (bookworm's linux-libc-dev is 6.1's: no linux/iommufd.h), extracted,
# never committed; the raw uAPI headers still carry __user.
"$top/scripts/linux-source.sh" 6.12 "$OUT/src-6.12" include/uapi/linux/iommufd.h include/uapi/linux/vfio.h ||
	exit 1
gcc -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-clobbered -Wno-format-truncation \
	-D__user= -I"$top/uapi" -I"$OUT/src-6.12/include/uapi" \
	-o "$OUT/bench/vfio_bench" "$top/bench/vfio_bench.c" || exit 1

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
share=$(cd "$top" && pwd)
qemu_opts='-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on -device edu'
mark=
if [ "${BENCH_INSNS:-}" = 1 ]; then
	# The plugin speaks version 1 of QEMU's plugin ABI (QEMU 6.0 to 8.2).
	qv=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p')
	if [ -z "$qv" ] || [ "$qv" -lt 6 ] || [ "$qv" -gt 8 ]; then
		echo "bench: the instruction counter needs QEMU 6.0 to 8.2 (plugin ABI 1); this is QEMU ${qv:-unknown}" >&2
		exit 1
	fi
	gcc -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden -o "$OUT/bench/insns.so" \
		"$top/bench/tcg-insns/insns.c" -lpthread || exit 1
	qemu_opts="$qemu_opts -plugin $OUT/bench/insns.so,out=$out/insns.txt,marker=0x7e0000000000"
	mark=1
fi
# vng looks for the modules next to the image; a copy outside the cache
# makes it use the host's /lib/modules/<release> (scripts/debug-lane.sh).
cp "$image" "$out/bzImage"
echo "bench: booting $kver (TCG, $mem) with: vfio_bench $args"
start=$(date +%s)
# shellcheck disable=SC2086
timeout 3600 vng -r "$out/bzImage" --disable-kvm --memory "$mem" \
	--append 'intel_iommu=on' --qemu-opts="$qemu_opts" \
	--rwdir="$share=$share" $( [ "${out#"$share"/}" = "$out" ] && echo "--rwdir=$out=$out" ) \
	--exec "BENCH_MARK=$mark BENCH_TRACE='${BENCH_TRACE:-}' BENCH_FLOOR_KO=$fdir/vfio_cxx_floor.ko bash $share/bench/guest-bench.sh $bdir/vfio_iommu_cxx.ko $bdir/mtest/vfio_cxx_mtest.ko $out $OUT/bench/vfio_bench $args" \
	>"$out/console.log" 2>&1 </dev/null
rc=$?
echo "bench: vng exit $rc after $(( $(date +%s) - start ))s"
cat "$out/guest.log" 2>/dev/null
grep '^E ' "$out/raw.txt" 2>/dev/null | sed 's/^E /bench: error: /'
[ -s "$out/raw.txt" ] || { echo "bench: no samples (see $out/console.log)" >&2; exit 1; }
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
$py "$top/bench/report.py" "$out/raw.txt" "$results" --kver "$kver" --args "$args" --mem "$mem" \
	--seconds $(( $(date +%s) - start ))
if [ -n "$mark" ]; then
	$py "$top/bench/insns.py" "$out/insns.txt" "$out/kallsyms.txt" "$out/raw.txt" >"$results/insns.md" &&
		echo "bench: instruction counts in $results/insns.md" || echo "bench: no instruction counts" >&2
fi
if [ -n "${BENCH_TRACE:-}" ]; then
	if [ -s "$out/trace.txt" ]; then
		$py "$top/bench/profile.py" "$out/trace.txt" >"$results/profile.md" && cat "$results/profile.md"
	else
		echo "bench: no trace (see $out/guest.log)" >&2
	fi
fi
