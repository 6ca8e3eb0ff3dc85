# SPDX-License-Identifier: GPL-2.0
# Included by the top-level Makefile: the kernels bookworm cannot build for
# (issue 12).  lane-kernels runs the build lane's checks against Debian 13's
# kernel (6.12+deb13, gcc-14), the newest trixie-backports kernel (7.x) and
# sid's (the canary), each inside a debootstrap'd build root cached under
# $(VFIO_CXX_CACHE)/roots/ (scripts/build-root.sh, scripts/kernels-lane.sh).
# make check runs it after lane-build.
.PHONY: deps-roots lane-kernels
deps-roots:
	$(TOP)/scripts/deps.sh roots
lane-kernels: deps-roots
	@mkdir -p $(RESULTS)
	@$(TOP)/scripts/kernels-lane.sh $(KERNEL_SUITES)
