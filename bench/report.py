#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Report of vfio_bench (bench/vfio_bench.c): medians and ratios.

    report.py <raw.txt> <results dir> [--kver K] [--args A] [--mem M] [--seconds S]

Writes <results dir>/results.md, results.json and scaling.png (the latter
only with matplotlib).  Ratios are other/ours for times and bytes, and
ours/other for throughputs: > 1 means vfio_iommu_cxx is better.  The other
is type1, and iommufd where the run has it (the bench kernel).  The floor
(bench/floor/: pin_user_pages_fast + iommu_map_sg, no bookkeeping) is
reported the other way round, ours/floor: how far above the least possible
cost ours is (issue 15's goal: at most 1.15).
"""
import argparse
import datetime
import json
import os
import statistics
import sys

NOTE = ("Measured under QEMU TCG (no KVM) on a shared machine: absolute numbers "
        "are meaningless, only the ratios between the backends within one "
        "run mean something (the backends rotate within each round, and the "
        "medians are compared).")

OTHERS = ("type1", "iommufd")

# (label, workload, metric, ours backend, kind) - kind: time, rate, bytes
ROWS = [
    ("MAP_DMA {map4k_mib} MiB, 4K pages", "map4k", "map_ms", "cxx", "time"),
    ("UNMAP_DMA {map4k_mib} MiB, 4K pages", "map4k", "unmap_ms", "cxx", "time"),
    ("MAP+UNMAP {map4k_mib} MiB, 4K pages", "map4k", "map_unmap_ms", "cxx", "time"),
    ("MAP_DMA {thp_mib} MiB, THP", "thp", "map_ms", "cxx", "time"),
    ("UNMAP_DMA {thp_mib} MiB, THP", "thp", "unmap_ms", "cxx", "time"),
    ("MAP+UNMAP {thp_mib} MiB, THP", "thp", "map_unmap_ms", "cxx", "time"),
    ("MAP_DMA {hugetlb_mib} MiB, hugetlbfs 2M", "hugetlb", "map_ms", "cxx", "time"),
    ("UNMAP_DMA {hugetlb_mib} MiB, hugetlbfs 2M", "hugetlb", "unmap_ms", "cxx", "time"),
    ("MAP+UNMAP {hugetlb_mib} MiB, hugetlbfs 2M", "hugetlb", "map_unmap_ms", "cxx", "time"),
    ("MAP_DMA {prereg_mib} MiB: prereg (ours) vs plain (type1)", "prereg", "map_ms", "cxxpre", "time"),
    ("MAP+UNMAP {prereg_mib} MiB: prereg (ours) vs plain (type1)", "prereg", "map_unmap_ms", "cxxpre", "time"),
    ("mdev pin+unpin 1 page (mdev-only)", "pin_mdev", "pin_unpin_1_us", "cxx", "time"),
    ("mdev pin+unpin 64 pages (mdev-only)", "pin_mdev", "pin_unpin_64_us", "cxx", "time"),
    ("mdev pin+unpin 512 pages (mdev-only)", "pin_mdev", "pin_unpin_512_us", "cxx", "time"),
    ("  same, net of register I/O: 1 page", "pin_mdev", "pin_unpin_1_net_us", "cxx", "time"),
    ("  same, net of register I/O: 64 pages", "pin_mdev", "pin_unpin_64_net_us", "cxx", "time"),
    ("  same, net of register I/O: 512 pages", "pin_mdev", "pin_unpin_512_net_us", "cxx", "time"),
    ("mdev pin+unpin 1 page (edu attached)", "pin_edu", "pin_unpin_1_us", "cxx", "time"),
    ("mdev pin+unpin 64 pages (edu attached)", "pin_edu", "pin_unpin_64_us", "cxx", "time"),
    ("mdev pin+unpin 512 pages (edu attached)", "pin_edu", "pin_unpin_512_us", "cxx", "time"),
    ("  same, net of register I/O: 512 pages", "pin_edu", "pin_unpin_512_net_us", "cxx", "time"),
    ("register I/O of one command (no backend involved: noise gauge)", "pin_mdev", "cmd_overhead_us", "cxx", "time"),
    ("vfio_dma_rw write 64 KiB", "rw", "write_MBps", "cxx", "rate"),
    ("vfio_dma_rw read 64 KiB", "rw", "read_MBps", "cxx", "rate"),
    ("tracking, dense ({track_pages} pages in 512-page pins; all caches)", "track", "bytes_per_page", "cxx", "bytes"),
    ("  of which radix_tree_node (ours: the xarray's nodes)", "track", "radix_tree_node_bytes_per_page", "cxx", "info"),
    ("  of which kmalloc-512 (ours: full PinTable leaves)", "track", "kmalloc-512_bytes_per_page", "cxx", "info"),
    ("  of which kmalloc-64 (type1: struct vfio_pfn)", "track", "kmalloc-64_bytes_per_page", "cxx", "info"),
    ("tracking, sparse (4096 pages, 1 in 64; all caches)", "track_sparse", "bytes_per_page", "cxx", "bytes"),
    ("  of which radix_tree_node", "track_sparse", "radix_tree_node_bytes_per_page", "cxx", "info"),
    ("  of which kmalloc-16 (ours: 1-record PinTable leaves)", "track_sparse", "kmalloc-16_bytes_per_page", "cxx", "info"),
    ("  of which kmalloc-64", "track_sparse", "kmalloc-64_bytes_per_page", "cxx", "info"),
]

UNITS = {"ms": "ms", "us": "µs", "MBps": "MiB/s", "page": "B/page"}


def unit(metric):
    for suffix, u in UNITS.items():
        if metric.endswith(suffix) or metric.endswith(suffix + "_net_us"):
            return u
    return "µs" if "_us" in metric else ""


def parse(path):
    samples, info, errors = {}, {}, []
    with open(path, errors="replace") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "S" and len(parts) == 5:
                try:
                    v = float(parts[4])
                except ValueError:
                    continue
                samples.setdefault(parts[1], {}).setdefault(parts[3], {}) \
                    .setdefault(parts[2], []).append(v)
            elif parts[0] == "I" and len(parts) >= 3:
                info[parts[1]] = " ".join(parts[2:])
            elif parts[0] == "E":
                errors.append(" ".join(parts[1:]))
    return samples, info, errors


def med(xs):
    return statistics.median(xs) if xs else None


def ratio(t1, ours, kind):
    if t1 is None or ours is None:
        return None
    if kind == "info":
        return None
    if kind == "rate":
        return ours / t1 if t1 > 0 else None
    if kind == "bytes":
        if ours <= 0:
            return float("inf") if t1 > 0 else None
        return t1 / ours
    return t1 / ours if ours > 0 else None


def fmt(v, digits=3):
    if v is None:
        return "–"
    if v == float("inf"):
        return "∞"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}g}"


def getm(samples, w, m, b):
    if m.endswith("_net_us"):
        # gross minus two commands' register I/O, pooled over every backend
        gross = med(samples.get(w, {}).get(m.replace("_net_us", "_us"), {}).get(b, []))
        nop = samples.get(w, {}).get("cmd_overhead_us", {})
        nop = med([v for k in nop for v in nop[k]])
        return None if gross is None or nop is None else gross - 2 * nop
    return med(samples.get(w, {}).get(m, {}).get(b, []))


def scaling(samples, w):
    ms = samples.get(w, {})
    ns = sorted({int(k.split("_n")[1]) for k in ms if "_us_n" in k})
    rows = []
    for n in ns:
        row = {"n": n}
        for op in ("map", "unmap"):
            for b in ("type1", "cxx", "iommufd"):
                row[f"{op}_{b}"] = med(ms.get(f"{op}_us_n{n}", {}).get(b, []))
        rows.append(row)
    return rows


def growth(rows, key):
    """per-op cost at the largest n over the median of n = 16..256."""
    base = [r[key] for r in rows if 16 <= r["n"] <= 256 and r[key]]
    last = rows[-1][key] if rows else None
    if not base or last is None:
        return None
    return last / statistics.median(base)


def plot(scales, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, len(scales), figsize=(6 * len(scales), 4.5), squeeze=False)
    for ax, (w, title, rows) in zip(axes[0], scales):
        for key, style, label in (("map_type1", "o--", "MAP type1"), ("map_cxx", "o-", "MAP ours"),
                                  ("map_iommufd", "o:", "MAP iommufd"),
                                  ("unmap_type1", "s--", "UNMAP type1"), ("unmap_cxx", "s-", "UNMAP ours"),
                                  ("unmap_iommufd", "s:", "UNMAP iommufd")):
            pts = [(r["n"], r[key]) for r in rows if r[key] is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
        ax.set_xscale("log", base=4)
        ax.set_yscale("log")
        ax.set_xlabel("mappings in the container (4 KiB each)")
        ax.set_ylabel("µs per operation (median)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("vfio_iommu_cxx vs type1 and iommufd: per-op cost as mappings grow (TCG: compare shapes, not values)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("outdir")
    ap.add_argument("--kver", default="?")
    ap.add_argument("--args", default="")
    ap.add_argument("--mem", default="")
    ap.add_argument("--seconds", default="")
    a = ap.parse_args()
    samples, info, errors = parse(a.raw)
    os.makedirs(a.outdir, exist_ok=True)
    fmtkeys = {k: info.get(k, "?") for k in ("map4k_mib", "thp_mib", "hugetlb_mib", "prereg_mib", "track_pages")}

    table = []
    for label, w, m, ours, kind in ROWS:
        t1, o = getm(samples, w, m, "type1"), getm(samples, w, m, ours)
        if t1 is None and o is None:
            continue
        n = len(samples.get(w, {}).get(m.replace("_net_us", "_us"), {}).get(ours, []))
        fd = getm(samples, w, m, "iommufd") if ours == "cxx" else None
        fl = getm(samples, w, m, "floor") if ours == "cxx" and kind == "time" else None
        table.append({"label": label.format(**fmtkeys), "workload": w, "metric": m, "ours": ours,
                      "unit": unit(m), "type1": t1, "cxx": o, "ratio": ratio(t1, o, kind),
                      "iommufd": fd, "ratio_iommufd": ratio(fd, o, kind),
                      "floor": fl, "over_floor": (o / fl) if fl and o is not None else None,
                      "kind": kind, "samples": n})
    have_fd = any(r["iommufd"] is not None for r in table)
    have_floor = any(r["floor"] is not None for r in table)

    def row(w, m):
        return next((r for r in table if r["workload"] == w and r["metric"] == m), None)

    targets = []
    for name, w, m, want, how in (
            ("MAP+UNMAP (4K pages) ≥ 1.5×", "map4k", "map_unmap_ms", 1.5, "ratio"),
            ("MAP over prereg ≥ 3× type1's MAP", "prereg", "map_ms", 3.0, "ratio"),
            ("mdev pin+unpin 512 pages ≥ 2×", "pin_mdev", "pin_unpin_512_us", 2.0, "ratio"),
            ("≤ 16 bytes of tracking per externally pinned page", "track", "bytes_per_page", 16.0, "max"),
            ("issue 15: ≤ 64 bytes per sparse pinned page (1 in 64)", "track_sparse", "bytes_per_page", 64.0, "max"),
            ("issue 15: dense tracking still ≤ 10 bytes a page", "track", "bytes_per_page", 10.0, "max")):
        r = row(w, m)
        if not r:
            targets.append({"target": name, "value": None, "met": None})
            continue
        v = r["ratio"] if how == "ratio" else max(r["cxx"], getm(samples, w, "radix_tree_node_bytes_per_page", "cxx") or 0)
        met = None if v is None else (v >= want if how == "ratio" else v <= want)
        targets.append({"target": name, "value": v, "met": met,
                        "measured": (f"{fmt(v)}×" if how == "ratio" else f"{fmt(v)} B/page (type1 {fmt(r['type1'])})")})

    # issue 15: no row below 1.0x type1 (nor iommufd, on MAP/UNMAP and mdev
    # pins), and the floor within 1.15x.  Rows with kind info have no ratio;
    # the noise gauge is no backend's work.
    judged = [(r["label"].strip(), r["ratio"], r.get("ratio_iommufd")) for r in table
              if r["ratio"] is not None and r["metric"] != "cmd_overhead_us"]
    for w, title in (("scale_edu", "edu attached"), ("scale_nodomain", "no domain")):
        for r in scaling(samples, w):
            for op in ("map", "unmap"):
                t1 = ratio(r[f"{op}_type1"], r[f"{op}_cxx"], "time")
                if t1 is not None:
                    judged.append((f"{op.upper()} ×{r['n']} ({title})", t1,
                                   ratio(r[f"{op}_iommufd"], r[f"{op}_cxx"], "time")))

    def short_target(name, idx):
        rows = [j for j in judged if j[idx] is not None]
        short = [j for j in rows if j[idx] < 1.0]
        targets.append({"target": name, "value": len(short), "met": (not short) if rows else None,
                        "measured": f"{len(rows) - len(short)} of {len(rows)} rows"
                        + (" (short: " + "; ".join(f"{j[0]} {fmt(j[idx])}×" for j in short) + ")" if short else "")})

    short_target("issue 15: every row ≥ 1.0× type1 (scaling rows included)", 1)
    if have_fd:
        short_target("issue 15: every row ≥ 1.0× iommufd (MAP/UNMAP, mdev pin+unpin, scaling)", 2)
    if have_floor:
        fls = [r for r in table if r["over_floor"] is not None]
        worst = max((r["over_floor"] for r in fls), default=None)
        targets.append({"target": "issue 15: ours within 1.15× of the floor (MAP, UNMAP)", "value": worst,
                        "met": None if worst is None else worst <= 1.15,
                        "measured": "; ".join(f"{r['label'].strip()} {fmt(r['over_floor'])}×" for r in fls)})

    scales = [(w, t, scaling(samples, w)) for w, t in
              (("scale_edu", "edu attached (IOMMU domain: pin + iommu_map)"),
               ("scale_nodomain", "mdev-only container (no domain: bookkeeping only)"))]
    scales = [s for s in scales if s[2]]
    png = os.path.join(a.outdir, "scaling.png")
    have_png = plot(scales, png) if scales else False

    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = [f"# vfio_iommu_cxx vs vfio_iommu_type1{', iommufd' if have_fd else ''}"
          f"{' and the floor' if have_floor else ''} ({a.kver})", "",
          f"_{NOTE}_", "",
          f"Run: {date}, guest kernel {a.kver}, TCG, {a.mem} guest memory, "
          f"q35 + intel-iommu (caching-mode) + edu; `vfio_bench {a.args}`"
          + (f"; {a.seconds} s in all" if a.seconds else "") + ".",
          f"Rounds: {info.get('rounds', '?')} (scaling: {info.get('scale_rounds', '?')}), "
          "backends rotating within each round; medians. Ratio: other/ours for times and "
          "bytes, ours/other for throughput — **> 1 means vfio_iommu_cxx is better**.", "",
          "## Targets (issues 8 and 15)", "", "| target | measured | met |", "|---|---|---|"]
    for t in targets:
        md.append(f"| {t['target']} | {t.get('measured', '–')} | "
                  f"{'yes' if t['met'] else ('no' if t['met'] is not None else 'not measured')} |")
    head = "| workload | unit | type1 | ours | ratio |"
    rule = "|---|---|---:|---:|---:|"
    if have_fd:
        head += " iommufd | ratio |"
        rule += "---:|---:|"
    if have_floor:
        head += " floor | ours/floor |"
        rule += "---:|---:|"
    md += ["", "## Workloads", "",
           "Ratio: type1/ours, iommufd/ours (times, bytes) or ours/other (throughput): > 1 means ours is "
           "better." + (" ours/floor: ours over the least possible cost, 1.0 at best." if have_floor else ""),
           "", head + " n |", rule + "---:|"]
    for r in table:
        line = f"| {r['label']} | {r['unit']} | {fmt(r['type1'])} | {fmt(r['cxx'])} | **{fmt(r['ratio'])}** |"
        if have_fd:
            line += f" {fmt(r['iommufd'])} | **{fmt(r['ratio_iommufd'])}** |"
        if have_floor:
            line += f" {fmt(r['floor'])} | {fmt(r['over_floor'])} |"
        md.append(line + f" {r['samples']} |")
    gauge = row("pin_mdev", "cmd_overhead_us")
    if gauge and gauge["ratio"]:
        md += ["", f"Noise gauge (register I/O of a command, no backend involved): type1/ours "
                   f"{fmt(gauge['ratio'])}, {fmt(abs(gauge['ratio'] - 1) * 100)}% from 1.0"
               + (f"; iommufd/ours {fmt(gauge['ratio_iommufd'])}, "
                  f"{fmt(abs(gauge['ratio_iommufd'] - 1) * 100)}% from 1.0" if gauge.get("ratio_iommufd") else "")
               + ". A ratio that far from 1.0 is what this machine's drift does to a row."]
    extra = [(k, v) for k, v in sorted(info.items()) if k.startswith("prereg") or "anon_huge" in k]
    pre_reg = getm(samples, "prereg", "register_ms", "cxxpre")
    if pre_reg is not None:
        md += ["", f"Preregistration itself (once per region, pins and charges it): "
                   f"{fmt(pre_reg)} ms for {fmtkeys['prereg_mib']} MiB, "
                   f"unregistration {fmt(getm(samples, 'prereg', 'unregister_ms', 'cxxpre'))} ms."]
    if "thp_anon_huge_kb" in info:
        md += [f"THP buffer: AnonHugePages {info['thp_anon_huge_kb']} kB."]
    slabs = [(k, v) for k, v in info.items() if k.endswith("_slab")]
    tr = [(k, v) for k, v in info.items() if "_slab" in k]
    if tr:
        md += ["", "Slab growth by cache in the last tracking round (bytes, caches over 4 KiB): "
               + "; ".join(f"{k.replace('_slab', '')}: {v}" for k, v in tr) + "."]
    del slabs, extra
    for w, title, rows in scales:
        fd = any(r["map_iommufd"] is not None for r in rows)
        cols = ("type1", "iommufd") if fd else ("type1",)
        head = "| mappings | MAP ours µs/op |" + "".join(f" MAP {b} | ratio |" for b in cols) \
            + " UNMAP ours µs/op |" + "".join(f" UNMAP {b} | ratio |" for b in cols)
        md += ["", f"## Scaling: {title}", "", head, "|---:|" + "---:|" * (2 + 4 * len(cols))]
        for r in rows:
            line = f"| {r['n']} |"
            for op in ("map", "unmap"):
                line += f" {fmt(r[f'{op}_cxx'])} |"
                for b in cols:
                    line += f" {fmt(r[f'{op}_{b}'])} | {fmt(ratio(r[f'{op}_{b}'], r[f'{op}_cxx'], 'time'))} |"
            md.append(line)
        g = {k: growth(rows, k) for k in ("map_type1", "map_cxx", "unmap_type1", "unmap_cxx")
             + (("map_iommufd", "unmap_iommufd") if fd else ())}
        md.append("")
        md.append("Per-op cost at the largest n over the median at n = 16..256: "
                  + ", ".join(f"{k.replace('_', ' ')} {fmt(v)}×" for k, v in g.items())
                  + " (O(log n) allows about log(65536)/log(64) ≈ 2.7×; O(n) would be ~1000×).")
    if have_png:
        md += ["", "![scaling](scaling.png)"]
    if errors:
        md += ["", "## Errors", ""] + [f"- {e}" for e in errors]
    with open(os.path.join(a.outdir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(a.outdir, "results.json"), "w") as f:
        json.dump({"note": NOTE, "date": date, "kernel": a.kver, "args": a.args, "guest_memory": a.mem,
                   "info": info, "errors": errors, "targets": targets, "table": table,
                   "scaling": {w: rows for w, _, rows in scales}, "samples": samples},
                  f, indent=1, sort_keys=True, default=lambda x: None)
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
