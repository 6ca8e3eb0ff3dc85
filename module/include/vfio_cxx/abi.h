/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of the VFIO user ABI the core needs, restated without kernel
 * headers.  module/kapi/abi_check.c asserts each value against the kernel's
 * <uapi/linux/vfio.h> and our uapi/linux/vfio_cxx.h at compile time.
 */
#ifndef VFIO_CXX_ABI_H
#define VFIO_CXX_ABI_H

#include "base.h"

namespace vfio_cxx::abi {

/* asm-generic/ioctl.h encoding (x86) */
constexpr u32 ioc(u32 dir, u32 type, u32 nr, u32 size)
{
	return (dir << 30) | (size << 16) | (type << 8) | nr;
}
constexpr u32 VFIO_TYPE = ';';
constexpr u32 VFIO_BASE = 100;

constexpr u32 CHECK_EXTENSION = ioc(0, VFIO_TYPE, VFIO_BASE + 1, 0);

/* Extensions (VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments). */
constexpr unsigned long TYPE1_IOMMU = 1;
constexpr unsigned long TYPE1v2_IOMMU = 3;
constexpr unsigned long DMA_CC_IOMMU = 4;
constexpr unsigned long UNMAP_ALL = 9;
constexpr unsigned long UPDATE_VADDR = 10;
constexpr unsigned long CXX_IOMMU = 0x56435831UL;

} /* namespace vfio_cxx::abi */

#endif
