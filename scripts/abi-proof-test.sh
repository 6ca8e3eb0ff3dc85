#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The build-time proof of the VFIO core's private ABI (scripts/kconf.sh,
# issue 12 item 1), tested: a kernel whose struct vfio_iommu_driver_ops or
# enum vfio_group_type is not one of module/kapi/vfio_compat.h's layouts
# must fail the module's build with the reason, and an unchanged one must
# build.  TAP on stdout; $OUT/results/abi-proof.tap.
#
# The "kernel" is a copy of Debian 12's 6.12 headers (a symlink farm of
# linux-headers-<ver>-common and a copy of linux-headers-<ver>-amd64, whose
# Makefile is pointed at the farm) with drivers/vfio/vfio.h added from
# linux-source-6.12, so that kconf.sh takes its reference from the source
# (path a).  Each case edits that vfio.h and builds the module's
# module/kapi/abi_check.o, which needs the proof.  The BTF path (b) is tested
# on the real 6.1 and 6.12 vfio.ko with a wrong layout forced
# (VFIO_CXX_KCONF_LAYOUTS); then the refusals without a reference and
# without pahole.  Last, how kconf.sh reads the kernel's type1 errno for a
# wrapping range: from made-up type1 modules, and from type1's source.
#   scripts/abi-proof-test.sh [<6.12 kernel release>]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$top/out}
mkdir -p "$out/results"
tap=$out/results/abi-proof.tap
k612=${1:-$(ls -d /usr/src/linux-headers-6.12*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V | tail -1)}
k61=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V | tail -1)
work=$out/abi-proof
rm -rf "$work"
mkdir -p "$work"
exec > >(tee "$tap") 2>&1
echo "TAP version 13"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }

common=/usr/src/linux-headers-${k612%-amd64}-common
arch=/usr/src/linux-headers-$k612
if [ ! -d "$common" ] || [ ! -d "$arch" ]; then
	echo "Bail out! no linux-headers for a 6.12 kernel ($k612)"
	exit 1
fi
"$top/scripts/linux-source.sh" 6.12 "$out/src-6.12" drivers/vfio/vfio.h || { echo "Bail out! no linux-source-6.12"; exit 1; }
orig_h=$out/src-6.12/drivers/vfio/vfio.h

# The headers copy.
kc=$work/headers
cp -rs "$common" "$kc-common"
cp -a "$arch" "$kc"
rm -f "$kc-common/Makefile" && cp "$common/Makefile" "$kc-common/Makefile"
echo "include $kc-common/Makefile" >"$kc/Makefile"
for l in scripts tools; do
	[ -L "$arch/$l" ] && ln -sfn "$(readlink -f "$arch/$l")" "$kc/$l"
done
mkdir -p "$kc-common/drivers/vfio"

# The module's sources, as the build lane copies them.
src=$work/module
mkdir -p "$src/scripts"
cp -a "$top/Kbuild" "$top/VERSION" "$top/module" "$top/uapi" "$src/"
cp -a "$top/scripts/kbuild-cxx.mk" "$top/scripts/kconf.mk" "$top/scripts/kconf.sh" \
	"$top/scripts/extract-vmlinux.sh" "$src/scripts/"

# build KDIR NAME [VAR=VALUE...]: build abi_check.o, with make variables
# VAR=VALUE (on make's command line: Kbuild's own PAHOLE would override the
# environment's); log in $work/NAME.log.
build() {
	local kdir=$1 name=$2
	shift 2
	rm -rf "$src/generated" "$src/module/kapi/abi_check.o"
	make -C "$kdir" M="$src" "$@" module/kapi/abi_check.o >"$work/$name.log" 2>&1
}
refused() { ! build "$@" && grep -q "has none of the layouts in module/kapi/vfio_compat.h" "$work/$2.log"; }

