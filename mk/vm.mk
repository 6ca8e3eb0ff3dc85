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
# check; lane-vm builds them when they are missing).  VM_PKG=0 leaves the
# package cycle out (~10 min a kernel under TCG: a DKMS build and two
# depmods of the whole module tree).
VM_PKG ?= 1
PKG_DEBS := $(OUT)/pkg/vfio-cxx-dkms_$(VFIO_CXX_VERSION)_all.deb $(OUT)/pkg/vfio-cxx-tools_$(VFIO_CXX_VERSION)_amd64.deb

VM_LANE_SUITES = $(notdir $(VM_SUITES)) ynl_test

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
		$(if $(filter 1,$(VM_PKG)),VFIO_CXX_PKG=$(OUT)/pkg VFIO_CXX_PKG_SMOKE=$(PKG_SMOKE)) \
			$(TOP)/scripts/vm-lane.sh $$k $(OUT)/build-$$k $(KSFT_INSTALL_PATH) $(VM_LANE_SUITES); \
		if [ "$(VM_PKG)" = 1 ]; then cp $(OUT)/vm-$$k/pkg/pkg-guest.tap $(RESULTS)/pkg-vm-$$k.tap; \
			grep -E '^(not )?ok|^# (the boot|apt|DKMS)' $(RESULTS)/pkg-vm-$$k.tap; fi; \
		cp $(OUT)/vm-$$k/guest.tap $(RESULTS)/vm-$$k-guest.tap; \
		cat $(RESULTS)/vm-$$k-guest.tap; \
		cp $(OUT)/vm-$$k/kselftest.tap $(RESULTS)/vm-$$k-kselftest.tap; \
		grep -E '^(not )?ok' $(RESULTS)/vm-$$k-kselftest.tap; \
		for t in $(VM_LANE_SUITES); do \
			cp $(OUT)/vm-$$k/$$t.tap $(RESULTS)/vm-$$k-$$t.tap; \
			grep -E '^(not )?ok|^# (Totals|FAIL)' $(RESULTS)/vm-$$k-$$t.tap; \
		done; \
	done
	@python3 $(TOP)/scripts/differential.py $(RESULTS) | tee $(OUT)/differential.txt
