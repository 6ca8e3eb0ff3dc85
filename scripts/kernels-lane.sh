#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lane-kernels (issue 12, in progress; not yet in make check): the
# build lane's checks (scripts/build-lane.sh: -Werror build, object,
# objtool/ORC, thunk, symbol and BTF checks, the test mdev driver) against
# the kernels of Debian suites whose compilers bookworm lacks, each built
# inside its build root (scripts/build-root.sh, scripts/root-run.sh).
#   scripts/kernels-lane.sh [suite...]   (default: trixie trixie-backports sid)
# Per kernel $OUT/results/build-<kver>.tap; a suite whose root cannot be
# made (e.g. sid without headers that day) gives one skipped test with the
# reason, in $OUT/results/kernels-<suite>.tap.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$top/out}
export OUT
mkdir -p "$OUT/results"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(trixie trixie-backports sid)
for suite in "${suites[@]}"; do
	t=$OUT/results/kernels-$suite.tap
	start=$(date +%s)
	if ! root=$("$top/scripts/build-root.sh" "$suite" 2>"$OUT/kernels-$suite.log"); then
		{
			echo "ok 1 - $suite: build root # SKIP $(tail -1 "$OUT/kernels-$suite.log")"
			echo "1..1"
		} >"$t"
		cat "$t"
		continue
	fi
	{
		echo "# $suite root $root ($(( $(date +%s) - start ))s): $(grep -E '^(kernels|g\+\+)=' "$root/vfio-cxx-root.txt" | tr '\n' ' ')"
		echo "ok 1 - $suite: build root with the suite's kernel headers and their g++"
		echo "1..1"
	} >"$t"
	cat "$t"
	for d in "$root"/lib/modules/*/build; do
		[ -e "$d" ] || continue
		k=$(basename "$(dirname "$d")")
		rm -f "$OUT/results/build-$k.tap" "$OUT/results/build-$k-mtest.tap"
		"$top/scripts/root-run.sh" "$root" bash "$top/scripts/build-lane.sh" "$k"
		[ -s "$OUT/results/build-$k.tap" ] ||
			printf 'not ok 1 - %s: build-lane.sh did not run in the %s root\n1..1\n' "$k" "$suite" |
			tee "$OUT/results/build-$k.tap"
	done
done
