#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The kselftest-install layout of the VM suites (issue 16 item 4):
#   scripts/kselftest-install.sh <install dir> <linux-source-6.12 tree> <suite binary>...
# (make kselftest-install / make -C selftests install INSTALL_PATH=... call it
# after building).  From the kernel tree (Debian's linux-source-6.12,
# extracted by scripts/linux-source.sh, never committed): run_kselftest.sh and
# kselftest/ (runner.sh, prefix.pl, ktap_helpers.sh, ksft.py, module.sh), and
# for ynl_test tools/net/ynl's cli.py and lib/ with the genetlink-c schema.
# Ours, under vfio_cxx/:
#   <suite>/<suite>, <suite>/settings   one collection per suite: a wrapper
#                     that sources vfio_cxx_env.sh and runs bin/<suite>, and
#                     its timeout (selftests/kselftest/timeouts)
#   bin/              the suites, ynl_test, ynl_holder
#   tool/             vfio-cxx-stat (netlink_test finds it as ../tool/)
#   modules/<kver>/   vfio_iommu_cxx.ko, vfio_cxx_mtest.ko of each kernel
#                     built in $OUT/build-<kver>/ (or ./vfio_iommu_cxx.ko)
#   ynl/              cli.py, lib/, specs/vfio_cxx.yaml, genetlink-c.yaml
#   vfio_cxx_env.sh   the set-up each test sources (edu, modules)
#   edu.sh            the edu device helpers it sources
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=$1 ksrc=$2
shift 2
OUT=${OUT:-$top/out}
k=$top/selftests/kselftest
sel=$ksrc/tools/testing/selftests
for f in "$sel/run_kselftest.sh" "$sel/kselftest/runner.sh" "$ksrc/tools/net/ynl/cli.py" \
	 "$ksrc/Documentation/netlink/genetlink-c.yaml"; do
	[ -r "$f" ] || { echo "kselftest-install: $f missing (scripts/linux-source.sh)" >&2; exit 1; }
done
rm -rf "$dest"
mkdir -p "$dest/kselftest"
install -m 755 "$sel/run_kselftest.sh" "$dest/"
for f in runner.sh prefix.pl ktap_helpers.sh ksft.py module.sh; do
	install -m 744 "$sel/kselftest/$f" "$dest/kselftest/"
done
c=$dest/vfio_cxx
mkdir -p "$c/bin" "$c/tool" "$c/modules" "$c/ynl/lib" "$c/ynl/specs"
install -m 644 "$k/vfio_cxx_env.sh" "$k/edu.sh" "$c/"
install -m 644 "$k/README" "$c/"

timeout_of() { awk -v s="$1" '$1 == s { print $2 }' "$k/timeouts"; }
suites=()
for b in "$@"; do
	install -m 755 "$b" "$c/bin/"
	suites+=("$(basename "$b")")
done
install -m 755 "$k/ynl_test.py" "$c/bin/ynl_test"
install -m 755 "$OUT/vm/ynl_holder" "$c/bin/"
suites+=(ynl_test)
install -m 755 "$OUT/tool/vfio-cxx-stat" "$c/tool/"
install -m 644 "$ksrc/tools/net/ynl/cli.py" "$c/ynl/"
install -m 644 "$ksrc"/tools/net/ynl/lib/*.py "$c/ynl/lib/"
install -m 644 "$ksrc/Documentation/netlink/genetlink-c.yaml" "$c/ynl/"
install -m 644 "$top/Documentation/netlink/specs/vfio_cxx.yaml" "$c/ynl/specs/"

: >"$dest/kselftest-list.txt"
for s in "${suites[@]}"; do
	t=$(timeout_of "$s")
	[ -n "$t" ] || { echo "kselftest-install: no timeout for $s in $k/timeouts" >&2; exit 1; }
	mkdir -p "$c/$s"
	printf '#!/bin/bash\n# SPDX-License-Identifier: GPL-2.0\n# vfio_cxx kselftest %s (scripts/kselftest-install.sh)\n. "$(dirname "$(realpath "$0")")/../vfio_cxx_env.sh"\nvfio_cxx_run %s\n' \
		"$s" "$s" >"$c/$s/$s"
	chmod 755 "$c/$s/$s"
	echo "timeout=$t" >"$c/$s/settings"
	echo "vfio_cxx/$s:$s" >>"$dest/kselftest-list.txt"
done

# The modules built so far, by the kernel release they were built for.
for ko in "$OUT"/build-*/vfio_iommu_cxx.ko "$top/vfio_iommu_cxx.ko"; do
	[ -f "$ko" ] || continue
	krel=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	mkdir -p "$c/modules/$krel"
	install -m 644 "$ko" "$c/modules/$krel/"
	m=$(dirname "$ko")/mtest/vfio_cxx_mtest.ko
	[ -f "$m" ] && install -m 644 "$m" "$c/modules/$krel/"
done
echo "kselftest-install: $dest: ${#suites[@]} tests ($(ls "$c/modules" | tr '\n' ' ')modules)"
