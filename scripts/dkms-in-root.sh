#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Inside a build root (scripts/root-run.sh, issue 12 item 5): install the
# vfio-cxx-dkms package as a user of that suite does (apt, which pulls its
# dependencies from the suite: dkms, the suite's g++, dwarves), let DKMS
# build and install the module for each given kernel of the root, check it
# (modinfo), then purge the package so the cached root stays as it was.
# TAP on stdout.
#   dkms-in-root.sh <dir with vfio-cxx-dkms_<ver>_all.deb> <ver> <kver>...
set -uo pipefail
pkg=$1 ver=$2
shift 2
export DEBIAN_FRONTEND=noninteractive
. "$(dirname "$0")/tap.sh"
echo "TAP version 13"
log=$(mktemp)
start=$(date +%s)
apt-get install -y -q --no-install-recommends "$pkg/vfio-cxx-dkms_${ver}_all.deb" >"$log" 2>&1
ok $? "apt install vfio-cxx-dkms $ver (with its dependencies from $(. /etc/os-release; echo "$VERSION_CODENAME"))" "$log"
for k in "$@"; do
	dkms install "vfio-iommu-cxx/$ver" -k "$k" >"$log" 2>&1
	r=$?
	# dkms install exits non-zero when the postinst already installed it.
	ls /lib/modules/"$k"/updates/dkms/vfio_iommu_cxx.ko* >/dev/null 2>&1 &&
		[ "$(modinfo -k "$k" -F version vfio_iommu_cxx 2>/dev/null)" = "$ver" ]
	s=$?
	[ $s = 0 ] || cat /var/lib/dkms/vfio-iommu-cxx/"$ver"/build/make.log >>"$log" 2>/dev/null
	ok $s "DKMS built and installed vfio_iommu_cxx $ver for $k (dkms install exit $r)" "$log"
	# A user's build: the layout proven against this kernel's own vfio.ko
	# (scripts/kconf.sh; DKMS 3.2 removes its build directory, the module
	# keeps the proof in its modinfo), and no -Werror in DKMS's make line.
	proof=$(modinfo -k "$k" -F vfio_cxx_abi_proof vfio_iommu_cxx 2>/dev/null)
	layout=$(modinfo -k "$k" -F vfio_cxx_ops_layout vfio_iommu_cxx 2>/dev/null)
	[ "$proof" = "BTF of $(ls /lib/modules/"$k"/kernel/drivers/vfio/vfio.ko* | head -1)" ] &&
		[ -n "$layout" ] && [ "$layout" != none ] &&
		grep -q '^MAKE\[0\]=' "/usr/src/vfio-iommu-cxx-$ver/dkms.conf" &&
		! grep '^MAKE\[0\]=' "/usr/src/vfio-iommu-cxx-$ver/dkms.conf" | grep -q WERROR
	ok $? "the DKMS build for $k proved VFIO ops layout ${layout:-?} against ${proof:-nothing}, without -Werror"
	# And read type1's errno for a wrapping range from this kernel's type1.
	wrap=$(modinfo -k "$k" -F vfio_cxx_type1_wrap vfio_iommu_cxx 2>/dev/null)
	case $wrap in
	"-EINVAL (code of /lib/modules/$k/kernel/drivers/vfio/vfio_iommu_type1.ko"*")" | \
	"-EOVERFLOW (code of /lib/modules/$k/kernel/drivers/vfio/vfio_iommu_type1.ko"*")") s=0 ;;
	*) s=1 ;;
	esac
	ok $s "the DKMS build for $k read type1's wrap errno from its code: ${wrap:-nothing}"
done
apt-get purge -y -q vfio-cxx-dkms >"$log" 2>&1
ok $? "apt purge vfio-cxx-dkms" "$log"
echo "# took $(( $(date +%s) - start ))s"
rm -f "$log"
echo "1..$n"
exit $rc
