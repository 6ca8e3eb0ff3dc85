#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lane-pkg: the Debian packages (debian/).
#   scripts/pkg-lane.sh <kernel release>
# On the host ($OUT/results/pkg.tap): one version everywhere; the packages
# build with `dpkg-buildpackage -us -uc -b` from a copy of the tree
# (scripts/pkg-build.sh); their contents and dependencies; lintian reports
# no error; the packaged vfio-cxx-stat's version; a user's build of the
# packaged source with dkms.conf's own make line (no -Werror, no KUnit);
# Kbuild's refusal of other architectures.  The user build is against the
# kernel given.  The packages' life cycle in a VM of each kernel
# (selftests/vm/pkg-guest.sh) runs in lane-vm's boots (scripts/vm-lane.sh)
# with the .debs built here.  Logs: $OUT/pkg/ (build.log, lintian.txt).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$top/out}
export OUT
k=$1
results=$OUT/results
dir=$OUT/pkg
mkdir -p "$results"
tap=$results/pkg.tap
ver=$(cat "$top/VERSION")
n=0
: >"$tap.new"
result() { # result <0|1> <description>
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi >>"$tap.new"
}
note() { echo "# $*" >>"$tap.new"; }
lane_start=$(date +%s)

# ---- one version ------------------------------------------------------------
[[ $ver =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
result $? "VERSION is a version number ($ver)"
dv=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
[ "$dv" = "$ver" ]
result $? "dkms.conf's PACKAGE_VERSION is VERSION ($dv)"
cv=$(cd "$top" && dpkg-parsechangelog -S Version 2>/dev/null)
[ "$cv" = "$ver" ]
result $? "debian/changelog's version is VERSION ($cv)"
grep -q 'PAHOLE=${dkms_tree}/${PACKAGE_NAME}/${PACKAGE_VERSION}/build/scripts/pahole-cxx ' "$top/dkms.conf" &&
	! grep -q MODULE_PAHOLE_FLAGS "$top/dkms.conf"
result $? "dkms.conf runs pahole as scripts/pahole-cxx (C++ units excluded from BTF, the kernel's flags kept)"
grep -qx 'MODULE_VERSION(VFIO_CXX_VERSION);' "$top/module/kapi/main.c" &&
	grep -q 'VFIO_CXX_VERSION=.*$(VFIO_CXX_VERSION)' "$top/Kbuild"
result $? "MODULE_VERSION comes from VERSION (Kbuild's -DVFIO_CXX_VERSION, module/kapi/main.c)"
# The uAPI headers say what each version added: the current one included.
miss=
for h in "$top"/uapi/linux/*.h; do grep -qE "^ \*   $ver  " "$h" || miss+=" $(basename "$h")"; done
[ -z "$miss" ]
result $? "the uAPI headers' version history has an entry for $ver${miss:+ # missing in:$miss}"

# ---- the packages -------------------------------------------------------------
start=$(date +%s)
"$top/scripts/pkg-build.sh" "$dir"
rc=$?
dir=$(cd "$dir" && pwd)
note "dpkg-buildpackage took $(( $(date +%s) - start ))s"
result $rc "dpkg-buildpackage -us -uc -b on a copy of the tree (log $dir/build.log)"
[ $rc = 0 ] || tail -20 "$dir/build.log" | sed 's/^/# /' >>"$tap.new"
dkms_deb=$dir/vfio-cxx-dkms_${ver}_all.deb
tools_deb=$dir/vfio-cxx-tools_${ver}_amd64.deb
src=usr/src/vfio-iommu-cxx-$ver
list=$(dpkg-deb -c "$dkms_deb" 2>/dev/null | awk '{print $6}' | sed 's,^\./,,')
miss=
for f in Kbuild VERSION dkms.conf scripts/kbuild-cxx.mk scripts/pahole-flags module/kapi/main.c \
	 scripts/kconf.mk scripts/kconf.sh scripts/extract-vmlinux.sh scripts/pahole-cxx module/kapi/probes/follow_pfnmap.c \
	 module/core/registry.cpp uapi/linux/vfio_cxx.h uapi/linux/vfio_cxx_netlink.h; do
	grep -qx "$src/$f" <<<"$list" || miss+=" $f"
done
extra=$(grep -E "^$src/(kunit/|.*\.(o|ko|cmd|mod)$)" <<<"$list" | head -3 | tr '\n' ' ')
[ -n "$list" ] && [ -z "$miss" ] && [ -z "$extra" ]
result $? "vfio-cxx-dkms holds the module source in /$src (no kunit/, no objects)${miss:+ # missing:$miss}${extra:+ # extra: $extra}"
dep=$(dpkg-deb -f "$dkms_deb" Depends 2>/dev/null)
arch=$(dpkg-deb -f "$dkms_deb" Architecture 2>/dev/null)
# g++: the distribution's, which matches its kernels' gcc (12 on Debian 12,
# 14 on Debian 13); dwarves, xz-utils, zstd: scripts/kconf.sh's ABI proof.
grep -qw dkms <<<"$dep" && grep -qE '(^|, )g\+\+(,|$)' <<<"$dep" && grep -qw dwarves <<<"$dep" &&
	grep -qw xz-utils <<<"$dep" && grep -qw zstd <<<"$dep" && [ "$arch" = all ]
result $? "vfio-cxx-dkms is arch all and depends on dkms, g++, dwarves, xz-utils and zstd ($arch; $dep)"
tlist=$(dpkg-deb -c "$tools_deb" 2>/dev/null | awk '{print $6}')
grep -qx './usr/bin/vfio-cxx-stat' <<<"$tlist" && grep -qx './usr/share/man/man1/vfio-cxx-stat.1.gz' <<<"$tlist"
result $? "vfio-cxx-tools holds /usr/bin/vfio-cxx-stat and its man page"
x=$dir/extract
rm -rf "$x"
mkdir -p "$x"
dpkg-deb -x "$dkms_deb" "$x" 2>/dev/null && dpkg-deb -x "$tools_deb" "$x" 2>/dev/null
readelf -d "$x/usr/bin/vfio-cxx-stat" 2>/dev/null | grep -q 'NEEDED.*libnl-genl-3\.so' &&
	grep -qw 'libnl-genl-3-200' <<<"$(dpkg-deb -f "$tools_deb" Depends 2>/dev/null)"
result $? "vfio-cxx-stat links libnl-genl-3 and the package depends on libnl-genl-3-200"
sv=$("$x/usr/bin/vfio-cxx-stat" --version 2>&1)
[ "$sv" = "vfio-cxx-stat $ver" ]
result $? "the packaged vfio-cxx-stat --version prints 'vfio-cxx-stat $ver' (got '${sv%%$'\n'*}')"

start=$(date +%s)
lintian --fail-on error --display-info "$dir"/vfio-cxx_"${ver}"_amd64.changes >"$dir/lintian.txt" 2>&1
rc=$?
grep -q '^E: ' "$dir/lintian.txt" && rc=1
note "lintian took $(( $(date +%s) - start ))s; $(grep -c '^W: ' "$dir/lintian.txt") warnings, $(grep -c '^I: ' "$dir/lintian.txt") info tags"
result $rc "lintian: no errors"
grep -E '^(E|W|I): ' "$dir/lintian.txt" | sed 's/^/# /' >>"$tap.new"

# ---- a user's build of the packaged source --------------------------------------
# dkms.conf's MAKE[0] line itself, with DKMS's variables, on a copy laid out
# as DKMS lays out its build tree; no VFIO_CXX_WERROR or VFIO_CXX_KUNIT.
dkms_tree=$dir/user-build
b=$dkms_tree/vfio-iommu-cxx/$ver/build
rm -rf "$dkms_tree"
mkdir -p "$b"
cp -a "$x/$src/." "$b/"
kernel_source_dir=/lib/modules/$k/build
make_line=$(kernel_source_dir=$kernel_source_dir dkms_tree=$dkms_tree \
	bash -c 'source "$1"; printf "%s" "${MAKE[0]}"' - "$b/dkms.conf")
note "dkms.conf's make line: $make_line"
start=$(date +%s)
(cd "$b" && env -u VFIO_CXX_WERROR -u VFIO_CXX_KUNIT bash -c "$make_line") >"$b/../build.log" 2>&1
rc=$?
note "user build against $k took $(( $(date +%s) - start ))s"
[ $rc = 0 ] && [ -f "$b/vfio_iommu_cxx.ko" ]
result $? "the packaged source builds against $k with dkms.conf's make line"
[ $rc = 0 ] || tail -20 "$b/../build.log" | sed 's/^/# /' >>"$tap.new"
werror=$(find "$b" -name '.*.o.cmd' -exec grep -lE -- '-Werror( |$)' {} + 2>/dev/null | head -3 | tr '\n' ' ')
objs=$(find "$b" -name '.*.o.cmd' | wc -l)
[ "$objs" -gt 10 ] && [ -z "$werror" ] && [ ! -e "$b/kunit" ] && ! nm "$b/vfio_iommu_cxx.ko" 2>/dev/null | grep -qi kunit
result $? "a user's build has no -Werror and no KUnit suites ($objs objects${werror:+; -Werror in: $werror})"
[ "$(modinfo -F version "$b/vfio_iommu_cxx.ko" 2>/dev/null)" = "$ver" ]
result $? "its modinfo version is $ver"
msg=$(make -s -f "$top/Kbuild" SRCARCH=arm64 src="$top" 2>&1)
grep -q 'supports x86_64 kernels only, not arm64' <<<"$msg"
result $? "Kbuild refuses arm64 with a clear message ($msg)"
echo "1..$n" >>"$tap.new"
mv "$tap.new" "$tap"
cat "$tap"

echo "pkg-lane: total $(( $(date +%s) - lane_start ))s" >&2
exit 0
