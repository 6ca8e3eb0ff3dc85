# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile: the VM lane (scripts/vm-lane.sh per kernel).

lane-vm: deps-vm
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/vm-*.tap
	@$(MAKE) --no-print-directory selftests || printf 'not ok 1 - VM selftests failed to build\n1..1\n' >$(RESULTS)/vm-build-error.tap
	@for k in $(KVERS); do \
		[ -f $(OUT)/build-$$k/vfio_iommu_cxx.ko ] || $(TOP)/scripts/build-lane.sh $$k >/dev/null; \
		$(TOP)/scripts/build-mtest.sh $$k || { rm -f $(OUT)/build-$$k/mtest/vfio_cxx_mtest.ko; \
			echo "vfio_cxx_mtest failed to build, see $(OUT)/build-$$k/mtest/build.log"; }; \
		$(TOP)/scripts/vm-lane.sh $$k $(OUT)/build-$$k $(VM_SUITES); \
		cp $(OUT)/vm-$$k/guest.tap $(RESULTS)/vm-$$k-guest.tap; \
		cat $(RESULTS)/vm-$$k-guest.tap; \
		for t in $(notdir $(VM_SUITES)); do \
			cp $(OUT)/vm-$$k/$$t.tap $(RESULTS)/vm-$$k-$$t.tap; \
			grep -E '^(not )?ok|^# (Totals|FAIL)' $(RESULTS)/vm-$$k-$$t.tap; \
		done; \
	done
	@python3 $(TOP)/scripts/differential.py $(RESULTS) | tee $(OUT)/differential.txt

