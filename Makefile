# SPDX-License-Identifier: GPL-2.0
# vfio-cxx developer interface.  `make help` lists the targets.
#
# On a fresh Debian 12 machine the only two commands you need are
#   make demo     and     make check
# Both install whatever is missing first (scripts/deps.sh, via apt; root or sudo).

SHELL := /bin/bash
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
export OUT ?= $(TOP)/out
export VFIO_CXX_CACHE ?= /var/cache/vfio-cxx
RESULTS := $(OUT)/results

# The kernels we build and test against follow Debian's meta-packages:
# linux-headers-amd64 (6.1) and linux-headers-6.12-amd64 (bookworm-security).
# Evaluated lazily: they exist only once `deps` has run.
kver_of = $(shell dpkg-query -W -f='$${Depends}' $(1) 2>/dev/null | tr ',|' '\n\n' | \
	sed -n 's/^ *linux-headers-\([0-9][^ ]*\).*/\1/p' | head -1)
KVER_61 = $(call kver_of,linux-headers-amd64)
KVER_612 = $(call kver_of,linux-headers-6.12-amd64)
KVERS = $(KVER_61) $(KVER_612)

# For `make module`: the running kernel unless KVER is given.
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build

# C++ units keep their DWARF (gdb, crash, perf can use it), but pahole
# cannot encode C++ (references, templates) into BTF, so the module's BTF is
# made from the C units only: Kbuild runs pahole as scripts/pahole-cxx,
# which appends scripts/pahole-flags (--lang_exclude, rust repeated: the
# last one wins) to the kernel's own flags, on every kernel (7.x's
# gen-btf.sh ignores MODULE_PAHOLE_FLAGS).  pahole's DWARF loader still
# prints "tag not supported" for template DIEs it skips; those lines are
# expected, and lane-build checks that the .ko has its .BTF.
PAHOLE_CXX := $(TOP)/scripts/pahole-cxx

HARNESS := $(OUT)/harness
SELFTEST := $(OUT)/vm/vfio_cxx_test
# Differential suite: every test once against vfio_iommu_type1, once against us.
TYPE1_TEST := $(OUT)/vm/type1_api_test
# Differential mdev suite, driving the test mediated device (selftests/mdev/).
MDEV_TEST := $(OUT)/vm/mdev_test
# Netlink family and vfio-cxx-stat, and the DKMS-installed module (issue 7).
NETLINK_TEST := $(OUT)/vm/netlink_test
# Preregistered memory and the owner-exit policy (ours; one differential test).
PREREG_TEST := $(OUT)/vm/prereg_test
# The bounded model-checked ioctl fuzzer: a few seconds on the Debian
# kernels, about a minute on the debug kernel (KASAN/lockdep/kmemleak watch it).
FUZZ_TEST := $(OUT)/vm/fuzz_test
# Hostile userspace (issue 11): fork, SCM_RIGHTS, exec, MMIO, limits, parameters.
HOSTILE_TEST := $(OUT)/vm/hostile_test
# Debian's own QEMU with the edu through -device vfio-pci (issue 13), type1 vs cxx.
QEMU_CLIENT_TEST := $(OUT)/vm/qemu_client_test
# The sPAPR TCE v2 user API (issue 14), spoken directly against the edu groups.
SPAPR_TEST := $(OUT)/vm/spapr_test
# qemu-system-ppc64's pseries machine with the edu through -device vfio-pci (issue 14):
# type1, cxx (Type1v2) and our sPAPR mode.
PSERIES_TEST := $(OUT)/vm/pseries_test
# Debug-kernel lane only: the fail_nth sweep (needs fault injection).
FAIL_NTH_TEST := $(OUT)/vm/fail_nth_test
DEBUG_SUITES := $(FAIL_NTH_TEST)
VM_SUITES := $(SELFTEST) $(TYPE1_TEST) $(MDEV_TEST) $(PREREG_TEST) $(NETLINK_TEST) $(FUZZ_TEST) \
	$(HOSTILE_TEST) $(QEMU_CLIENT_TEST) $(SPAPR_TEST) $(PSERIES_TEST)

TOOL := $(OUT)/tool/vfio-cxx-stat
DEMO := $(OUT)/vm/vfio_cxx_demo

