# SPDX-License-Identifier: GPL-2.0
# Top-level developer interface.  `make help` lists the targets.
SHELL := /bin/bash
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
export VFIO_CXX_CACHE ?= /var/cache/vfio-cxx
OUT ?= $(TOP)/out

# The kernels we build and test against: follow Debian's meta-packages.
kver_of = $(shell dpkg-query -W -f='$${Depends}' $(1) 2>/dev/null | tr ',' '\n' | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p;s/^ *linux-headers-\([^ ]*\).*/\1/p' | head -1)
KVER_612 ?= $(call kver_of,linux-headers-6.12-amd64)
KVER_61  ?= $(call kver_of,linux-headers-amd64)
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build

# C++ units keep their DWARF (gdb, crash, perf can use it), but pahole 1.24
# cannot encode C++ (references, templates) into BTF, so the module's BTF is
# made from the C units only.  The kernel's own flags exclude rust the same
# way; the last --lang_exclude wins, so rust is repeated here.  pahole's DWARF
# loader still prints "tag not supported" for template DIEs it skips; those
# lines are expected, and lane-build checks that the .ko has its .BTF.
PAHOLE_LANG_EXCLUDE := --lang_exclude=rust,c++,c++03,c++11,c++14
KMAKE = $(MAKE) -C $(KDIR) M=$(TOP) MODULE_PAHOLE_FLAGS="$(PAHOLE_LANG_EXCLUDE)"

.PHONY: all module clean help deps check demo lane-host lane-build lane-vm

all: module

module:
	$(KMAKE) modules

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(OUT)

help:
	@echo "make demo        install what is missing, build, boot a VM, show the backend serving a container"
	@echo "make check       install what is missing, run every test lane, print 'N passed, N failed'"
	@echo "make deps        install build/test dependencies (Debian 12)"
	@echo "make module      build vfio_iommu_cxx.ko for KVER (default: running kernel)"
	@echo "make lane-host   GoogleTest unit tests of the C++ core (ASan/UBSan)"
	@echo "make lane-build  build against both Debian kernels; objtool, runtime and symbol checks"
	@echo "make lane-vm     boot each Debian kernel in virtme-ng and run the kselftest suite"
