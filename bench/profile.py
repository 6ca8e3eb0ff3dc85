#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Profile of MAP_DMA/UNMAP_DMA from a function_graph trace (make bench-profile).

    profile.py <trace.txt> [--top N]

The trace is ftrace's function_graph output of the VFIO core's container
ioctl (vfio_fops_unl_ioctl), taken inside the TCG guest by
bench/guest-bench.sh with BENCH_TRACE set; perf cannot resolve kernel
symbols there, the tracer can.  Each ioctl's call tree is attributed to
its backend (vfio_iommu_type1_ioctl or our vfio_cxx_ioctl) and its operation
(MAP or UNMAP, by the functions it reached), and the self time of every
function (its duration minus its children's) is summed per operation.
Prints, per backend and operation, the mean time per call and the
functions that take it, as Markdown.  The tracer's own cost inflates every
call (more so for deep trees), so read the split, not the totals.
"""
import argparse
import collections
import re
import shutil
import subprocess
import sys

LINE = re.compile(r"^\s*(\d+)\)\s+(?:\S+\s+)?\|\s*(?:[+!#*@$]\s*)?([\d.]+ us)?\s*\|\s*(.*?)\s*$")


def demangle(names):
    if not names or not shutil.which("c++filt"):
        return {n: n for n in names}
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.split("\n")
    return {n: (d or n) for n, d in zip(names, out)}


def classify(seen):
    """The backend and operation of one ioctl's call tree, from the functions it reached.

    type1 inlines vfio_dma_do_map/unmap into its ioctl: its UNMAP is the tree
    that reaches vfio_remove_dma, its MAP the one that asks capable() (for
    CAP_IPC_LOCK; no other type1 ioctl does).  Ours: see below."""
    backend = "type1" if "vfio_iommu_type1_ioctl" in seen else "cxx" if "vfio_cxx_ioctl" in seen else None
    op = None
    if backend == "type1":
        if "vfio_remove_dma" in seen:
            op = "UNMAP"
        elif "capable" in seen or "ns_capable" in seen or "security_capable" in seen:
            op = "MAP"
    elif backend == "cxx":
        # The core is one unit, its ioctl handlers inlined; the kapi's C
        # functions never are: a MAP inserts into the range map, an UNMAP
        # removes from it.
        if "kapi_rangemap_remove" in seen:
            op = "UNMAP"
        elif "kapi_rangemap_insert" in seen:
            op = "MAP"
    return backend, op


def fname(body, tail):
    """A function's name without its "()" tail and " [module]" suffix."""
    return re.sub(r"\s*\[[^]]*\]$", "", body[: -len(tail)].strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()

    stacks = collections.defaultdict(list)   # cpu -> [[name, child_us]]
    tree = collections.defaultdict(lambda: collections.Counter())  # cpu -> self times of the root under way
    seen = collections.defaultdict(set)
    selfs = collections.defaultdict(collections.Counter)  # (backend, op) -> name -> us
    calls = collections.Counter()
    totals = collections.Counter()
    ncalls = collections.Counter()  # cpu -> functions called in the root under way
    fcalls = collections.Counter()  # (backend, op) -> functions called
    for line in open(a.trace, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        cpu, dur, body = m.group(1), m.group(2), m.group(3)
        d = float(dur.split()[0]) if dur else 0.0
        st = stacks[cpu]
        if body.endswith("() {"):
            name = fname(body, "() {")
            st.append([name, 0.0])
            ncalls[cpu] += 1
            seen[cpu].add(name)
        elif body.endswith("();"):
            name = fname(body, "();")
            seen[cpu].add(name)
            ncalls[cpu] += 1
            tree[cpu][name] += d
            if st:
                st[-1][1] += d
        elif body.startswith("}"):
            if not st:
                continue
            name, child = st.pop()
            tree[cpu][name] += max(d - child, 0.0)
            if st:
                st[-1][1] += d
            else:
                key = classify(seen[cpu])
                if key[0] and key[1]:
                    calls[key] += 1
                    totals[key] += d
                    selfs[key].update(tree[cpu])
                    fcalls[key] += ncalls[cpu]
                tree[cpu] = collections.Counter()
                ncalls[cpu] = 0
                seen[cpu] = set()
    if not calls:
        print("profile: no MAP/UNMAP call trees in", a.trace, file=sys.stderr)
        return 1
    names = sorted({n for c in selfs.values() for n in c})
    dm = demangle(names)
    print("| backend | op | calls | µs/call (traced) | functions/call | where the time goes (self µs/call) |")
    print("|---|---|---:|---:|---:|---|")
    for key in sorted(calls):
        n = calls[key]
        top = selfs[key].most_common(a.top)
        parts = "; ".join(f"{dm[f][:60]} {t / n:.2f}" for f, t in top)
        print(f"| {key[0]} | {key[1]} | {n} | {totals[key] / n:.2f} | {fcalls[key] / n:.1f} | {parts} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
