// SPDX-License-Identifier: GPL-2.0
/*
 * The core as the module compiles it: one translation unit made of every
 * concept file of module/core/ but two: runtime.cpp (the C++ runtime
 * support) stays an object of its own, which the build lane inspects alone,
 * and introspect.cpp is the host tests' window into a container, never in
 * the module.
 *
 * Why one unit: the hot paths (an ioctl's dispatch, MAP_DMA, UNMAP_DMA, a
 * vendor driver's pin) cross many small concept files -- the container's
 * dispatcher, the IoPagetable, the DmaSet, the dirty tracking, the exit
 * watches -- and gcc inlines only within a unit.  Compiled apart, a 1-page
 * MAP_DMA without an IOMMU domain made about 40 calls, most of them to
 * functions of a few instructions (make bench-profile); under TCG, where
 * make bench runs, every call and every code page a call touches is
 * expensive.  The files stay one per concept, each with its own includes:
 * the host lane (selftests/host/Makefile) compiles every one of them alone,
 * so a file that does not stand by itself still fails there.
 *
 * VFIO_CXX_UNITY tells the files they are in this unit: the hot path's
 * functions with one caller in another file (VFIO_CXX_INLINE_ONE_CALLER,
 * vfio_cxx/base.h) are always_inline here and ordinary in the host lane.
 *
 * Locking: none here; each file says its own.  A new core file goes in
 * this list and in selftests/host/Makefile's CORE_SRCS (a missing one is an
 * undefined symbol at the module's link, or the host test's).
 */
#define VFIO_CXX_UNITY 1
#include "container.cpp"
#include "domains.cpp"
#include "attach.cpp"
#include "groups.cpp"
#include "io_pagetable.cpp"
#include "map.cpp"
#include "pages.cpp"
#include "unmap.cpp"
#include "dirty.cpp"
#include "info.cpp"
#include "observe.cpp"
#include "external.cpp"
#include "ext_pins.cpp"
#include "prereg.cpp"
#include "owner_exit.cpp"
#include "dma.cpp"
#include "pinning.cpp"
#include "pin_table.cpp"
#include "exit_watch.cpp"
#include "spapr.cpp"
#include "tce_window.cpp"
#include "shared_region.cpp"
#include "iova_list.cpp"
#include "entry.cpp"
#include "registry.cpp"
#include "netlink.cpp"
