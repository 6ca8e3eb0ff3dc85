#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install vfio_iommu_cxx through DKMS for the given kernels (default: the
# installed Debian kernels): the source tree goes to
# /usr/src/<PACKAGE_NAME>-<PACKAGE_VERSION> (dkms.conf), replacing any
# earlier copy of the same version, then dkms add/build/install per kernel.
# The module lands in /lib/modules/<kver>/updates/dkms/ and `modprobe
# vfio_iommu_cxx` loads it.  TAP on stdout (one line per kernel).
#   scripts/dkms-install.sh [--remove] [kver...]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
src=/usr/src/$name-$ver

remove_all() {
	# Not "dkms status | grep -q": grep exits at the first line, dkms
	# dies of SIGPIPE, and with pipefail the test fails when two or more
	# kernels have the module (seen in a CI run).
	if [ -n "$($SUDO dkms status "$name/$ver" 2>/dev/null)" ] || [ -e "/var/lib/dkms/$name/$ver" ]; then
		$SUDO dkms remove "$name/$ver" --all >/dev/null 2>&1 || true
	fi
	$SUDO rm -rf "$src"
}

if [ "${1:-}" = --remove ]; then
	remove_all
	echo "removed $name/$ver from DKMS"
	exit 0
fi

kvers=("$@")
[ ${#kvers[@]} -gt 0 ] || kvers=($(make -s -C "$top" --no-print-directory print-kvers))

remove_all
# What Kbuild needs, and nothing else.
$SUDO mkdir -p "$src/scripts"
$SUDO cp -a "$top/Kbuild" "$top/dkms.conf" "$top/module" "$top/uapi" "$top/kunit" "$src/"
$SUDO cp -a "$top/scripts/kbuild-cxx.mk" "$top/scripts/pahole-flags" "$src/scripts/"
$SUDO find "$src" -name '*.o' -o -name '*.cmd' -o -name '*.ko' | $SUDO xargs -r rm -f
n=0 rc=0
echo "TAP version 13"
addlog=$(mktemp)
if $SUDO dkms add "$name/$ver" >"$addlog" 2>&1; then
	echo "ok $((n += 1)) - dkms add $name/$ver"
else
	echo "not ok $((n += 1)) - dkms add $name/$ver"
	sed 's/^/# /' "$addlog"
	rc=1
fi
rm -f "$addlog"
for k in "${kvers[@]}"; do
	log=$(mktemp)
	if $SUDO dkms build "$name/$ver" -k "$k" >"$log" 2>&1 &&
	   $SUDO dkms install "$name/$ver" -k "$k" --force >>"$log" 2>&1 &&
	   ls /lib/modules/"$k"/updates/dkms/vfio_iommu_cxx.ko* >/dev/null 2>&1; then
		echo "ok $((n += 1)) - dkms build and install for $k"
	else
		echo "not ok $((n += 1)) - dkms build and install for $k"
		tail -20 "$log" | sed 's/^/# /'
		rc=1
	fi
	rm -f "$log"
done
echo "1..$n"
exit $rc
