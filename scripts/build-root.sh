#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build roots for the kernels whose compilers bookworm lacks (issue 12 item
# 2): a minbase Debian root made with debootstrap, holding the kernel
# headers and image that suite's meta-packages give today and the g++ that
# matches the gcc those headers were built with.
#
#   scripts/build-root.sh <suite>      -> prints the root's directory
#
#   trixie            linux-{headers,image}-amd64 of Debian 13 (6.12+deb13, gcc-14)
#   trixie-backports  trixie plus its backports' linux-{headers,image}-amd64 (7.x)
#   sid               linux-{headers,image}-amd64 of unstable (gcc-16), the canary
#
# A root is cached as $VFIO_CXX_CACHE/roots/<suite>-<YYYYMMDD>/ (keyed by
# suite and date: the archive moves, so a new day makes a new root and the
# suite's older ones are removed once it is complete; .complete marks one).
# The root has its own apt sources: the system's are never changed.  Only
# meta-packages are named, never an ABI.  Inside a root, the repository
# is bind-mounted at its own path by scripts/root-run.sh.
set -euo pipefail
suite=${1:?usage: build-root.sh <trixie|trixie-backports|sid>}
cache=${VFIO_CXX_CACHE:-/var/cache/vfio-cxx}
mirror=${VFIO_CXX_MIRROR:-http://deb.debian.org/debian}
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
log() { echo "build-root: $*" >&2; }
# A root is never removed while anything is mounted inside it
# (scripts/root-run.sh bind-mounts /dev and the repository there).
has_mounts() { awk -v d="$1" '$2 == d || index($2, d "/") == 1 { f = 1 } END { exit !f }' /proc/self/mounts; }
remove_root() {
	if has_mounts "$1"; then
		log "not removing $1: something is mounted inside it"
		return 1
	fi
	$SUDO rm -rf "$1"
}

case $suite in
trixie | trixie-backports) base=trixie ;;
sid) base=sid ;;
*) echo "build-root.sh: unknown suite $suite" >&2; exit 2 ;;
esac
command -v debootstrap >/dev/null || { log "debootstrap is missing (scripts/deps.sh roots)"; exit 1; }

roots=$cache/roots
root=$roots/$suite-$(date +%Y%m%d)
if [ -e "$root/.complete" ]; then
	echo "$root"
	exit 0
fi
$SUDO mkdir -p "$roots"
# One maker per suite at a time (make check starts the roots in the
# background while the host lanes run; lane-kernels then waits here):
# whoever comes second finds the root complete.
lock=$roots/$suite.lock
[ -w "$lock" ] || { $SUDO touch "$lock" && $SUDO chmod 0666 "$lock"; }
exec 9>>"$lock"
flock 9
if [ -e "$root/.complete" ]; then
	echo "$root"
	exit 0
fi
tmp=$root.tmp
[ ! -e "$tmp" ] || remove_root "$tmp" || exit 1
start=$(date +%s)
log "creating $suite root $root (debootstrap $base, minbase)"
$SUDO debootstrap --variant=minbase "$base" "$tmp" "$mirror" >"$roots/$suite.debootstrap.log" 2>&1 ||
	{ log "debootstrap failed, see $roots/$suite.debootstrap.log"; exit 1; }
# Its apt and dpkg output goes to $roots/<suite>.apt.log.
in_root() { $SUDO chroot "$tmp" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@" 2>>"$roots/$suite.apt.log"; }
: >"$roots/$suite.apt.log"
target=()
if [ "$suite" = trixie-backports ]; then
	echo "deb $mirror trixie-backports main" | $SUDO tee "$tmp/etc/apt/sources.list.d/backports.list" >/dev/null
	target=(-t trixie-backports)
fi
$SUDO mount -t proc proc "$tmp/proc"
trap '$SUDO umount "$tmp/proc" 2>/dev/null || true' EXIT
# The mirror reachable here may serve a sid Release whose Valid-Until has
# passed (measured 2026-12-02: 26 days); a build root only compiles, so
# that is accepted rather than losing the canary.
echo 'Acquire::Check-Valid-Until "false";' | $SUDO tee "$tmp/etc/apt/apt.conf.d/99vfio-cxx-root" >/dev/null
fail() { log "$1 failed: $(tail -1 "$roots/$suite.apt.log")"; exit 1; }
in_root apt-get update -q >/dev/null || fail "apt-get update"
# What scripts/build-lane.sh runs: make, the headers, binutils (objtool's
# checks read the objects), python3 (check-module-objects.py), kmod
# (modinfo), pahole (module BTF, and scripts/kconf.sh's ABI proof), xz and
# zstd (kconf.sh reads the kernel's compressed vmlinuz and vfio.ko).
in_root apt-get install -y -q --no-install-recommends make binutils python3 kmod dwarves xz-utils \
	zstd >/dev/null || fail "installing the build tools"
# The image beside the headers: kconf.sh proves the VFIO core's private
# struct against the BTF of its vfio.ko and vmlinuz, and the VM lane boots it.
in_root apt-get install -y -q --no-install-recommends "${target[@]}" linux-headers-amd64 \
	linux-image-amd64 >/dev/null || fail "installing linux-headers-amd64 and linux-image-amd64"
# The headers pull the kernel's gcc, not its g++: the same version's g++.
gccs=$(in_root sh -c 'for c in /usr/src/linux-headers-*/include/config/auto.conf /usr/src/linux-headers-*/.config; do
	[ -f "$c" ] && sed -n "s/^CONFIG_CC_VERSION_TEXT=\"\{0,1\}[^ ]*gcc-\([0-9][0-9]*\) .*/\1/p" "$c"; done' | sort -u)
[ -n "$gccs" ] || { log "no gcc version in the headers' config"; exit 1; }
for v in $gccs; do
	in_root apt-get install -y -q --no-install-recommends "g++-$v" >/dev/null || fail "installing g++-$v"
done
in_root apt-get clean
$SUDO umount "$tmp/proc"
trap - EXIT
{
	echo "suite=$suite"
	echo "created=$(date -u +%FT%TZ)"
	echo "kernels=$(ls "$tmp/lib/modules" | tr '\n' ' ')"
	echo "g++=$(for v in $gccs; do printf 'g++-%s ' "$v"; done)"
} | $SUDO tee "$tmp/vfio-cxx-root.txt" >/dev/null
$SUDO touch "$tmp/.complete"
$SUDO mv "$tmp" "$root"
for old in "$roots/$suite"-[0-9]*; do
	[ "$old" = "$root" ] || [ ! -d "$old" ] || remove_root "$old" || true
done
log "$suite root ready in $(( $(date +%s) - start ))s: $(grep kernels= "$root/vfio-cxx-root.txt")"
echo "$root"
