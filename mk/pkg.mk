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
# lintian, a user's build of the packaged source (results/pkg.tap); then per
# Debian kernel one VM boot that installs, loads, uses and purges the
# packages (results/pkg-vm-<kver>.tap).
# The VM half takes ~10 min a kernel under TCG (a DKMS build, depmod and
# dpkg triggers in the guest); make check does it for the newest Debian
# kernel, PKG_VM_KVERS="$$(make print-kvers)" for each.
PKG_VM_KVERS ?= $(KVER_612)
lane-pkg: deps-pkg
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/pkg.tap $(RESULTS)/pkg-vm-*.tap
	@$(TOP)/scripts/pkg-lane.sh $(PKG_VM_KVERS)
EXTRA_LANES += lane-pkg
