#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a virtme-ng guest (scripts/vm-lane.sh, after the suites of
# that boot): the Debian packages' life cycle on the running kernel, as a
# user sees it.  The guest's root is the host's, with /usr, /var and /etc as
# overlays (writes stay in the guest's memory), so dpkg, DKMS and depmod work
# without touching the host.
#   pkg-guest.sh <dir with the .debs> <results dir> <pkg-smoke binary> <version>
# 1. a clean start: no vfio_iommu_cxx loaded (the suites before unloaded
#    theirs); a copy the host has installed (make dkms-install) is purged
#    first, in the overlay;
# 2. apt install ./vfio-cxx-dkms_*.deb ./vfio-cxx-tools_*.deb: the postinst
#    has DKMS build and install the module for the running kernel (and the
#    newest installed one, as Debian's DKMS does); the build durations;
# 3. the module: installed by DKMS, modinfo's version, its signature when
#    DKMS has a MOK key (/var/lib/dkms/mok.key);
# 4. modprobe vfio_iommu_cxx; a Type1v2 container on QEMU's edu (bound to
#    vfio-pci) served by it, listed by the packaged vfio-cxx-stat; the
#    module pinned while the container exists, unloadable after;
# 5. apt purge: the module files, the DKMS tree and the source are gone;
# 6. the kernel log since this script started: no WARN/BUG/oops.
# Writes <results dir>/pkg-guest.tap (TAP) and logs next to it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../kselftest/edu.sh
. "$here/../kselftest/edu.sh"
debs=$1 out=$2 smoke=$3 ver=$4
mkdir -p "$out"
tap=$out/pkg-guest.tap
n=0
: >"$tap"
result() { # result <0|1> <description>
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2" >>"$tap"; else echo "not ok $n - $2" >>"$tap"; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2" >>"$tap"; }
note() { echo "# $*" >>"$tap"; }
export DEBIAN_FRONTEND=noninteractive
name=vfio-iommu-cxx
k=$(uname -r)
note "kernel $k, vfio-cxx $ver"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mark="pkg-guest.sh: start $$"
echo "$mark" >/dev/kmsg

# ---- 1. clean start ---------------------------------------------------------
# man-db's dpkg trigger rebuilds the whole man database (minutes under TCG,
# over 9p): off in this guest, as in Debian's build chroots.
rm -f /var/lib/man-db/auto-update
installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'ok installed$'; }
# The host's copy (make dkms-install, lane-dkms) goes from the overlay the
# quick way: its DKMS tree, source and module files first, so that the
# prerm finds nothing to remove (DKMS's depmod of every kernel takes minutes
# under TCG; the purge under test below does it for the packages installed
# here).
if installed vfio-cxx-dkms || installed vfio-cxx-tools; then
	note "the host has vfio-cxx installed: removing it in the guest's overlay"
	rm -rf /var/lib/dkms/$name /usr/src/$name-* /lib/modules/*/updates/dkms/vfio_iommu_cxx.ko*
	dpkg --purge vfio-cxx-tools vfio-cxx-dkms >"$out/purge-host-copy.log" 2>&1
	# No depmod here: DKMS's install below runs it for this kernel.
fi
leftovers() {
	ls -d /lib/modules/*/updates/dkms/vfio_iommu_cxx.ko* /var/lib/dkms/$name /usr/src/$name-* \
		/usr/bin/vfio-cxx-stat 2>/dev/null
}
left=$(leftovers)
[ -d /sys/module/vfio_iommu_cxx ] && left+=" (vfio_iommu_cxx is loaded)"
[ -z "$left" ] && ! installed vfio-cxx-dkms && ! installed vfio-cxx-tools
result $? "clean start: no vfio-cxx package, module file, DKMS tree or source, no vfio_iommu_cxx loaded${left:+ # left: $left}"
had_key=no
[ -f /var/lib/dkms/mok.key ] && had_key=yes

