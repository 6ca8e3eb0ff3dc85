# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# edu.sh: QEMU's edu device (1234:11e8) for the guest scripts, sourced by
# vfio_cxx_env.sh (installed next to it), selftests/vm/guest-run.sh,
# selftests/vm/pkg-guest.sh and scripts/demo/guest-demo.sh.
#
# edu_find            prints the sysfs directory of the first edu device
#                     (nothing, status 1, when there is none)
# edu_bind_vfio <dir> binds it to vfio-pci (driver_override, drivers_probe;
#                     unbinding its driver first), waits up to 10 s for
#                     /dev/vfio/<group> and prints the group number; status
#                     1 when the device has no IOMMU group or the node
#                     never appears

edu_find() {
	local d
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor" 2>/dev/null)" = 0x1234 ] && [ "$(cat "$d/device" 2>/dev/null)" = 0x11e8 ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

edu_bind_vfio() {
	local d=$1 bdf group
	[ -e "$d/iommu_group" ] || return 1
	bdf=$(basename "$d")
	group=$(basename "$(readlink "$d/iommu_group")")
	if [ "$(basename "$(readlink "$d/driver" 2>/dev/null)")" != vfio-pci ]; then
		[ -e "$d/driver" ] && echo "$bdf" >"$d/driver/unbind"
		echo vfio-pci >"$d/driver_override"
		echo "$bdf" >/sys/bus/pci/drivers_probe
	fi
	for _ in $(seq 50); do [ -e "/dev/vfio/$group" ] && break; sleep 0.2; done
	echo "$group"
	[ -e "/dev/vfio/$group" ]
}
