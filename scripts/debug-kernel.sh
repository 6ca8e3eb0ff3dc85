#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Provide a test kernel built from Debian's linux-source-6.12 with
# scripts/debug-kernel/<flavour>-6.12.config, and print its cache directory:
#   debug (the default): KUnit, KASAN, lockdep, kmemleak, fault injection
#     (make lane-debug);
#   bench: none of those, with iommufd and the vfio device cdev beside the
#     legacy container (make bench, issue 15).
#
#   scripts/debug-kernel.sh [flavour]  -> prints $VFIO_CXX_CACHE/kernels/<key>
#
# <key> is the sha256 of the resolved .config, computed exactly as
# ../shared/kernels/README.md does:
#   tar xf /usr/src/linux-source-6.12.tar.xz
#   virtme-configkernel --defconfig --custom <fragment>
#   scripts/kconfig/merge_config.sh -m .config <fragment>
#   make olddefconfig
# The cache directory holds KEY, config, bzImage, System.map,
# lib/modules/<release>/ (with a build link) and build/ (the external-module
# build tree).  Where it comes from, in order:
#   1. the cache, if $dir/.complete exists;
#   2. a prebuilt tarball in ../shared/kernels/ whose KEY is <key>;
#   3. a build (make -j$(nproc) bzImage modules: ~12 min on 2 cores).
# Resolving the key extracts the whole source tree (~1 min), so the result is
# remembered in kernels/keys/, indexed by everything the resolution depends
# on: the fragment's hash, the linux-source-6.12, virtme-ng and gcc-12
# package versions, and the versions of gcc, ld, pahole, rustc and bindgen
# that Kconfig records.  A change to any of them resolves again.
#
# Finally the modules are installed in /lib/modules/<release> (vng maps the
# host's root filesystem, so the guest finds them there).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-debug}
frag=$top/scripts/debug-kernel/$flavour-6.12.config
[ -r "$frag" ] || { echo "debug-kernel: no $frag" >&2; exit 1; }
tarball=/usr/src/linux-source-6.12.tar.xz
cache=${VFIO_CXX_CACHE:-/var/cache/vfio-cxx}
kroot=$cache/kernels
seeds=$top/../shared/kernels
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
log() { echo "debug-kernel ($flavour): $*" >&2; }

command -v zstd >/dev/null && command -v vng >/dev/null && command -v flex >/dev/null &&
	[ -r "$tarball" ] ||
	"$top/scripts/deps.sh" debug >&2
$SUDO mkdir -p "$kroot/keys"
[ -w "$kroot" ] || $SUDO chown "$(id -u):$(id -g)" "$kroot" "$kroot/keys"
# One maker at a time (make check starts one in the background, lane-debug
# asks again): a second caller waits, then finds the cache complete.
exec 8>>"$kroot/.lock"
flock 8

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }
# olddefconfig records the toolchain it finds (CONFIG_GCC_VERSION,
# AS/LD_VERSION, PAHOLE_VERSION, RUSTC_VERSION): those are in the index too.
tool() { "$@" 2>/dev/null | head -1 || true; }
index=$( { sha256sum <"$frag"; pkgver linux-source-6.12; pkgver virtme-ng;
	   pkgver gcc-12; tool gcc --version; tool ld --version; tool pahole --version;
	   tool rustc --version; tool bindgen --version; } | sha256sum | cut -c1-64)

