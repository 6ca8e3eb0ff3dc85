# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile.

# DKMS on this host, through the Debian packages (debian/, mk/pkg.mk):
# scripts/dkms-install.sh builds vfio-cxx-dkms and vfio-cxx-tools and installs
# them with dpkg, whose postinst has DKMS build the module; then each Debian
# kernel gets it in /lib/modules/<kver>/updates/dkms/, and modprobe
# vfio_iommu_cxx loads it.  The lanes insmod their own build by path, so an
# installed copy never shadows it; netlink_test's last test modprobes the
# installed one.  make dkms-uninstall purges the packages.
print-kvers:
	@echo $(KVERS)
dkms-install: deps-pkg
	$(TOP)/scripts/dkms-install.sh $(KVERS)
dkms-uninstall:
	$(TOP)/scripts/dkms-install.sh --remove
lane-dkms: deps-pkg
	@mkdir -p $(RESULTS)
	-$(TOP)/scripts/dkms-install.sh $(KVERS) >$(RESULTS)/dkms.tap; cat $(RESULTS)/dkms.tap
