# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile: the VM lane.  The suites are installed
# as kselftest collections (mk/kselftest.mk, $(KSFT_INSTALL_PATH)) and run in
# each kernel's VM by their run_kselftest.sh (scripts/vm-lane.sh,
# selftests/vm/guest-run.sh); each suite's TAP lands in
# $(OUT)/vm-<kver>/<suite>.tap and $(RESULTS)/vm-<kver>-<suite>.tap, the
# runner's own verdicts in vm-<kver>-kselftest.tap.
# The same boot then installs, loads, uses and purges the Debian packages
# (issue 16 item 2; selftests/vm/pkg-guest.sh): $(RESULTS)/pkg-vm-<kver>.tap.
# They come from $(OUT)/pkg/ (lane-pkg builds them before lane-vm in make
# check; lane-vm builds them when they are missing).  The cycle runs in the
# boot of VM_PKG_KVERS only: Debian 12's default kernel (linux-image-amd64's
# 6.1).  It costs 14 min a kernel under TCG beside a CPU hog (a DKMS build and
# two depmods of the whole module tree; 775 s + 299 s on 6.12, 2026-12-07),
# and the DKMS build against every Debian kernel is lane-dkms' already.
# VM_PKG=0 leaves the package cycle out.  Then the kernels of the build roots
# boot (VM_ROOT_SUITES: 6.12+deb13 and trixie-backports' 7.x; the suites
# only).
VM_PKG ?= 1
VM_PKG_KVERS ?= $(KVER_61)
PKG_DEBS := $(OUT)/pkg/vfio-cxx-dkms_$(VFIO_CXX_VERSION)_all.deb $(OUT)/pkg/vfio-cxx-tools_$(VFIO_CXX_VERSION)_amd64.deb

VM_LANE_SUITES = $(notdir $(VM_SUITES)) ynl_test

# The kernels bookworm cannot install boot from their build roots (issue 12
# item 4, scripts/vm-roots.sh): Debian 13's 6.12+deb13 and trixie-backports'
# newest 7.x, without the package cycle, with the suites issue 12 names (the
# differential ones, the vfio_cxx suite, the demo DMA, the kernel log) and
# the hostile and sPAPR ones.  The nested-QEMU suites (the Q35 client and
# pseries) and the ynl CLI suite, which test userspace against the same
# uAPI, run on bookworm's two kernels: beside a CPU hog they took 170 s and
# 188 s of the two root boots (6.12+deb13's boot took 484 s; 2026-12-07).
VM_ROOT_SUITES ?= trixie trixie-backports
VM_ROOT_LANE_SUITES = $(filter-out $(notdir $(QEMU_CLIENT_TEST) $(PSERIES_TEST)) ynl_test,$(VM_LANE_SUITES))

lane-vm: deps-vm $(if $(filter 1,$(VM_PKG)),deps-pkg)
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/vm-*.tap $(RESULTS)/pkg-vm-*.tap
	@$(MAKE) --no-print-directory selftests || printf 'not ok 1 - VM selftests failed to build\n1..1\n' >$(RESULTS)/vm-build-error.tap
	@if [ "$(VM_PKG)" = 1 ]; then \
		for d in $(PKG_DEBS); do [ -f $$d ] || { $(TOP)/scripts/pkg-build.sh $(OUT)/pkg || \
			printf 'not ok 1 - the Debian packages failed to build (%s)\n1..1\n' $(OUT)/pkg/build.log >$(RESULTS)/pkg-vm-build-error.tap; break; }; done; \
	fi
	@for k in $(KVERS); do \
		[ -f $(OUT)/build-$$k/vfio_iommu_cxx.ko ] || $(TOP)/scripts/build-lane.sh $$k >/dev/null; \
		$(TOP)/scripts/build-mtest.sh $$k || { rm -f $(OUT)/build-$$k/mtest/vfio_cxx_mtest.ko; \
			echo "vfio_cxx_mtest failed to build, see $(OUT)/build-$$k/mtest/build.log"; }; \
	done
	@$(MAKE) --no-print-directory kselftest-install || printf 'not ok 1 - kselftest-install failed\n1..1\n' >$(RESULTS)/vm-kselftest-install-error.tap
	@for k in $(KVERS); do \
		pkg=0; [ "$(VM_PKG)" = 1 ] && case " $(VM_PKG_KVERS) " in *" $$k "*) pkg=1;; esac; \
		if [ $$pkg = 1 ]; then export VFIO_CXX_PKG=$(OUT)/pkg VFIO_CXX_PKG_SMOKE=$(PKG_SMOKE); \
		else unset VFIO_CXX_PKG VFIO_CXX_PKG_SMOKE; fi; \
		VFIO_CXX_VM_CPUS=2 VFIO_CXX_DEMO=$(DEMO) \
			$(TOP)/scripts/vm-lane.sh $$k $(OUT)/build-$$k $(KSFT_INSTALL_PATH) $(VM_LANE_SUITES); \
		$(TOP)/scripts/vm-collect.sh $$k $(RESULTS) $$pkg $(VM_LANE_SUITES); \
	done
	@[ -z "$(strip $(VM_ROOT_SUITES))" ] || $(MAKE) --no-print-directory deps-roots
	@# make check builds in the roots beside the boots above: wait for those
	@# builds, then install the suites again with their modules.
	@$(TOP)/scripts/lane-wait.sh $(OUT)/lane-kernels && \
	 $(MAKE) --no-print-directory kselftest-install >/dev/null || \
	 printf 'not ok 1 - kselftest-install failed\n1..1\n' >$(RESULTS)/vm-kselftest-install-error.tap
	@VFIO_CXX_DEMO=$(DEMO) $(TOP)/scripts/vm-roots.sh $(RESULTS) $(KSFT_INSTALL_PATH) "$(VM_ROOT_LANE_SUITES)" $(VM_ROOT_SUITES)
	@python3 $(TOP)/scripts/differential.py $(RESULTS) | tee $(OUT)/differential.txt
