# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile: the kernel's test and netlink conventions
# (issue 16 items 4, 5).
#
#   make kselftest-install [KSFT_INSTALL_PATH=dir]   (or: make -C selftests install INSTALL_PATH=dir)
#       the kselftest-install layout: run_kselftest.sh, kselftest-list.txt,
#       kselftest/runner.sh, and our collections vfio_cxx/<suite>/ with a
#       settings timeout each (scripts/kselftest-install.sh).  Default dir:
#       $(OUT)/kselftest.
#   make lane-ynl
#       Documentation/netlink/specs/vfio_cxx.yaml against the uAPI header and
#       module/kapi/netlink.c (scripts/check-ynl.py): $(RESULTS)/ynl-spec.tap;
#       and vfio-cxx-stat's policy-checked parser against malformed
#       attributes (tools/vfio-cxx-stat/parse_test.cpp): $(RESULTS)/tool-parse.tap.
#
# Everything taken from the kernel tree (runner, ynl, kunit.py, schemas) comes
# from Debian's linux-source-6.12 into $(KSRC), at build time; never committed.

KSRC := $(OUT)/src-6.12
KSFT_INSTALL_PATH ?= $(OUT)/kselftest
# The YNL test's container holder (a tiny C program of ours).
YNL_HOLDER := $(OUT)/vm/ynl_holder

# The kernel paths each user needs (scripts/linux-source.sh extracts once per set).
KSFT_PATHS := tools/testing/selftests/run_kselftest.sh tools/testing/selftests/kselftest
YNL_PATHS := tools/net/ynl Documentation/netlink/genetlink.yaml \
	Documentation/netlink/genetlink-c.yaml Documentation/netlink/genetlink-legacy.yaml MAINTAINERS

.PHONY: kselftest-src ynl-src kselftest-install lane-ynl
kselftest-src:
	@$(TOP)/scripts/linux-source.sh 6.12 $(KSRC) $(KSFT_PATHS)
ynl-src:
	@$(TOP)/scripts/linux-source.sh 6.12 $(KSRC) $(YNL_PATHS)

$(YNL_HOLDER): $(TOP)/selftests/kselftest/ynl_holder.c $(TOP)/uapi/linux/vfio_cxx.h
	@mkdir -p $(dir $@)
	gcc $(VM_CFLAGS) -o $@ $<

# The suites, the tool, the demo and the holder are built first; the modules
# are those built already ($(OUT)/build-<kver>/, scripts/build-lane.sh), if any.
kselftest-install: selftests tool $(YNL_HOLDER) kselftest-src ynl-src
	@$(TOP)/scripts/kselftest-install.sh $(KSFT_INSTALL_PATH) $(KSRC) $(VM_SUITES)

TOOL_PARSE_TEST := $(OUT)/tool/parse_test
$(TOOL_PARSE_TEST): $(TOP)/tools/vfio-cxx-stat/parse_test.cpp $(TOP)/tools/vfio-cxx-stat/vfio-cxx-stat.cpp \
		$(TOP)/uapi/linux/vfio_cxx_netlink.h
	@mkdir -p $(dir $@)
	g++ -std=gnu++17 -O2 -g -Wall -Wextra -Werror $$(pkg-config --cflags libnl-genl-3.0) \
		-DVFIO_CXX_VERSION='"parse-test"' -o $@ $< $$(pkg-config --libs libnl-genl-3.0)

EXTRA_LANES += lane-ynl
lane-ynl: deps-host
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/ynl-spec.tap $(RESULTS)/tool-parse.tap
	-@$(MAKE) --no-print-directory $(TOOL_PARSE_TEST) && $(TOOL_PARSE_TEST) >$(RESULTS)/tool-parse.tap; \
	 cat $(RESULTS)/tool-parse.tap
	@$(MAKE) --no-print-directory ynl-src >/dev/null || true
	-python3 $(TOP)/scripts/check-ynl.py $(KSRC) $(TOP) $(OUT)/ynl-check >$(RESULTS)/ynl-spec.tap; \
	 cat $(RESULTS)/ynl-spec.tap
