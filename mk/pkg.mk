# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile: the one version source, and the Debian
# packages (debian/: vfio-cxx-dkms, vfio-cxx-tools) with their lane.

# ../VERSION feeds MODULE_VERSION (Kbuild), vfio-cxx-stat --version (the tool
# rule), dkms.conf and debian/changelog (both checked against it by lane-pkg).
VFIO_CXX_VERSION := $(shell cat $(TOP)/VERSION)

.PHONY: deps-pkg pkg lane-pkg

deps-pkg:
	$(TOP)/scripts/deps.sh pkg

# The packages, as dpkg-buildpackage -us -uc -b builds them from a clean
# clone (a copy of the tree in $(OUT)/pkg/src/): $(OUT)/pkg/*.deb.
pkg: deps-pkg
	$(TOP)/scripts/pkg-build.sh $(OUT)/pkg

# lane-pkg (scripts/pkg-lane.sh): version agreement, package build, contents,
# lintian, a user's build of the packaged source against the newest Debian
# kernel (results/pkg.tap).  The packages' life cycle in a VM of Debian 12's
# default kernel (apt install, modprobe, use, apt purge) runs in lane-vm's
# boot of that kernel (mk/vm.mk VM_PKG_KVERS, results/pkg-vm-<kver>.tap),
# with the .debs built here.
lane-pkg: deps-pkg
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/pkg.tap
	@$(TOP)/scripts/pkg-lane.sh $(KVER_612)
EXTRA_LANES += lane-pkg
