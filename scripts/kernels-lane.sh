#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lane-kernels (issue 12; make check runs it after lane-build): the
# build lane's checks (scripts/build-lane.sh: -Werror build, object,
# objtool/ORC, thunk, symbol and BTF checks, the test mdev driver) against
# the kernels of Debian suites whose compilers bookworm lacks, each built
# inside its build root (scripts/build-root.sh, scripts/root-run.sh); then
# the vfio-cxx-dkms package installed with that suite's apt and built by its
# DKMS for the kernel (scripts/dkms-in-root.sh: $OUT/results/dkms-<kver>.tap).
#   scripts/kernels-lane.sh [suite...]   (default: trixie trixie-backports sid)
# Per kernel $OUT/results/build-<kver>.tap, and per suite
# $OUT/results/kernels-<suite>.tap (its root).  A root that cannot be made
# fails, except sid's: the canary skips with the reason (e.g. no headers in
# the archive that day).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$top/out}
export OUT
mkdir -p "$OUT/results"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(trixie trixie-backports sid)
# The Debian packages, as lane-dkms built them (else built now).
pkg=$OUT/pkg-host ver=$(cat "$top/VERSION")
if [ ! -f "$pkg/vfio-cxx-dkms_${ver}_all.deb" ]; then
	"$top/scripts/pkg-build.sh" "$pkg" >/dev/null 2>&1 || echo "kernels-lane: the packages failed to build ($pkg/build.log)" >&2
fi
for suite in "${suites[@]}"; do
	t=$OUT/results/kernels-$suite.tap
	start=$(date +%s)
	if ! root=$("$top/scripts/build-root.sh" "$suite" 2>"$OUT/kernels-$suite.log"); then
		{
			why=$(tail -1 "$OUT/kernels-$suite.log")
			if [ "$suite" = sid ]; then
				echo "ok 1 - $suite: build root # SKIP $why"
			else
				echo "not ok 1 - $suite: build root with the suite's kernel headers, image and g++ # $why"
			fi
			echo "1..1"
		} >"$t"
		cat "$t"
		continue
	fi
	{
		echo "# $suite root $root ($(( $(date +%s) - start ))s): $(grep -E '^(kernels|g\+\+)=' "$root/vfio-cxx-root.txt" | tr '\n' ' ')"
		echo "ok 1 - $suite: build root with the suite's kernel headers, image and g++"
		echo "1..1"
	} >"$t"
	cat "$t"
	nk=0
	for d in "$root"/lib/modules/*/build; do
		[ -e "$d" ] || continue
		nk=$((nk + 1))
		k=$(basename "$(dirname "$d")")
		rm -f "$OUT/results/build-$k.tap" "$OUT/results/build-$k-mtest.tap"
		"$top/scripts/root-run.sh" "$root" bash "$top/scripts/build-lane.sh" "$k"
		[ -s "$OUT/results/build-$k.tap" ] ||
			printf 'not ok 1 - %s: build-lane.sh did not run in the %s root\n1..1\n' "$k" "$suite" |
			tee "$OUT/results/build-$k.tap"
		# DKMS as that suite's user has it (issue 12 item 5).
		"$top/scripts/root-run.sh" "$root" bash "$top/scripts/dkms-in-root.sh" "$pkg" "$ver" "$k" \
			>"$OUT/results/dkms-$k.tap"
		grep -qE '^(not )?ok' "$OUT/results/dkms-$k.tap" ||
			printf 'not ok 1 - %s: DKMS did not run in the %s root\n1..1\n' "$k" "$suite" >"$OUT/results/dkms-$k.tap"
		cat "$OUT/results/dkms-$k.tap"
	done
	[ $nk -gt 0 ] || printf 'not ok 1 - %s: the root holds no kernel build tree\n1..1\n' "$suite" |
		tee "$OUT/results/kernels-$suite-none.tap"
done
