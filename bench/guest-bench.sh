#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the virtme-ng guest of scripts/bench.sh.
#   guest-bench.sh <vfio_iommu_cxx.ko> <vfio_cxx_mtest.ko> <out dir> <vfio_bench> [bench args...]
# Binds QEMU's edu device to vfio-pci, loads vfio_iommu_type1, our module, mdev
# and the test mdev driver, raises both backends' dma_entry_limit (the
# scaling workload makes 65536 mappings), reserves hugetlbfs pages, runs the
# benchmark into <out dir>/raw.txt and saves the kernel log.
set -u
ko=$1 mtest=$2 out=$3 bench=$4
shift 4
mkdir -p "$out"
log=$out/guest.log
: >"$log"
say() { echo "# $*" | tee -a "$log"; }

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
say "kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
modprobe vfio-pci && modprobe vfio_iommu_type1 || say "cannot load vfio-pci/vfio_iommu_type1"
edu=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then edu=$d; break; fi
done
group=-1
if [ -n "$edu" ]; then
	echo vfio-pci >"$edu/driver_override"
	basename "$edu" >/sys/bus/pci/drivers_probe
	group=$(basename "$(readlink "$edu/iommu_group")")
	for _ in $(seq 20); do [ -e "/dev/vfio/$group" ] && break; sleep 0.2; done
fi
say "edu group $group"
insmod "$ko" || say "insmod $ko failed"
modprobe mdev && insmod "$mtest" || say "cannot load mdev/$mtest"
# The floor (bench/floor/): pin_user_pages_fast + iommu_map_sg, no VFIO.
if [ -n "${BENCH_FLOOR_KO:-}" ]; then
	insmod "$BENCH_FLOOR_KO" || say "insmod $BENCH_FLOOR_KO failed: no floor"
fi
[ -e /dev/iommu ] && say "iommufd: /dev/iommu, edu cdev $(ls "$edu/vfio-dev" 2>/dev/null)"
echo 131072 >/sys/module/vfio_iommu_type1/parameters/dma_entry_limit
echo 131072 >/sys/module/vfio_iommu_cxx/parameters/dma_entry_limit
# hugetlbfs: as many 2 MiB pages as the bench asks for (-H MiB, default 256).
hmib=256
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = -H ] && hmib=${args[$((i + 1))]}; done
echo $((hmib / 2)) >/proc/sys/vm/nr_hugepages
say "hugetlb pages: $(cat /proc/sys/vm/nr_hugepages) of $((hmib / 2))"
say "thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
ulimit -l unlimited
# BENCH_MARK (make bench-insns): the symbols that name the plugin's blocks,
# modules included, as this boot placed them.
if [ "${BENCH_MARK:-}" = 1 ]; then
	echo 0 >/proc/sys/kernel/kptr_restrict
	cat /proc/kallsyms >"$out/kallsyms.txt"
fi
# BENCH_TRACE (scripts/bench-profile.sh): the function_graph tracer on the
# VFIO container ioctl (either backend), its durations into trace.txt.
tr=/sys/kernel/tracing
if [ -n "${BENCH_TRACE:-}" ]; then
	mountpoint -q $tr || mount -t tracefs none $tr
	echo 0 >$tr/tracing_on
	echo function_graph >$tr/current_tracer
	echo "$BENCH_TRACE" >$tr/set_graph_function || say "cannot trace $BENCH_TRACE"
	echo funcgraph-proc >$tr/trace_options 2>/dev/null
	echo 65536 >$tr/buffer_size_kb
	: >$tr/trace
	echo 1 >$tr/tracing_on
fi
VFIO_CXX_GROUP=$group timeout 3000 "$bench" "$@" >"$out/raw.txt" 2>>"$log"
say "vfio_bench exit status $?"
if [ -n "${BENCH_TRACE:-}" ]; then
	echo 0 >$tr/tracing_on
	cat $tr/trace >"$out/trace.txt"
	say "trace: $(wc -l <"$out/trace.txt") lines, $(cat $tr/per_cpu/cpu*/stats | awk '/overrun/ {s += $2} END {print s + 0}') overrun"
	echo nop >$tr/current_tracer
fi
echo 0 >/proc/sys/vm/nr_hugepages
rmmod vfio_cxx_mtest
[ -z "${BENCH_FLOOR_KO:-}" ] || rmmod vfio_cxx_floor 2>/dev/null
rmmod vfio_iommu_cxx || say "rmmod vfio_iommu_cxx failed"
dmesg >"$out/dmesg.txt"
if grep -qE 'WARNING:|BUG:|Oops|general protection fault|Call Trace:' "$out/dmesg.txt"; then
	say "the kernel log has a WARN/BUG/oops (see dmesg.txt)"
fi
