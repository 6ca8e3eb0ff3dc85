# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile.

# DKMS: install the module for the Debian kernels (/usr/src/vfio-iommu-cxx-<ver>,
# then /lib/modules/<kver>/updates/dkms/); modprobe vfio_iommu_cxx then loads it.
# The lanes insmod their own build by path, so an installed copy never
# shadows it; netlink_test's last test modprobes the installed one.
print-kvers:
	@echo $(KVERS)
dkms-install: deps-build
	$(TOP)/scripts/dkms-install.sh $(KVERS)
dkms-uninstall:
	$(TOP)/scripts/dkms-install.sh --remove
lane-dkms: deps-build
	@mkdir -p $(RESULTS)
	-$(TOP)/scripts/dkms-install.sh $(KVERS) >$(RESULTS)/dkms.tap; cat $(RESULTS)/dkms.tap
