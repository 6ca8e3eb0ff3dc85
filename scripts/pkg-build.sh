#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the Debian packages (debian/: vfio-cxx-dkms, vfio-cxx-tools) from a
# copy of the tree, as `dpkg-buildpackage -us -uc -b` on a clean clone
# would: the files git tracks plus the untracked ones it does not ignore,
# copied to <dir>/src/vfio-cxx-<version>/.  dpkg-buildpackage writes the
# .debs, .buildinfo and .changes into the parent of the tree it builds,
# <dir>/src/; they are moved to <dir>/.  The build log is <dir>/build.log.
#   scripts/pkg-build.sh [<dir>]        (default: $OUT/pkg)
# Exit status: dpkg-buildpackage's.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$top/out}
dir=${1:-$OUT/pkg}
ver=$(cat "$top/VERSION")
src=$dir/src/vfio-cxx-$ver
rm -rf "$dir"
mkdir -p "$src"
dir=$(cd "$dir" && pwd)
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -xf - -C "$src" || exit 1
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$dir/build.log" 2>&1
rc=$?
mv "$dir"/src/*.deb "$dir"/src/*.buildinfo "$dir"/src/*.changes "$dir/" 2>/dev/null
exit $rc