work=
cleanup() { [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT

# Extract the tree and resolve the configuration into $work/src/.config.
resolve() {
	work=$(mktemp -d "$kroot/.work.XXXXXX")
	log "extracting $tarball"
	mkdir "$work/src"
	tar -xJf "$tarball" -C "$work/src" --strip-components=1
	log "resolving the configuration"
	(cd "$work/src" && cp "$frag" "$work/frag.config" &&
	 virtme-configkernel --defconfig --custom "$work/frag.config" &&
	 scripts/kconfig/merge_config.sh -m .config "$work/frag.config" &&
	 make olddefconfig) >"$work/config.log" 2>&1 ||
		{ cat "$work/config.log" >&2; log "configuration failed"; exit 1; }
}

if [ -s "$kroot/keys/$index" ]; then
	key=$(cat "$kroot/keys/$index")
else
	resolve
	key=$(sha256sum <"$work/src/.config" | cut -c1-64)
	echo "$key" >"$kroot/keys/$index"
fi
dir=$kroot/$key
log "key $key"

if [ ! -e "$dir/.complete" ]; then
	rm -rf "$dir" "$dir.tmp"
	seed=
	for t in "$seeds"/*.tar.zst; do
		[ -r "$t" ] || continue
		k=$(tar --zstd -xOf "$t" --occurrence=1 KEY 2>/dev/null | tr -d '[:space:]') || true
		if [ "$k" = "$key" ]; then seed=$t; break; fi
	done
	mkdir -p "$dir.tmp"
	if [ -n "$seed" ]; then
		log "seeding the cache from $seed"
		tar --zstd -xf "$seed" -C "$dir.tmp"
	else
		[ -n "$work" ] || resolve
		[ "$(sha256sum <"$work/src/.config" | cut -c1-64)" = "$key" ] ||
			{ log "resolved config no longer matches $key"; rm -f "$kroot/keys/$index"; exit 1; }
		log "no prebuilt kernel matches; building (about 12 minutes on 2 cores, log in $dir.tmp/build.log)"
		(cd "$work/src" &&
		 make -j"$(nproc)" bzImage modules &&
		 make modules_install INSTALL_MOD_PATH="$dir.tmp" INSTALL_MOD_STRIP=1 &&
		 srctree=. SRCARCH=x86 KCONFIG_CONFIG=.config CC=gcc HOSTCC=gcc MAKE=make \
			scripts/package/install-extmod-build "$dir.tmp/build" &&
		 mkdir -p "$dir.tmp/build/drivers/vfio" &&
		 cp drivers/vfio/vfio.h drivers/vfio/vfio_iommu_type1.c "$dir.tmp/build/drivers/vfio/" &&
		 cp arch/x86/boot/bzImage System.map "$dir.tmp/" &&
		 cp .config "$dir.tmp/config") >"$dir.tmp/build.log" 2>&1 ||
			{ tail -30 "$dir.tmp/build.log" >&2; log "kernel build failed"; exit 1; }
		echo "$key" >"$dir.tmp/KEY"
	fi
	[ "$(tr -d '[:space:]' <"$dir.tmp/KEY")" = "$key" ] && [ -s "$dir.tmp/bzImage" ] ||
		{ log "$dir.tmp is incomplete"; exit 1; }
	rel=$(basename "$(ls -d "$dir.tmp"/lib/modules/*/ | head -1)")
	ln -sfn ../../../build "$dir.tmp/lib/modules/$rel/build"
	mv "$dir.tmp" "$dir"
	touch "$dir/.complete"
fi
cleanup
work=

# Two files of the source this kernel was built from, in its build tree
# (this kernel has no BTF, and its type1 is built in): scripts/kconf.sh
# proves our struct vfio_iommu_driver_ops against drivers/vfio/vfio.h, and
# reads type1's errno for a wrapping range from drivers/vfio/vfio_iommu_type1.c.
# A build above copies them; a seeded cache gets them from the tarball when
# that is the same release (else the module's build refuses, saying why).
srcver() { awk '/^(VERSION|PATCHLEVEL|SUBLEVEL) =/ { v = v (v ? "." : "") $3 } END { print v }' "$1"; }
if [ ! -e "$dir/build/drivers/vfio/vfio.h" ] || [ ! -e "$dir/build/drivers/vfio/vfio_iommu_type1.c" ]; then
	x=$(mktemp -d)
	tar -xJf "$tarball" -C "$x" --strip-components=1 linux-source-6.12/Makefile \
		linux-source-6.12/drivers/vfio/vfio.h linux-source-6.12/drivers/vfio/vfio_iommu_type1.c
	if [ "$(srcver "$x/Makefile")" = "$(srcver "$dir/build/Makefile")" ]; then
		mkdir -p "$dir/build/drivers/vfio"
		cp "$x/drivers/vfio/vfio.h" "$x/drivers/vfio/vfio_iommu_type1.c" "$dir/build/drivers/vfio/"
	else
		log "$tarball is $(srcver "$x/Makefile"), the kernel $(srcver "$dir/build/Makefile"): no drivers/vfio/vfio.h or vfio_iommu_type1.c for its build tree"
	fi
	rm -rf "$x"
fi

# Install the modules at /lib/modules/<release> on the host, so the guest
# finds them (vng maps the host's root filesystem, but hides /var/cache under
# a tmpfs: a link into the cache would dangle there).  A stamp names the key
# installed; a directory without our stamp is somebody else's: left alone.
rel=$(basename "$(ls -d "$dir"/lib/modules/*/ | head -1)")
inst=/lib/modules/$rel
stamp=$inst/.vfio-cxx-key
if [ -L "$inst" ] || [ -f "$stamp" ] || [ ! -e "$inst" ]; then
	if [ "$(cat "$stamp" 2>/dev/null)" != "$key" ] || [ -L "$inst" ]; then
		log "installing its modules in $inst"
		$SUDO rm -rf "$inst"
		$SUDO cp -a "$dir/lib/modules/$rel" "$inst"
		$SUDO ln -sfn "$dir/build" "$inst/build"
		echo "$key" | $SUDO tee "$stamp" >/dev/null
	fi
else
	log "$inst is not ours (no $stamp): using it as it is"
fi
echo "$dir"
