# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile: the VM lane.  The suites are installed
# as kselftest collections (mk/kselftest.mk, $(KSFT_INSTALL_PATH)) and run in
# each kernel's VM by their run_kselftest.sh (scripts/vm-lane.sh,
# selftests/vm/guest-run.sh); each suite's TAP lands in
# $(OUT)/vm-<kver>/<suite>.tap and $(RESULTS)/vm-<kver>-<suite>.tap, the
# runner's own verdicts in vm-<kver>-kselftest.tap.

VM_LANE_SUITES = $(notdir $(VM_SUITES)) ynl_test

lane-vm: deps-vm
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/vm-*.tap
	@$(MAKE) --no-print-directory selftests || printf 'not ok 1 - VM selftests failed to build\n1..1\n' >$(RESULTS)/vm-build-error.tap
	@for k in $(KVERS); do \
		[ -f $(OUT)/build-$$k/vfio_iommu_cxx.ko ] || $(TOP)/scripts/build-lane.sh $$k >/dev/null; \
		$(TOP)/scripts/build-mtest.sh $$k || { rm -f $(OUT)/build-$$k/mtest/vfio_cxx_mtest.ko; \
			echo "vfio_cxx_mtest failed to build, see $(OUT)/build-$$k/mtest/build.log"; }; \
	done
	@$(MAKE) --no-print-directory kselftest-install || printf 'not ok 1 - kselftest-install failed\n1..1\n' >$(RESULTS)/vm-kselftest-install-error.tap
	@for k in $(KVERS); do \
		$(TOP)/scripts/vm-lane.sh $$k $(OUT)/build-$$k $(KSFT_INSTALL_PATH) $(VM_LANE_SUITES); \
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
