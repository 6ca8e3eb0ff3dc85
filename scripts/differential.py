#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Pair the differential suite's results: type1 against vfio_iommu_cxx.

Usage: differential.py <results dir>

The differential suites (type1_api_test, mdev_test, and the Type1-semantics
tests of prereg_test) run each test twice in one boot, as the kselftest
fixture variants "type1" (the in-tree vfio_iommu_type1 serves the container)
and "cxx" (we serve it).  For each kernel this pairs the variants found in
its vm-<kver>-<suite>.tap files and writes differential-<kver>.tap into the
results dir, one TAP line per test:
"ok" when both variants gave the same result, "not ok" on a divergence or a
test that ran against one backend only.  Intended differences are not
hidden here: a test covering one asserts each backend's own documented
result (Documentation/differences.rst), so the two variants still agree on
pass/fail.  Prints a table per kernel to stdout.
"""
import glob
import os
import re
import sys

FILE = re.compile(r"^vm-(.+)-([a-z0-9_]+_test)\.tap$")
LINE = re.compile(r"^(ok|not ok)\s+\d+\s+(\S+?)\.(type1|cxx)\.(\S+)(.*)$")


def result(status, rest):
    if re.search(r"#\s*SKIP", rest, re.I):
        return "skip"
    return "pass" if status == "ok" else "FAIL"


def main():
    d = sys.argv[1]
    by_kver = {}
    for path in sorted(glob.glob(os.path.join(d, "vm-*_test.tap"))):
        m = FILE.match(os.path.basename(path))
        if m:
            by_kver.setdefault(m.group(1), []).append((m.group(2), path))
    if not by_kver:
        print("differential: no VM suite results")
        return 0
    for kver, suites in sorted(by_kver.items()):
        res = {}
        order = []
        for suite, path in suites:
            with open(path, errors="replace") as fh:
                for line in fh:
                    m = LINE.match(line.rstrip("\n"))
                    if not m:
                        continue
                    status, fixture, variant, test, rest = m.groups()
                    key = f"{suite}:{fixture}.{test}"
                    if key not in res:
                        res[key] = {}
                        order.append(key)
                    res[key][variant] = result(status, rest)
        if not order:
            continue
        tap = [f"TAP version 13", f"# differential type1 vs cxx on {kver}"]
        print(f"differential on {kver}:")
        print(f"  {'test':70s} {'type1':6s} {'cxx':6s}")
        diverged = 0
        for i, key in enumerate(order, 1):
            t = res[key].get("type1", "absent")
            c = res[key].get("cxx", "absent")
            same = t == c and t != "absent"
            diverged += not same
            print(f"  {key:70s} {t:6s} {c:6s}{'' if same else '  <-- DIVERGES'}")
            tap.append(f"{'ok' if same else 'not ok'} {i} - {kver}: {key} type1={t} cxx={c}")
        tap.append(f"1..{len(order)}")
        print(f"  {len(order)} tests, {diverged} divergences")
        with open(os.path.join(d, f"differential-{kver}.tap"), "w") as out:
            out.write("\n".join(tap) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