# 1. The unedited header: layout 2 (6.12), proven from the source.
cp "$orig_h" "$kc-common/drivers/vfio/vfio.h"
if build "$kc" unedited && grep -q '^#define VFIO_CXX_OPS_LAYOUT 2$' "$src/generated/vfio_cxx_kconf.h" &&
	grep -q "DWARF of $kc-common/drivers/vfio/vfio.h" "$src/generated/vfio_cxx_kconf.h"; then
	ok "unedited 6.12 vfio.h in the headers: proven equal to layout 6.12 from the source, abi_check.o builds"
else
	sed 's/^/# /' "$work/unedited.log" | tail -20
	notok "unedited 6.12 vfio.h in the headers: proven equal to layout 6.12 from the source, abi_check.o builds"
fi

# edit NAME DESCRIPTION PERL-EXPR: build with vfio.h edited by PERL-EXPR
# (applied to the whole file); the build must refuse.
edit() {
	local name=$1 what=$2 expr=$3
	perl -0pe "$expr" "$orig_h" >"$kc-common/drivers/vfio/vfio.h"
	if cmp -s "$orig_h" "$kc-common/drivers/vfio/vfio.h"; then
		notok "$what: the edit changed nothing (test is stale)"
		return
	fi
	if refused "$kc" "$name"; then
		ok "$what: the build refuses, naming the reason"
	else
		sed 's/^/# /' "$work/$name.log" | tail -15
		notok "$what: the build refuses, naming the reason"
	fi
}
edit member-added "a point release adds a member at the end of struct vfio_iommu_driver_ops" \
	's/(struct iommu_domain \*\(\*group_iommu_domain\)\(void \*iommu_data,\n\s*struct iommu_group \*group\);\n)/$1\tvoid (*vfio_cxx_new_op)(void *iommu_data);\n/'
edit member-moved "two members of struct vfio_iommu_driver_ops swap places (same size)" \
	's/(\tvoid\t\t\(\*register_device\)\(void \*iommu_data,\n\t+\s*struct vfio_device \*vdev\);\n)(\tvoid\t\t\(\*unregister_device\)\(void \*iommu_data,\n\t+\s*struct vfio_device \*vdev\);\n)/$2$1/'
edit param-type "pin_pages takes a long npage (same struct size, another signature)" \
	's/(dma_addr_t user_iova,\n\s*)int npage, int prot,/${1}long npage, int prot,/'
edit enum-reordered "enum vfio_group_type gains a value before VFIO_NO_IOMMU" \
	's/(\n\tVFIO_NO_IOMMU,)/\n\tVFIO_CXX_NEW_GROUP_TYPE,$1/'

