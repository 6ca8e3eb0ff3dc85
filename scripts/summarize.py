#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the real results of every lane and print the closing line.

Usage: summarize.py <results dir>

Reads every *.tap (TAP / KTAP: top-level "ok N" / "not ok N" lines, with
"# SKIP" directives) and *.xml (GoogleTest JUnit output) file, prints one line
per file, then, last, "N passed, N failed, N skipped".  Exits 1 if anything
failed or no result was found at all.

A file that starts with "KTAP version" (KUnit's output) is a tree: suites
hold test cases, indented, and a parameterised case holds its parameters.
There every leaf counts, at any depth: a result line counts unless it closes
subtests (the result line just before it is indented deeper).  So each KUnit
test case counts once, a suite that failed before running any case counts
as one failure, and a suite's own summary line is not counted again.
"""
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

TAP = re.compile(r"^(not ok|ok)\b[^#]*(#\s*(SKIP|TODO)\b.*)?", re.I)


PLAN = re.compile(r"^1\.\.(\d+)\s*$")
KTAP_RESULT = re.compile(r"^(\s*)(not ok|ok)\b")


def ktap_leaves(lines):
    """The result lines of a KTAP tree that close no subtests, unindented."""
    prev = None
    for line in lines:
        m = KTAP_RESULT.match(line)
        if not m:
            continue
        depth = len(m.group(1).expandtabs(8))
        if prev is None or prev <= depth:
            yield line.lstrip()
        prev = depth


def count_tap(path):
    p = f = s = 0
    with open(path, errors="replace") as fh:
        lines = [line.rstrip("\n") for line in fh]
    # The plan ("1..N", unindented, first or last) must be there and its N
    # must match the top-level results: a run cut short (a crashed guest, a
    # killed suite) fails for every result it did not write.
    plans = [int(m.group(1)) for m in (PLAN.match(l) for l in lines) if m]
    top = sum(1 for l in lines if TAP.match(l))
    missing = 0
    if len(plans) != 1:
        missing = 1
        print(f"  {os.path.basename(path)}: {'no' if not plans else 'more than one'} TAP plan line "
              "(the run did not finish): counted as 1 failure")
    elif plans[0] > top:
        missing = plans[0] - top
        print(f"  {os.path.basename(path)}: plan 1..{plans[0]} but {top} results: "
              f"{missing} missing, counted as failures")
    if next((l for l in lines if l.strip()), "").startswith("KTAP version"):
        lines = list(ktap_leaves(lines))
    for line in lines:
        m = TAP.match(line)
        if not m:
            continue
        directive = (m.group(3) or "").upper()
        if directive == "SKIP":
            s += 1
        elif m.group(1) == "ok" or directive == "TODO":
            p += 1
        else:
            f += 1
    return p, f + missing, s


def count_gtest(path):
    p = f = s = 0
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        print(f"  {path}: unreadable ({e})")
        return 0, 1, 0
    for tc in root.iter("testcase"):
        if tc.find("failure") is not None or tc.find("error") is not None:
            f += 1
        elif tc.get("result") == "skipped" or tc.get("status") == "notrun" or tc.find("skipped") is not None:
            s += 1
        else:
            p += 1
    return p, f, s


METRIC = re.compile(r"^#\s*metric\s+(\w+)\s+(?:(\S+)\s+)?(\d+)\s*$")


def metrics(files):
    """Totals of the "# metric <name> [<label>] <n>" lines of the debug
    lane's TAP files (fail_nth_test.c: injection points per sequence;
    fuzz_test.c: calls)."""
    tot = {}
    for path in files:
        # The debug lane's figures (the fuzzer also runs in lane-vm).
        if path.endswith(".xml") or not os.path.basename(path).startswith("vm-debug-"):
            continue
        with open(path, errors="replace") as fh:
            for line in fh:
                m = METRIC.match(line.strip())
                if m:
                    tot[m.group(1)] = tot.get(m.group(1), 0) + int(m.group(3))
    return tot


def kunit_cases(files):
    n = 0
    for path in files:
        if os.path.basename(path).endswith("kunit.tap"):
            p, f, s = count_tap(path)
            n += p + f + s
    return n


def main():
    d = sys.argv[1]
    files = sorted(glob.glob(os.path.join(d, "*.tap")) + glob.glob(os.path.join(d, "*.xml")))
    tp = tf = ts = 0
    for path in files:
        p, f, s = count_gtest(path) if path.endswith(".xml") else count_tap(path)
        if p + f + s == 0:
            f = 1
            print(f"  {os.path.basename(path)}: no test results (counted as 1 failure)")
        else:
            print(f"  {os.path.basename(path):40s} {p:4d} passed {f:4d} failed {s:4d} skipped")
        tp, tf, ts = tp + p, tf + f, ts + s
    if not files:
        print("  no result files")
        tf = 1
    extra = metrics(files)
    k = kunit_cases(files)
    if k or extra:
        print(f"debug lane: KUnit {k} test cases, fail_nth {extra.get('fail_nth_points', 0)} "
              f"injection points covered, fuzz {extra.get('fuzz_calls', 0)} ioctl calls")
    line = f"{tp} passed, {tf} failed"
    if ts:
        line += f", {ts} skipped"
    print(line)
    return 1 if tf else 0


if __name__ == "__main__":
    sys.exit(main())
