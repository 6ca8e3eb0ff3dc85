# SPDX-License-Identifier: GPL-2.0
#
# The rule that runs scripts/kconf.sh, shared by vfio_iommu_cxx.ko (../Kbuild)
# and the test mediated-device driver (../selftests/mdev/Kbuild).  Set
# vfio-cxx-kconf (the header's path), vfio-cxx-kconf-probes (the probe
# directory) and, for the ABI proof, vfio-cxx-kconf-abi (--abi COMPAT_H);
# make the objects depend on $(vfio-cxx-kconf).

# kconf.sh and extract-vmlinux.sh sit next to this file.
vfio-cxx-kconf-sh := $(dir $(lastword $(MAKEFILE_LIST)))kconf.sh

# The kernel's C compiler and flags, as Kbuild compiles a module's C unit.
vfio-cxx-kconf-flags = $(NOSTDINC_FLAGS) $(LINUXINCLUDE) $(KBUILD_CPPFLAGS) \
	$(KBUILD_CFLAGS) -DMODULE -DKBUILD_BASENAME='"vfio_cxx_probe"' \
	-DKBUILD_MODNAME='"vfio_cxx_probe"' -D__KBUILD_MODNAME=kmod_vfio_cxx_probe

quiet_cmd_vfio_cxx_kconf = KCONF   $@
      cmd_vfio_cxx_kconf = $(CONFIG_SHELL) $(vfio-cxx-kconf-sh) $(vfio-cxx-kconf-abi) \
	$@ $(vfio-cxx-kconf-probes) $(KERNELRELEASE) $(srctree) $(objtree) -- \
	$(CC) $(vfio-cxx-kconf-flags)

$(vfio-cxx-kconf): $(vfio-cxx-kconf-sh) $(dir $(vfio-cxx-kconf-sh))extract-vmlinux.sh \
		$(wildcard $(vfio-cxx-kconf-probes)/*.c) \
		$(wildcard /lib/modules/$(KERNELRELEASE)/kernel/drivers/vfio/vfio.ko*) FORCE
	$(call if_changed,vfio_cxx_kconf)

targets += $(patsubst $(obj)/%,%,$(vfio-cxx-kconf))
