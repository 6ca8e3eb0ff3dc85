#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Make a build root's kernel bootable by the VM lane (issue 12 item 4)
# without installing its package into the system: its modules are copied to
# /lib/modules/<kver>/ (vng boots the host's root filesystem, so the guest
# finds them there; vng hides /var/cache, where the roots live) with its
# vmlinuz, marked by a stamp naming the root.  The copy is
# replaced when the root changes (a new day's root); a /lib/modules/<kver>/
# without our stamp (a kernel installed by dpkg) is never touched.
#   scripts/root-kernel.sh <root> <kver>     -> prints /lib/modules/<kver>/vmlinuz
#   scripts/root-kernel.sh --remove <kver>  removes our copy after the boot,
# so that nothing on the host (DKMS, the package cycle's "newest kernel")
# sees a kernel whose headers are only in a root.
set -euo pipefail
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
log() { echo "root-kernel: $*" >&2; }
if [ "${1:-}" = --remove ]; then
	inst=/lib/modules/${2:?usage: root-kernel.sh --remove <kver>}
	[ ! -f "$inst/.vfio-cxx-root" ] || $SUDO rm -rf "$inst"
	exit 0
fi
root=${1:?usage: root-kernel.sh <root> <kver>} kver=${2:?usage: root-kernel.sh <root> <kver>}
src=$root/usr/lib/modules/$kver
[ -d "$src/kernel" ] || { log "$src has no modules (is the suite's linux-image installed in the root?)"; exit 1; }
img=
for i in "$root/boot/vmlinuz-$kver" "$src/vmlinuz"; do
	[ -r "$i" ] && { img=$i; break; }
done
[ -n "$img" ] || { log "no vmlinuz for $kver in $root"; exit 1; }
inst=/lib/modules/$kver
stamp=$inst/.vfio-cxx-root
want="$root"
if [ -e "$inst" ] && [ ! -f "$stamp" ]; then
	log "$inst is not ours (no $stamp): using it as it is"
elif [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	log "copying $kver's modules from $root to $inst"
	$SUDO rm -rf "$inst.tmp"
	$SUDO cp -a "$src" "$inst.tmp"
	# The build link points into the root: the module is built there.
	$SUDO rm -f "$inst.tmp/build" "$inst.tmp/source"
	# vmlinuz beside the modules, as Debian's 7.x packages keep it: vng
	# takes the modules from the root filesystem its image sits in (/
	# here; the roots are under /var/cache, which vng hides).
	$SUDO cp "$img" "$inst.tmp/vmlinuz"
	echo "$want" | $SUDO tee "$inst.tmp/.vfio-cxx-root" >/dev/null
	$SUDO rm -rf "$inst"
	$SUDO mv "$inst.tmp" "$inst"
fi
echo "$inst/vmlinuz"