# 2. The BTF path on the real kernels' vfio.ko, with the other layout forced.
cp "$orig_h" "$kc-common/drivers/vfio/vfio.h"
for case in "$k61:2:6.12" "$k612:1:6.1"; do
	kv=${case%%:*} rest=${case#*:}
	layout=${rest%%:*} lname=${rest#*:}
	if [ -z "$kv" ] || [ ! -d "/lib/modules/$kv/build" ]; then
		ok "# SKIP no headers for ${case%%:*}"
		continue
	fi
	if refused "/lib/modules/$kv/build" "btf-$kv" VFIO_CXX_KCONF_LAYOUTS="$layout" &&
		grep -q "proven against BTF of /lib/modules/$kv/kernel/drivers/vfio/vfio.ko" "$work/btf-$kv.log"; then
		ok "$kv with only layout $lname allowed: refused against the BTF of its vfio.ko"
	else
		sed 's/^/# /' "$work/btf-$kv.log" | tail -15
		notok "$kv with only layout $lname allowed: refused against the BTF of its vfio.ko"
	fi
	if build "/lib/modules/$kv/build" "btf-$kv-all"; then
		ok "$kv with every layout allowed: proven against the BTF of its vfio.ko, abi_check.o builds"
	else
		sed 's/^/# /' "$work/btf-$kv-all.log" | tail -15
		notok "$kv with every layout allowed: proven against the BTF of its vfio.ko, abi_check.o builds"
	fi
done

# 3. No reference, and no pahole: refused, saying what to install.  The
# headers copy without vfio.h, told that its release is one with no
# /lib/modules tree, stands for "headers installed, image not".
rm -f "$kc-common/drivers/vfio/vfio.h"
if ! build "$kc" no-image KERNELRELEASE=0.0.0-vfio-cxx-none && grep -q "Debian: install the kernel's linux-image package" "$work/no-image.log" &&
	[ ! -e "$src/generated/vfio_cxx_kconf.h" ]; then
	ok "headers without the kernel's vfio.ko: refused, naming the package to install"
else
	sed 's/^/# /' "$work/no-image.log" | tail -5
	notok "headers without the kernel's vfio.ko: refused, naming the package to install"
fi
if ! build "/lib/modules/$k612/build" no-pahole PAHOLE=/nonexistent/pahole &&
	grep -q "apt install dwarves" "$work/no-pahole.log"; then
	ok "no pahole: refused, naming dwarves"
else
	sed 's/^/# /' "$work/no-pahole.log" | tail -5
	notok "no pahole: refused, naming dwarves"
fi
# Headers that cannot be compiled at all: the probes' unit then has an
# error in no probe's file, and kconf.sh's control unit refuses them, never
# a header of all-0 probe answers.
module_h=$(readlink "$kc-common/include/linux/module.h")
rm -f "$kc-common/include/linux/module.h"
echo '#error vfio-cxx abi-proof-test: broken headers' >"$kc-common/include/linux/module.h"
if ! build "$kc" broken-headers && grep -q "cannot compile against the headers of" "$work/broken-headers.log" &&
	[ ! -e "$src/generated/vfio_cxx_kconf.h" ]; then
	ok "headers that do not compile: refused (the control unit), no kconf header written"
else
	sed 's/^/# /' "$work/broken-headers.log" | tail -5
	notok "headers that do not compile: refused (the control unit), no kconf header written"
fi
ln -sfn "$module_h" "$kc-common/include/linux/module.h"
# 4. Type1's errno for a wrapping range (kconf.sh part 3; issue 13 item 4).
# The farm's vfio.h proves the layout from the source, so these builds need
# no vfio.ko; VFIO_CXX_KCONF_MODDIR points at made-up modules whose
# vfio_iommu_type1_ioctl loads -EOVERFLOW or not.
cp "$orig_h" "$kc-common/drivers/vfio/vfio.h"
wrap_is() { grep -q "^#define VFIO_CXX_TYPE1_WRAP_ERRNO $1\$" "$src/generated/vfio_cxx_kconf.h" 2>/dev/null; }
# fake NAME C-SOURCE [xz]: $work/mods-NAME/kernel/drivers/vfio/vfio_iommu_type1.ko[.xz]
fake() {
	local d=$work/mods-$1/kernel/drivers/vfio
	mkdir -p "$d"
	printf '%s\n' "$2" >"$work/type1-$1.c"
	gcc -O2 -c -o "$d/vfio_iommu_type1.ko" "$work/type1-$1.c" || return 1
	[ "${3:-}" != xz ] || xz -f "$d/vfio_iommu_type1.ko"
}
map_overflow='long vfio_iommu_type1_ioctl(void *d, unsigned int cmd, unsigned long iova, unsigned long size)
{ unsigned long end; if (__builtin_add_overflow(iova, size - 1, &end)) return -75; return cmd ? -22 : (long)end; }'
map_einval='long vfio_iommu_type1_ioctl(void *d, unsigned int cmd, unsigned long iova, unsigned long size)
{ if (iova + size - 1 < iova) return -22; return cmd ? -1 : (long)iova; }'
pin_overflow="$map_einval
int vfio_iommu_type1_pin_pages(void *d, unsigned long iova, int npage) { return iova + npage < iova ? -75 : 0; }"
type1_case() {
	local name=$1 want=$2 what=$3
	if build "$kc" "type1-$name" VFIO_CXX_KCONF_MODDIR="$work/mods-$name" && wrap_is "$want" &&
		grep -q "code of $work/mods-$name" "$src/generated/vfio_cxx_kconf.h"; then
		ok "$what: type1's wrap errno read as $want from its code"
	else
		sed 's/^/# /' "$work/type1-$name.log" | tail -10
		notok "$what: type1's wrap errno read as $want from its code"
	fi
}
fake overflow "$map_overflow" && type1_case overflow EOVERFLOW "vfio_iommu_type1_ioctl returns -EOVERFLOW for a wrapping range"
fake einval "$map_einval" && type1_case einval EINVAL "vfio_iommu_type1_ioctl returns -EINVAL for a wrapping range"
fake pin "$pin_overflow" && type1_case pin EINVAL "-EOVERFLOW only in vfio_iommu_type1_pin_pages, not on the MAP/UNMAP path"
fake xz "$map_overflow" xz && type1_case xz EOVERFLOW "an xz-compressed vfio_iommu_type1.ko.xz"
fake noioctl 'int vfio_iommu_type1_open(void) { return -75; }'
if ! build "$kc" type1-noioctl VFIO_CXX_KCONF_MODDIR="$work/mods-noioctl" &&
	grep -q "has no vfio_iommu_type1_ioctl" "$work/type1-noioctl.log"; then
	ok "a vfio_iommu_type1.ko without vfio_iommu_type1_ioctl: refused, naming it"
else
	sed 's/^/# /' "$work/type1-noioctl.log" | tail -5
	notok "a vfio_iommu_type1.ko without vfio_iommu_type1_ioctl: refused, naming it"
fi
# The source path: no modules at all, the farm's drivers/vfio/vfio_iommu_type1.c.
"$top/scripts/linux-source.sh" 6.12 "$out/src-6.12" drivers/vfio/vfio_iommu_type1.c || { echo "Bail out! no linux-source-6.12"; exit 1; }
orig_t1=$out/src-6.12/drivers/vfio/vfio_iommu_type1.c
src_case() {
	local name=$1 want=$2 what=$3
	if build "$kc" "type1-$name" VFIO_CXX_KCONF_MODDIR="$work/mods-none" && wrap_is "$want" &&
		grep -q "source $kc-common/drivers/vfio/vfio_iommu_type1.c" "$src/generated/vfio_cxx_kconf.h"; then
		ok "$what: type1's wrap errno read as $want from its source"
	else
		sed 's/^/# /' "$work/type1-$name.log" | tail -10
		notok "$what: type1's wrap errno read as $want from its source"
	fi
}
cp "$orig_t1" "$kc-common/drivers/vfio/vfio_iommu_type1.c"
src_case src-6.12 EINVAL "6.12's vfio_iommu_type1.c in the tree"
perl -0pe 's/(if \(iova \+ size - 1 < iova \|\| vaddr \+ size - 1 < vaddr\) \{\n\s*)ret = -EINVAL;/${1}ret = -EOVERFLOW;/' \
	"$orig_t1" >"$kc-common/drivers/vfio/vfio_iommu_type1.c"
if cmp -s "$orig_t1" "$kc-common/drivers/vfio/vfio_iommu_type1.c"; then
	notok "vfio_iommu_type1.c with its wrap check made -EOVERFLOW: the edit changed nothing (test is stale)"
else
	src_case src-overflow EOVERFLOW "vfio_iommu_type1.c with its wrap check made -EOVERFLOW"
fi
rm -f "$kc-common/drivers/vfio/vfio_iommu_type1.c"
if build "$kc" type1-none VFIO_CXX_KCONF_MODDIR="$work/mods-none" && wrap_is EOVERFLOW &&
	grep -q "no vfio_iommu_type1 in" "$src/generated/vfio_cxx_kconf.h"; then
	ok "no type1 module and no source: upstream's current -EOVERFLOW, saying so"
else
	sed 's/^/# /' "$work/type1-none.log" | tail -10
	notok "no type1 module and no source: upstream's current -EOVERFLOW, saying so"
fi
echo "1..$n"
exit $failed
