#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install vfio_iommu_cxx on this host the way a Debian user does: build the
# packages (scripts/pkg-build.sh, into $OUT/pkg-host) and install
# vfio-cxx-dkms and vfio-cxx-tools with dpkg; the package's postinst (dh-dkms)
# adds the source (/usr/src/vfio-iommu-cxx-<version>) to DKMS and builds it.
# Then make sure that the module is built and installed for each given kernel
# (default: the installed Debian kernels).  It lands in
# /lib/modules/<kver>/updates/dkms/ and `modprobe vfio_iommu_cxx` loads it.
# Copies left by the script this one replaced (DKMS trees of other versions
# that no package owns) are removed first.  TAP on stdout.
#   scripts/dkms-install.sh [--remove] [kver...]
# --remove purges the packages (dkms remove --all, the source tree).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$top/out}
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
ver=$(cat "$top/VERSION")

# DKMS copies of vfio-iommu-cxx that no package owns (the old script's).
remove_strays() {
	local d v
	for d in /var/lib/dkms/"$name"/* /usr/src/"$name"-*; do
		[ -e "$d" ] || continue
		case $d in /var/lib/dkms/*) v=${d##*/} ;; *) v=${d##*/"$name"-} ;; esac
		[ -d "$d" ] && [[ $v =~ ^[0-9] ]] || continue
		dpkg -S "/usr/src/$name-$v" >/dev/null 2>&1 && continue
		$SUDO dkms remove "$name/$v" --all >/dev/null 2>&1 || true
		$SUDO rm -rf "/usr/src/$name-$v" "/var/lib/dkms/$name/$v"
	done
}

if [ "${1:-}" = --remove ]; then
	$SUDO dpkg --purge vfio-cxx-tools vfio-cxx-dkms >/dev/null
	remove_strays
	echo "removed vfio-cxx-dkms, vfio-cxx-tools and $name from DKMS"
	exit 0
fi

kvers=("$@")
[ ${#kvers[@]} -gt 0 ] || read -r -a kvers <<<"$(make -s -C "$top" --no-print-directory print-kvers)"

TAP_LOG_LINES=20
. "$top/scripts/tap.sh"
echo "TAP version 13"
pkg=$OUT/pkg-host
"$top/scripts/pkg-build.sh" "$pkg"
ok $? "the packages build (dpkg-buildpackage, log $pkg/build.log)" "$pkg/build.log"
remove_strays
log=$(mktemp)
$SUDO dpkg -i "$pkg/vfio-cxx-dkms_${ver}_all.deb" "$pkg"/vfio-cxx-tools_"${ver}"_*.deb >"$log" 2>&1
ok $? "dpkg -i vfio-cxx-dkms vfio-cxx-tools $ver" "$log"
for k in "${kvers[@]}"; do
	$SUDO dkms install "$name/$ver" -k "$k" >"$log" 2>&1
	r=$?
	# dkms install exits non-zero when the module is installed already.
	ls /lib/modules/"$k"/updates/dkms/vfio_iommu_cxx.ko* >/dev/null 2>&1 &&
		[ "$(modinfo -k "$k" -F version vfio_iommu_cxx 2>/dev/null)" = "$ver" ]
	ok $? "DKMS built and installed vfio_iommu_cxx $ver for $k (dkms install exit $r)" "$log"
done
rm -f "$log"
echo "1..$n"
exit $rc
