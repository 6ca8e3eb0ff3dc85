#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench-insns: instructions and memory accesses per operation, per
backend and per kernel function, from the TCG plugin's snapshots
(bench/tcg-insns/insns.c), the guest's /proc/kallsyms and vfio_bench's
marker labels (its "M <seq> <label>" lines).

Unlike a time, a count does not depend on what else the machine runs: the
same boot gives the same counts within a fraction of a percent.  Under TCG
an instruction, and more so a memory access (a softmmu TLB lookup each),
is what a guest operation costs, so these counts say where the time of a
bench row goes.

  insns.py <snapshots> <kallsyms> <raw.txt> [--top N]
"""
import argparse
import bisect
import collections
import sys


def load_syms(path):
    addrs, names = [], []
    with open(path, errors="replace") as f:
        for line in f:
            p = line.split()
            if len(p) < 3 or p[1] not in "tTwW":
                continue
            a = int(p[0], 16)
            if a == 0:
                continue
            name = p[2] + (" " + p[3] if len(p) > 3 else "")
            addrs.append(a)
            names.append(name)
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order]


def load_labels(path):
    labels = {}
    with open(path, errors="replace") as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[0] == "M":
                labels[int(p[1])] = p[2:]
    return labels


def snapshots(path):
    """Yields (seq, [(vaddr, insns, execs, mems)])."""
    seq, rows = None, []
    with open(path) as f:
        for line in f:
            if line.startswith("M "):
                if seq is not None:
                    yield seq, rows
                seq, rows = int(line.split()[1]), []
                continue
            p = line.split()
            if len(p) == 4:
                rows.append((int(p[0], 16), int(p[1]), int(p[2]), int(p[3])))
    if seq is not None:
        yield seq, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshots")
    ap.add_argument("kallsyms")
    ap.add_argument("raw")
    ap.add_argument("--top", type=int, default=14)
    a = ap.parse_args()
    addrs, names = load_syms(a.kallsyms)
    labels = load_labels(a.raw)
    if not addrs:
        sys.exit("insns.py: no symbols in %s" % a.kallsyms)
    if not labels:
        sys.exit("insns.py: no marker labels in %s (was BENCH_MARK=1 set?)" % a.raw)
    cache = {}

    def sym(v):
        if v < 0xffff800000000000:
            return "[user]"
        s = cache.get(v)
        if s is None:
            i = bisect.bisect_right(addrs, v) - 1
            s = names[i] if i >= 0 else "[?]"
            cache[v] = s
        return s

    # (workload, phase) -> backend -> {"ops": n, "fn": Counter insns, "mem": Counter}
    agg = collections.defaultdict(lambda: collections.defaultdict(
        lambda: {"ops": 0, "fn": collections.Counter(), "mem": collections.Counter()}))
    for seq, rows in snapshots(a.snapshots):
        lab = labels.get(seq)
        if not lab or lab[0] == "idle" or len(lab) < 4:
            continue
        w, backend, phase, ops = lab[0], lab[1], lab[2], int(lab[3])
        e = agg[(w, phase)][backend]
        e["ops"] += ops
        for v, n, x, m in rows:
            s = sym(v)
            e["fn"][s] += n * x
            e["mem"][s] += m

    print("# Instructions per operation under TCG (make bench-insns)\n")
    print("Counted by a QEMU TCG plugin (bench/tcg-insns/insns.c) between vfio_bench's markers; "
          "kernel = guest instructions at kernel addresses, mem = their guest memory accesses, "
          "user = vfio_bench's own.  Every vCPU is counted, so an idle vCPU's timer work is in "
          "every row alike.\n")
    print("| workload | phase | backend | kernel insns/op | kernel mem/op | user insns/op | "
          "kernel insns vs ours |")
    print("|---|---|---|---:|---:|---:|---:|")

    def per_op(e, key, kernel=True):
        c = e[key]
        tot = sum(v for k, v in c.items() if (k != "[user]") == kernel)
        return tot / e["ops"] if e["ops"] else 0

    def phase_key(k):
        w, ph = k
        num = "".join(ch for ch in ph if ch.isdigit())
        return (w, ph.rstrip("0123456789"), int(num) if num else 0)

    for key in sorted(agg, key=phase_key):
        bk = agg[key]
        ours = per_op(bk["cxx"], "fn") if "cxx" in bk else 0
        for b in ("type1", "cxx", "iommufd"):
            if b not in bk:
                continue
            e = bk[b]
            k = per_op(e, "fn")
            print("| %s | %s | %s | %.0f | %.0f | %.0f | %s |" % (
                key[0], key[1], b, k, per_op(e, "mem"), per_op(e, "fn", False),
                "%.2f" % (k / ours) if ours and b != "cxx" else "–"))
    for key in sorted(agg, key=phase_key):
        bk = agg[key]
        if "cxx" not in bk or "type1" not in bk:
            continue
        print("\n## %s %s: per function, instructions/op (mem/op)\n" % key)
        cols = [b for b in ("cxx", "type1", "iommufd") if b in bk]
        fns = collections.Counter()
        for b in cols:
            e = bk[b]
            for f, v in e["fn"].items():
                if f != "[user]":
                    fns[f] = max(fns[f], v / e["ops"])
        print("| function | " + " | ".join(cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for f, _ in fns.most_common(a.top):
            cells = []
            for b in cols:
                e = bk[b]
                v = e["fn"].get(f, 0) / e["ops"]
                m = e["mem"].get(f, 0) / e["ops"]
                cells.append("%.0f (%.0f)" % (v, m) if v >= 0.5 else "")
            print("| %s | %s |" % (f.replace("|", "\\|"), " | ".join(cells)))


if __name__ == "__main__":
    main()
