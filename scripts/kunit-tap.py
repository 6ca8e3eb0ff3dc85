#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The debug lane's KUnit results, as kunit.py's own parser reads them.

Usage: kunit-tap.py <tools/testing/kunit dir> <kunit.ktap>
       kunit-tap.py <tools/testing/kunit dir> --kunitconfig <.kunitconfig> <kernel .config>

Parses the KTAP (the KUnit output collected in the debug guest) with
kunit_parser.parse_run_tests() from linux-source-6.12's kunit.py, the parser
`kunit.py parse` runs, and prints flat TAP: one result per test case the
parser found (a leaf of its tree, "suite.case"; a suite that crashed or ran
no case is one failing leaf), then one failure per error the parser
reported (a malformed or truncated KTAP).  scripts/summarize.py counts these
lines, so the KUnit counts are the parser's.

With --kunitconfig, one result instead: every option of the .kunitconfig
is set that way in the kernel's .config (kunit_config's is_subset_of, the
check kunit.py run makes before building).
"""
import io
import os
import sys
from contextlib import redirect_stdout


def leaves(test, path=()):
    name = path + (test.name,) if test.name else path
    if not test.subtests:
        yield ".".join(name), test
        return
    for sub in test.subtests:
        yield from leaves(sub, name)


def kunitconfig(kunit_config, path, config):
    want = kunit_config.parse_file(path)
    have = kunit_config.parse_file(config)
    ok = want.is_subset_of(have)
    print("TAP version 13")
    print(f"{'ok' if ok else 'not ok'} 1 - kunit: the kernel's .config has every option of {path}")
    if not ok:
        have_s = {str(h) for h in have.as_entries()}
        for e in want.as_entries():
            if str(e) not in have_s and not str(e).endswith("=n"):
                print(f"# missing: {e}")
    print("1..1")
    return 0


def main():
    sys.path.insert(0, sys.argv[1])
    import kunit_config  # noqa: E402
    import kunit_parser  # noqa: E402
    import kunit_printer  # noqa: E402
    from kunit_parser import TestStatus  # noqa: E402

    if sys.argv[2] == "--kunitconfig":
        return kunitconfig(kunit_config, sys.argv[3], sys.argv[4])
    with open(sys.argv[2], errors="replace") as f:
        lines = f.read().splitlines()
    log = io.StringIO()
    # Its progress report (what `kunit.py parse` prints), kept as comments.
    kunit_parser.stdout = kunit_printer.Printer(log)
    with redirect_stdout(log):
        root = kunit_parser.parse_run_tests(lines)
    out = ["TAP version 13", "# KUnit results of the debug guest, parsed by kunit.py's kunit_parser"]
    out += ["# " + line for line in log.getvalue().splitlines()]
    n = 0
    # The root is the KTAP document; its subtests are the suites.
    tops = root.subtests if root.subtests else [root]
    for suite in tops:
        for name, t in leaves(suite):
            n += 1
            if t.status == TestStatus.SUCCESS:
                out.append(f"ok {n} - kunit: {name}")
            elif t.status == TestStatus.SKIPPED:
                out.append(f"ok {n} - kunit: {name} # SKIP")
            else:
                out.append(f"not ok {n} - kunit: {name} ({t.status.name})")
    errors = root.counts.errors
    for i in range(errors):
        n += 1
        out.append(f"not ok {n} - kunit: kunit_parser reported an error in the KTAP ({i + 1} of {errors})")
    out.append(f"1..{n}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