.PHONY: all module clean help deps deps-host deps-build deps-vm deps-debug check demo \
	lane-host lane-build lane-vm lane-debug harness selftests summary \
	tool dkms-install dkms-uninstall lane-dkms print-kvers bench bench-profile bench-insns

all: module

module:
	$(MAKE) -C $(KDIR) M=$(TOP) PAHOLE=$(PAHOLE_CXX) modules

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean >/dev/null 2>&1
	rm -rf $(OUT)

help:
	@echo "make demo        install what is missing, build, boot a VM, show device DMA through our backend"
	@echo "make check       install what is missing, run every test lane, print 'N passed, N failed'"
	@echo "make deps        install build/test dependencies (Debian 12, apt; root or sudo)"
	@echo "make module      build vfio_iommu_cxx.ko in place for KVER (default: running kernel)"
	@echo "make lane-host   GoogleTest unit tests of the C++ core under ASan/UBSan"
	@echo "make lane-build  build against both Debian kernels; compat, objtool, runtime and symbol checks"
	@echo "make lane-vm     boot each Debian kernel in virtme-ng: the kselftest suite, then the packages' cycle"
	@echo "make lane-dkms   install the module through DKMS (its VM smoke test runs in lane-vm)"
	@echo "make tool        build out/tool/vfio-cxx-stat (netlink: containers, mappings, events)"
	@echo "make dkms-install  build the Debian packages, install them, DKMS-build the module for the Debian kernels"
	@echo "make pkg         build the Debian packages vfio-cxx-dkms and vfio-cxx-tools into out/pkg"
	@echo "make lane-pkg    package build, lintian, versions (lane-vm's boots apt install, use and purge them)"
	@echo "make lane-ynl    the YNL spec against the uAPI header and netlink.c; vfio-cxx-stat's parser"
	@echo "make kselftest-install  the VM suites as kselftest collections (KSFT_INSTALL_PATH=dir)"
	@echo "make lane-debug  debug kernel (KASAN, lockdep, kmemleak): KUnit and the VM suites, leak and splat checks"
	@echo "make lane-kernels  the build checks against Debian 13, trixie-backports and sid kernels in build roots"
	@echo "make bench       vfio_iommu_cxx vs type1, iommufd and the floor in one VM boot: bench/results/ (table, JSON, plot)"
	@echo "make bench-insns guest instructions per MAP/UNMAP/pin, per backend and kernel function (TCG plugin): out/bench-insns/"

deps:
	$(TOP)/scripts/deps.sh all
deps-host:
	$(TOP)/scripts/deps.sh host
deps-build:
	$(TOP)/scripts/deps.sh build
deps-vm:
	$(TOP)/scripts/deps.sh vm
deps-debug:
	$(TOP)/scripts/deps.sh debug

# ---- lanes: each writes result files into $(RESULTS) ------------------------