# ---- 2. apt install -----------------------------------------------------------
# DKMS's postinst builds for the running kernel and for the newest one that
# has a /boot/config-*; that one gets its own boot in this lane, so this
# guest's /boot shows its own kernel's config only (one build per boot).
b=$(mktemp -d /run/pkg-boot.XXXXXX 2>/dev/null) && cp /boot/config-"$k" "$b/" && mount --bind "$b" /boot
note "/boot for DKMS: $(ls /boot | tr '\n' ' ')"
start=$(date +%s)
timeout "${PKG_APT_TIMEOUT:-2400}" apt-get install -y --no-install-recommends \
	"$debs/vfio-cxx-dkms_${ver}_all.deb" "$debs"/vfio-cxx-tools_"${ver}"_amd64.deb \
	>"$out/apt-install.log" 2>&1
rc=$?
note "apt install took $(( $(date +%s) - start ))s (exit $rc)"
result $rc "apt install ./vfio-cxx-dkms_${ver}_all.deb ./vfio-cxx-tools_${ver}_amd64.deb"
[ $rc = 0 ] || tail -30 "$out/apt-install.log" | sed 's/^/# /' >>"$tap"
# Each DKMS build: from the time its make.log starts with to its last write.
for log in /var/lib/dkms/$name/"$ver"/*/x86_64/log/make.log; do
	[ -f "$log" ] || continue
	kb=$(echo "$log" | cut -d/ -f7)
	t0=$(date -d "$(sed -n 2p "$log")" +%s 2>/dev/null) || continue
	note "DKMS build for $kb took $(( $(stat -c %Y "$log") - t0 ))s"
done
grep -h '^Building for\|^Building initial' "$out/apt-install.log" | sed 's/^/# postinst: /' >>"$tap"

# ---- 3. the installed module ------------------------------------------------
dkms status "$name/$ver" -k "$k" 2>/dev/null | tee "$out/dkms-status.txt" | grep -q ': installed'
result $? "dkms status: $name/$ver installed for $k"
ls /lib/modules/"$k"/updates/dkms/vfio_iommu_cxx.ko* >/dev/null 2>&1
result $? "the module is in /lib/modules/$k/updates/dkms/"
v=$(modinfo -F version vfio_iommu_cxx 2>/dev/null)
[ "$v" = "$ver" ]
result $? "modinfo -F version vfio_iommu_cxx is $ver (got '$v')"
path=$(modinfo -n vfio_iommu_cxx 2>/dev/null)
case $path in /lib/modules/"$k"/updates/dkms/*) true ;; *) false ;; esac
result $? "modinfo -n resolves to the DKMS copy ($path)"
# Secure Boot: Debian's DKMS signs with its MOK key, created at the first
# build when missing (dkms 3.0.10: prepare_signing).
if [ -f /var/lib/dkms/mok.key ] && [ -f /var/lib/dkms/mok.pub ]; then
	note "/var/lib/dkms/mok.key: $([ $had_key = yes ] && echo "existed before" || echo "created by this install")"
	signer=$(modinfo -F signer vfio_iommu_cxx 2>/dev/null)
	cn=$(openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -subject -nameopt multiline 2>/dev/null |
		sed -n 's/^ *commonName *= *//p')
	algo=$(modinfo -F sig_hashalgo vfio_iommu_cxx 2>/dev/null)
	[ -n "$signer" ] && [ "$signer" = "$cn" ] && [ -n "$algo" ]
	result $? "the DKMS-built module is signed with the MOK key (signer '$signer', key '$cn', $algo)"
else
	skip "the DKMS-built module is signed with the MOK key" "no /var/lib/dkms/mok.key"
fi

# ---- 4. load it and serve a container -----------------------------------------
modprobe vfio-pci
edu=$(edu_find)
group=-1
[ -n "$edu" ] && group=$(edu_bind_vfio "$edu")
[ -e "/dev/vfio/$group" ]
result $? "edu bound to vfio-pci as /dev/vfio/$group"
modprobe vfio_iommu_cxx
result $? "modprobe vfio_iommu_cxx"
[ "$(cat /sys/module/vfio_iommu_cxx/version 2>/dev/null)" = "$ver" ]
result $? "/sys/module/vfio_iommu_cxx/version is $ver"
sv=$(vfio-cxx-stat --version 2>&1)
[ "$sv" = "vfio-cxx-stat $ver" ]
result $? "vfio-cxx-stat --version prints 'vfio-cxx-stat $ver' (got '$sv')"

