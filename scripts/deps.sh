#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what vfio-cxx needs on Debian 12, idempotently.  Safe to run as
# often as you like: it only calls apt when something is missing.
#
#   scripts/deps.sh [host|build|vm|debug|pkg|roots|all]  (default: all)
#
# Kernels follow Debian's meta-packages (never a pinned ABI):
#   6.1  : linux-image-amd64      / linux-headers-amd64
#   6.12 : linux-image-6.12-amd64 / linux-headers-6.12-amd64 (bookworm-security)
# virtme-ng is not in bookworm: trixie's arch-all package is fetched through a
# private apt source list and state dir, never touching the system's sources.
set -euo pipefail

what=${1:-all}
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
CACHE=${VFIO_CXX_CACHE:-/var/cache/vfio-cxx}
export DEBIAN_FRONTEND=noninteractive

have() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

updated=0
apt_update() {
	[ $updated = 1 ] && return 0
	$SUDO apt-get update -q >/dev/null
	updated=1
}

install_missing() {
	local missing=() p
	for p in "$@"; do have "$p" || missing+=("$p"); done
	[ ${#missing[@]} = 0 ] && return 0
	echo "deps: installing ${missing[*]}"
	apt_update
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# python3-yaml, python3-jsonschema: the kernel's YNL tools (tools/net/ynl, spec checks).
host_pkgs=(g++ make cmake googletest libgtest-dev pkg-config libnl-genl-3-dev libnl-3-dev python3
	   python3-yaml python3-jsonschema)
# The images too: scripts/kconf.sh proves the VFIO core's private struct
# against the BTF of each kernel's vfio.ko.
build_pkgs=(build-essential gcc-12 g++-12 linux-headers-amd64 linux-headers-6.12-amd64
	    linux-image-amd64 linux-image-6.12-amd64
	    linux-source-6.1 linux-source-6.12 xz-utils zstd binutils dwarves kmod dkms)
vm_pkgs=(linux-image-amd64 linux-image-6.12-amd64 qemu-system-x86 qemu-system-ppc qemu-utils
	 python3-argcomplete python3-requests busybox-static udev iproute2 pciutils
	 python3-yaml python3-jsonschema)
# The debug kernel (scripts/debug-kernel.sh): kconfig, and a build when no
# prebuilt kernel matches.
debug_pkgs=(flex bison bc libelf-dev libssl-dev cpio)
# The Debian packages (debian/, mk/pkg.mk): dpkg-buildpackage, dh-dkms, lintian.
pkg_pkgs=(dpkg-dev debhelper dh-dkms fakeroot lintian libnl-genl-3-dev libnl-3-dev pkg-config)
# The build roots of newer Debian suites (scripts/build-root.sh, mk/kernels.mk).
roots_pkgs=(debootstrap)

install_virtme_ng() {
	command -v vng >/dev/null && return 0
	local d=$CACHE/apt-trixie
	$SUDO mkdir -p "$d/state/lists/partial" "$d/cache/archives/partial" "$d/debs"
	# apt downloads as _apt (its sandbox user): let it write there.
	id _apt >/dev/null 2>&1 && $SUDO chown _apt "$d/debs"
	echo 'deb http://deb.debian.org/debian trixie main' | $SUDO tee "$d/sources.list" >/dev/null
	local o=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
		 -o "Dir::State=$d/state" -o "Dir::Cache=$d/cache"
		 -o APT::Architecture=amd64 -o Debug::NoLocking=1)
	echo "deps: fetching virtme-ng from trixie (private apt list in $d)"
	$SUDO apt-get "${o[@]}" update -q >/dev/null
	(cd "$d/debs" && $SUDO apt-get "${o[@]}" download virtme-ng >/dev/null)
	apt_update
	# Its dependencies come from bookworm, through the system's own sources.
	$SUDO apt-get install -y -q --no-install-recommends "$d"/debs/virtme-ng_*_all.deb >/dev/null
}

case $what in
host)  install_missing "${host_pkgs[@]}" ;;
build) install_missing "${host_pkgs[@]}" "${build_pkgs[@]}" ;;
vm)    install_missing "${build_pkgs[@]}" "${vm_pkgs[@]}"; install_virtme_ng ;;
debug) install_missing "${build_pkgs[@]}" "${vm_pkgs[@]}" "${debug_pkgs[@]}"; install_virtme_ng ;;
roots) install_missing "${roots_pkgs[@]}" ;;
pkg)   install_missing "${build_pkgs[@]}" "${vm_pkgs[@]}" "${pkg_pkgs[@]}"; install_virtme_ng ;;
all)   install_missing "${host_pkgs[@]}" "${build_pkgs[@]}" "${vm_pkgs[@]}" "${debug_pkgs[@]}" "${pkg_pkgs[@]}" \
	       "${roots_pkgs[@]}"; install_virtme_ng ;;
*)     echo "usage: $0 [host|build|vm|debug|pkg|roots|all]" >&2; exit 2 ;;
esac