# Lane fragments: mk/dkms.mk (DKMS and packages), mk/vm.mk (the VM lane).  A
# fragment adds a lane to `make check` with EXTRA_LANES += <target> (run after
# lane-dkms, before lane-vm).
EXTRA_LANES :=
include $(sort $(wildcard $(TOP)/mk/*.mk))

lane-host: deps-host
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/host*.xml $(RESULTS)/host*.tap
	-$(MAKE) -C $(TOP)/selftests/host OUT=$(OUT) run
	@if [ -s $(OUT)/host/results.xml ]; then cp $(OUT)/host/results.xml $(RESULTS)/host.xml; \
	 else printf 'not ok 1 - host lane produced no results\n1..1\n' >$(RESULTS)/host-error.tap; fi

lane-build: deps-build
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/build-*.tap $(RESULTS)/compat.tap $(RESULTS)/abi-proof.tap
	-$(TOP)/scripts/check-compat.sh >$(RESULTS)/compat.tap; cat $(RESULTS)/compat.tap
	@for k in $(KVERS); do $(TOP)/scripts/build-lane.sh $$k || true; done
	-$(TOP)/scripts/abi-proof-test.sh $(KVER_612)
	@[ -n "$(strip $(KVERS))" ] || printf 'not ok 1 - no Debian kernel headers found\n1..1\n' >$(RESULTS)/build-none.tap

harness: $(HARNESS)/kselftest_harness.h
$(HARNESS)/kselftest_harness.h:
	$(TOP)/scripts/linux-source.sh 6.12 $(OUT)/src-6.12 \
		tools/testing/selftests/kselftest_harness.h tools/testing/selftests/kselftest.h
	mkdir -p $(HARNESS)
	cp $(OUT)/src-6.12/tools/testing/selftests/kselftest_harness.h \
	   $(OUT)/src-6.12/tools/testing/selftests/kselftest.h $(HARNESS)/

VM_CFLAGS := -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-clobbered -I$(HARNESS) -I$(TOP)/uapi

# pkg-smoke: the package cycle's container (selftests/vm/pkg-guest.sh).
PKG_SMOKE := $(OUT)/vm/pkg-smoke
selftests: $(VM_SUITES) $(DEBUG_SUITES) $(DEMO) $(PKG_SMOKE)
$(OUT)/vm/%: $(TOP)/selftests/vm/%.c $(TOP)/uapi/linux/vfio_cxx.h | harness
	@mkdir -p $(dir $@)
	gcc $(VM_CFLAGS) -pthread -o $@ $<
$(VM_SUITES) $(DEBUG_SUITES): $(TOP)/selftests/vm/vm_util.h
$(MDEV_TEST) $(PREREG_TEST) $(FUZZ_TEST) $(HOSTILE_TEST) $(DEBUG_SUITES): $(TOP)/selftests/mdev/mtest_regs.h
$(FUZZ_TEST): $(TOP)/selftests/vm/fuzz_mp.h $(TOP)/uapi/linux/vfio_cxx_netlink.h
$(NETLINK_TEST): $(TOOL)
$(QEMU_CLIENT_TEST) $(PSERIES_TEST): $(TOOL) $(TOP)/selftests/vm/nested_qemu.h

# vfio-cxx-stat: the netlink family's command-line tool (libnl-genl-3).
# --version prints VFIO_CXX_VERSION (../VERSION, mk/pkg.mk).  debian/rules
# builds it with Debian's flags: TOOL_CXXFLAGS/TOOL_LDFLAGS (no -Werror).
TOOL_CXXFLAGS ?= -O2 -g -Werror
TOOL_LDFLAGS ?=
tool: $(TOOL)
$(TOOL): $(TOP)/tools/vfio-cxx-stat/vfio-cxx-stat.cpp $(TOP)/uapi/linux/vfio_cxx_netlink.h $(TOP)/VERSION
	@mkdir -p $(dir $@)
	g++ -std=gnu++17 -Wall -Wextra $(TOOL_CXXFLAGS) -DVFIO_CXX_VERSION='"$(VFIO_CXX_VERSION)"' \
		$$(pkg-config --cflags libnl-genl-3.0) -o $@ $< $(TOOL_LDFLAGS) $$(pkg-config --libs libnl-genl-3.0)

$(DEMO): $(TOP)/scripts/demo/vfio_cxx_demo.c $(TOP)/uapi/linux/vfio_cxx.h
	@mkdir -p $(dir $@)
	gcc $(VM_CFLAGS) -o $@ $<

# The debug kernel (scripts/debug-kernel.sh: cached by config hash, seeded
# from ../shared/kernels/ or built), one TCG boot: KUnit, then $(VM_SUITES),
# then kmemleak and the kernel log (scripts/debug-lane.sh).  The QEMU client
# suite runs in lane-vm only (a nested QEMU per test adds nothing for KASAN or
# lockdep that the other suites do not reach).
lane-debug: deps-debug
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/vm-debug-*.tap
	@$(MAKE) --no-print-directory selftests || printf 'not ok 1 - VM selftests failed to build\n1..1\n' >$(RESULTS)/vm-debug-build-error.tap
	@$(TOP)/scripts/debug-lane.sh $(filter-out $(QEMU_CLIENT_TEST) $(PSERIES_TEST),$(VM_SUITES)) $(DEBUG_SUITES)

summary:
	@python3 $(TOP)/scripts/summarize.py $(RESULTS)

# Every lane, then the real counts; fails if any test failed.
check: deps
	@rm -rf $(RESULTS)
	@# The build roots (lane-kernels, lane-vm) are made in the background
	@# while the host and build lanes run: a new day's three take ~4 min,
	@# mostly downloads.  build-root.sh serialises makers per suite.
	@# So is the debug kernel (a build of ~13 min when linux-source-6.12
	@# has moved and no seed matches; debug-kernel.sh lets one maker run).
	@# lane-kernels (builds in the roots) runs beside lane-vm's first boots,
	@# at nice 19: it takes the CPU those boots leave idle, and the roots'
	@# boots wait for it (scripts/lane-wait.sh).
	@mkdir -p $(OUT); rm -f $(OUT)/lane-kernels.pending; (for s in $(or $(KERNEL_SUITES),trixie trixie-backports sid); do \
		$(TOP)/scripts/build-root.sh $$s; done) >$(OUT)/roots-prefetch.log 2>&1 &
	@nice -n 19 $(TOP)/scripts/debug-kernel.sh >$(OUT)/debug-kernel-prefetch.log 2>&1 &
	@t0=$$(date +%s); $(MAKE) --no-print-directory lane-host; t1=$$(date +%s); \
	 $(MAKE) --no-print-directory lane-build; t2=$$(date +%s); \
	 $(MAKE) --no-print-directory lane-dkms; t5=$$(date +%s); \
	 $(MAKE) --no-print-directory deps-roots; \
	 $(TOP)/scripts/lane-wait.sh --start $(OUT)/lane-kernels nice -n 19 $(MAKE) --no-print-directory lane-kernels; \
	 for l in $(EXTRA_LANES); do $(MAKE) --no-print-directory $$l; done; \
	 $(MAKE) --no-print-directory lane-vm; t3=$$(date +%s); \
	 $(TOP)/scripts/lane-wait.sh $(OUT)/lane-kernels; \
	 $(MAKE) --no-print-directory lane-debug; t4=$$(date +%s); \
	 echo "lane durations: host $$((t1-t0))s, build $$((t2-t1))s, dkms $$((t5-t2))s, vm (with kernels beside it) $$((t3-t5))s, debug $$((t4-t3))s"
	@python3 $(TOP)/scripts/summarize.py $(RESULTS)

# ---- demo --------------------------------------------------------------------

# ---- benchmark (issue 8) ----------------------------------------------------

# type1, ours, iommufd's native API and the floor (bench/floor/) side by
# side in one TCG boot of the bench kernel (scripts/debug-kernel.sh bench:
# built from linux-source-6.12 once, ~15 min on 2 cores, then cached by its
# configuration); BENCH_KERNEL=<release> benches an installed kernel instead
# (Debian's: no iommufd column).  BENCH_ARGS/BENCH_MEM tune it
# (scripts/bench.sh).  The report goes to bench/results/ (results.md,
# results.json, scaling.png).
BENCH_KERNEL ?= --bench-kernel
bench: deps-vm deps-debug
	@$(TOP)/scripts/bench.sh $(BENCH_KERNEL)

# Where MAP/UNMAP spend their time, both backends (issue 15): ftrace's
# function_graph of the container ioctl in the guest (perf cannot resolve
# kernel symbols under TCG), summed per function by bench/profile.py into
# out/bench-profile/profile.md.  BENCH_ARGS picks the workload.
bench-profile: deps-vm deps-debug
	@BENCH_TRACE=vfio_fops_unl_ioctl BENCH_RESULTS=$(OUT)/bench-profile \
	 BENCH_ARGS="$${BENCH_ARGS:--w scale_nodomain -R 1 -n 256}" $(TOP)/scripts/bench.sh $(BENCH_KERNEL)

# Guest instructions and memory accesses per operation, per backend and per
# kernel function, counted by a QEMU TCG plugin (bench/tcg-insns/insns.c)
# between vfio_bench's markers, into out/bench-insns/insns.md
# (bench/insns.py).  Counts, unlike times, do not move with the machine's
# load.  BENCH_ARGS picks the workloads (the scaling and pin loops are marked).
bench-insns: deps-vm deps-debug
	@BENCH_INSNS=1 BENCH_RESULTS=$(OUT)/bench-insns \
	 BENCH_ARGS="$${BENCH_ARGS:--w scale,pin -r 1 -R 1 -n 1024}" $(TOP)/scripts/bench.sh $(BENCH_KERNEL)

demo: deps
	@$(MAKE) --no-print-directory selftests
	@k=$(KVER_612); $(TOP)/scripts/build-lane.sh $$k >/dev/null && \
	 $(TOP)/scripts/demo/run-demo.sh $$k $(OUT)/build-$$k $(DEMO)