# The FIFO lives in the guest's own /tmp: a FIFO on the 9p share of the
# results dir never connects its reader and writer.
fifo=$(mktemp -u /tmp/pkg-smoke.XXXXXX)
mkfifo "$fifo"
"$smoke" "$group" 256 <"$fifo" >"$out/smoke.out" 2>&1 &
spid=$!
exec 9>"$fifo"
for _ in $(seq 100); do grep -q '^ready' "$out/smoke.out" && break; kill -0 $spid 2>/dev/null || break; sleep 0.1; done
grep -q "^ready $spid\$" "$out/smoke.out"
result $? "pkg-smoke: a Type1v2 container with one 256 KiB mapping ($(head -1 "$out/smoke.out"))"
vfio-cxx-stat --json >"$out/stat.json" 2>&1
src=$?
vfio-cxx-stat >"$out/stat.txt" 2>&1
python3 - "$out/stat.json" "$spid" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
mine = [c for c in doc["containers"] if c["owner_tgid"] == int(sys.argv[2])]
ok = len(mine) == 1 and mine[0]["type"] == "type1v2" and mine[0]["mappings"] == 1 \
	and mine[0]["mapped_bytes"] == 256 * 1024 and mine[0]["groups"] == 1
sys.exit(0 if ok else 1)
EOF
result $(( src | $? )) "vfio-cxx-stat lists it: served by vfio_iommu_cxx, type1v2, 1 mapping of 256 KiB, 1 group"
sed 's/^/# /' "$out/stat.txt" >>"$tap"
# rmmod, not modprobe -r: that goes on to remove the dependencies and fails
# on vfio, which vfio-pci holds, after vfio_iommu_cxx itself went.
rmmod vfio_iommu_cxx >"$out/rmmod-busy.log" 2>&1
r=$?
[ $r != 0 ] && [ -d /sys/module/vfio_iommu_cxx ]
result $? "rmmod fails while the container exists (the module is pinned): $(head -1 "$out/rmmod-busy.log")"
exec 9>&-
wait $spid
result $? "pkg-smoke unmapped everything and closed the container"
rm -f "$fifo"
rmmod vfio_iommu_cxx >"$out/rmmod.log" 2>&1 && [ ! -d /sys/module/vfio_iommu_cxx ]
result $? "rmmod vfio_iommu_cxx once no container exists $(head -1 "$out/rmmod.log")"

# ---- 5. apt purge -------------------------------------------------------------
start=$(date +%s)
timeout 600 apt-get purge -y vfio-cxx-dkms vfio-cxx-tools >"$out/apt-purge.log" 2>&1
rc=$?
note "apt purge took $(( $(date +%s) - start ))s"
result $rc "apt purge vfio-cxx-dkms vfio-cxx-tools"
left=$(ls -d /lib/modules/*/updates/dkms/vfio_iommu_cxx.ko* 2>/dev/null)
[ -z "$left" ] && ! modinfo vfio_iommu_cxx >/dev/null 2>&1
result $? "purge removed the module file for every kernel${left:+ # left: $left}"
[ ! -e /var/lib/dkms/$name ]
result $? "purge removed /var/lib/dkms/$name"
left=$(ls -d /usr/src/$name-* 2>/dev/null)
[ -z "$left" ]
result $? "purge removed /usr/src/$name-$ver${left:+ # left: $left}"
! installed vfio-cxx-dkms && ! installed vfio-cxx-tools && [ ! -e /usr/bin/vfio-cxx-stat ]
result $? "both packages are gone (dpkg, /usr/bin/vfio-cxx-stat)"

# ---- 6. kernel log ------------------------------------------------------------
dmesg | sed -n "/$mark\$/,\$p" >"$out/dmesg.txt"
bad=$(awk -f "$here/dmesg-bad.awk" "$out/dmesg.txt")
[ -s "$out/dmesg.txt" ] && [ -z "$bad" ]
result $? "kernel log since the start has no WARN/BUG/oops/lockdep/KASAN/kmemleak report ($(wc -l <"$out/dmesg.txt") lines)"
[ -z "$bad" ] || echo "$bad" | head -20 | sed 's/^/# /' >>"$tap"
echo "1..$n" >>"$tap"
