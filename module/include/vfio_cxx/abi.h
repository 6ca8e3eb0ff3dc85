/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of the VFIO user ABI the core needs, restated without kernel
 * headers.  module/kapi/abi_check.c asserts each value, size and offset
 * against the kernel's <uapi/linux/vfio.h> and our uapi/linux/vfio_cxx.h at
 * compile time.
 *
 * Locking: none (constants and layouts).
 */
#ifndef VFIO_CXX_ABI_H
#define VFIO_CXX_ABI_H

#include "base.h"

namespace vfio_cxx::abi {

constexpr u64 PAGE_SHIFT = 12;
constexpr u64 PAGE_SIZE = u64(1) << PAGE_SHIFT;
constexpr u64 PAGE_MASK = ~(PAGE_SIZE - 1);

/* asm-generic/ioctl.h encoding (x86) */
constexpr u32 ioc(u32 dir, u32 type, u32 nr, u32 size)
{
	return (dir << 30) | (size << 16) | (type << 8) | nr;
}
constexpr u32 VFIO_TYPE = ';';
constexpr u32 VFIO_BASE = 100;

constexpr u32 CHECK_EXTENSION = ioc(0, VFIO_TYPE, VFIO_BASE + 1, 0);
constexpr u32 IOMMU_GET_INFO = ioc(0, VFIO_TYPE, VFIO_BASE + 12, 0);
constexpr u32 IOMMU_MAP_DMA = ioc(0, VFIO_TYPE, VFIO_BASE + 13, 0);
constexpr u32 IOMMU_UNMAP_DMA = ioc(0, VFIO_TYPE, VFIO_BASE + 14, 0);
constexpr u32 IOMMU_DIRTY_PAGES = ioc(0, VFIO_TYPE, VFIO_BASE + 17, 0);
/* sPAPR prereg: REGISTER shares its number with DIRTY_PAGES (uapi/linux/vfio_cxx.h). */
constexpr u32 IOMMU_REGISTER_MEMORY = ioc(0, VFIO_TYPE, VFIO_BASE + 17, 0);
constexpr u32 IOMMU_UNREGISTER_MEMORY = ioc(0, VFIO_TYPE, VFIO_BASE + 18, 0);
constexpr u32 CXX_EXIT_POLICY = ioc(0, VFIO_TYPE, 0xc0, 0);
/* the sPAPR TCE user API (VFIO_SPAPR_TCE_v2_IOMMU containers, spapr.cpp) */
constexpr u32 SPAPR_TCE_GET_INFO = IOMMU_GET_INFO; /* same number, other struct */
constexpr u32 IOMMU_ENABLE = ioc(0, VFIO_TYPE, VFIO_BASE + 15, 0);
constexpr u32 IOMMU_DISABLE = ioc(0, VFIO_TYPE, VFIO_BASE + 16, 0);
constexpr u32 SPAPR_TCE_CREATE = ioc(0, VFIO_TYPE, VFIO_BASE + 19, 0);
constexpr u32 SPAPR_TCE_REMOVE = ioc(0, VFIO_TYPE, VFIO_BASE + 20, 0);
constexpr u32 EEH_PE_OP = ioc(0, VFIO_TYPE, VFIO_BASE + 21, 0);

/* Extensions (VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments). */
constexpr unsigned long TYPE1_IOMMU = 1;
constexpr unsigned long TYPE1v2_IOMMU = 3;
constexpr unsigned long TYPE1_NESTING_IOMMU = 6;
constexpr unsigned long DMA_CC_IOMMU = 4;
constexpr unsigned long UNMAP_ALL = 9;
constexpr unsigned long UPDATE_VADDR = 10;
constexpr unsigned long CXX_IOMMU = 0x56435831UL;
constexpr unsigned long SPAPR_TCE_IOMMU = 2;	 /* v1: not offered */
constexpr unsigned long SPAPR_TCE_v2_IOMMU = 7; /* the spapr module parameter */
constexpr unsigned long EEH = 5;

/* struct vfio_iommu_type1_info */
struct IommuInfo {
	u32 argsz;
	u32 flags;
	u64 iova_pgsizes;
	u32 cap_offset;
	u32 pad;
};
constexpr u32 INFO_PGSIZES = 1u << 0;
constexpr u32 INFO_CAPS = 1u << 1;
constexpr u32 INFO_MINSZ = 16; /* offsetofend(iova_pgsizes) */

/* struct vfio_info_cap_header */
struct CapHeader {
	u16 id;
	u16 version;
	u32 next;
};
constexpr u16 CAP_IOVA_RANGE = 1;
constexpr u16 CAP_MIGRATION = 2;
constexpr u16 CAP_DMA_AVAIL = 3;

struct IovaRange {
	u64 start;
	u64 end;
};
/* struct vfio_iommu_type1_info_cap_iova_range (flexible array follows) */
struct CapIovaRange {
	CapHeader header;
	u32 nr_iovas;
	u32 reserved;
};
struct CapMigration {
	CapHeader header;
	u32 flags;
	u64 pgsize_bitmap;
	u64 max_dirty_bitmap_size;
};
struct CapDmaAvail {
	CapHeader header;
	u32 avail;
};

/* struct vfio_iommu_type1_dma_map */
struct DmaMap {
	u32 argsz;
	u32 flags;
	u64 vaddr;
	u64 iova;
	u64 size;
};
constexpr u32 DMA_MAP_FLAG_READ = 1u << 0;
constexpr u32 DMA_MAP_FLAG_WRITE = 1u << 1;
constexpr u32 DMA_MAP_FLAG_VADDR = 1u << 2;
constexpr u32 DMA_MAP_MINSZ = 32;

/* struct vfio_bitmap */
struct Bitmap {
	u64 pgsize;
	u64 size;
	u64 data; /* __u64 __user * */
};

/* struct vfio_iommu_type1_dma_unmap (data[] follows) */
struct DmaUnmap {
	u32 argsz;
	u32 flags;
	u64 iova;
	u64 size;
};
constexpr u32 DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1u << 0;
constexpr u32 DMA_UNMAP_FLAG_ALL = 1u << 1;
constexpr u32 DMA_UNMAP_FLAG_VADDR = 1u << 2;
constexpr u32 DMA_UNMAP_MINSZ = 24;

/* struct vfio_iommu_type1_dirty_bitmap (data[] follows) */
struct DirtyBitmap {
	u32 argsz;
	u32 flags;
};
constexpr u32 DIRTY_PAGES_FLAG_START = 1u << 0;
constexpr u32 DIRTY_PAGES_FLAG_STOP = 1u << 1;
constexpr u32 DIRTY_PAGES_FLAG_GET_BITMAP = 1u << 2;
constexpr u32 DIRTY_MINSZ = 8;

/* struct vfio_iommu_type1_dirty_bitmap_get */
struct DirtyBitmapGet {
	u64 iova;
	u64 size;
	Bitmap bitmap;
};

/* struct vfio_iommu_spapr_register_memory */
struct RegisterMemory {
	u32 argsz;
	u32 flags;
	u64 vaddr;
	u64 size;
};
constexpr u32 REGISTER_MEMORY_MINSZ = 24;

/* struct vfio_iommu_spapr_tce_info (with its ddw part) */
struct SpaprTceInfo {
	u32 argsz;
	u32 flags;
	u32 dma32_window_start;
	u32 dma32_window_size;
	u64 pgsizes;
	u32 max_dynamic_windows_supported;
	u32 levels;
};
constexpr u32 SPAPR_INFO_DDW = 1u << 0;
constexpr u32 SPAPR_TCE_INFO_MINSZ = 16; /* offsetofend(dma32_window_size) */

/* struct vfio_iommu_spapr_tce_create */
struct SpaprTceCreate {
	u32 argsz;
	u32 flags;
	u32 page_shift;
	u32 resv1;
	u64 window_size;
	u32 levels;
	u32 resv2;
	u64 start_addr; /* out */
};
constexpr u32 SPAPR_TCE_CREATE_MINSZ = 40;

/* struct vfio_iommu_spapr_tce_remove */
struct SpaprTceRemove {
	u32 argsz;
	u32 flags;
	u64 start_addr;
};
constexpr u32 SPAPR_TCE_REMOVE_MINSZ = 16;

/* struct vfio_eeh_pe_op: only its head is read (there is no PE) */
constexpr u32 EEH_PE_OP_MINSZ = 12;

/* struct vfio_cxx_info_cap_prereg */
constexpr u16 CAP_CXX_PREREG = 0x5643;
struct CapPrereg {
	CapHeader header;
	u32 flags;
	u32 nr_regions;
	u64 pinned_bytes;
};

/* struct vfio_cxx_exit_policy */
struct ExitPolicy {
	u32 argsz;
	u32 flags;
	u32 policy;
	u32 pad;
};
constexpr u32 EXIT_KEEP = 0;
constexpr u32 EXIT_RELEASE = 1;
constexpr u32 EXIT_POLICY_MINSZ = 12;

/* type1's limits on dirty bitmaps */
constexpr u64 DIRTY_BITMAP_PAGES_MAX = 0x7fffffffULL; /* INT_MAX */
constexpr u64 dirty_bitmap_bytes(u64 npages) { return ((npages + 63) / 64) * 8; }
constexpr u64 DIRTY_BITMAP_SIZE_MAX = dirty_bitmap_bytes(DIRTY_BITMAP_PAGES_MAX);

#define VFIO_CXX_OFF(t, f) __builtin_offsetof(t, f)
static_assert(sizeof(SpaprTceInfo) == 32 && sizeof(SpaprTceCreate) == 40 &&
	      VFIO_CXX_OFF(SpaprTceCreate, start_addr) == 32 && sizeof(SpaprTceRemove) == 16);
static_assert(sizeof(IommuInfo) == 24 && VFIO_CXX_OFF(IommuInfo, cap_offset) == 16);
static_assert(sizeof(CapHeader) == 8 && sizeof(IovaRange) == 16 && sizeof(CapIovaRange) == 16);
static_assert(sizeof(CapMigration) == 32 && VFIO_CXX_OFF(CapMigration, pgsize_bitmap) == 16);
static_assert(VFIO_CXX_OFF(CapDmaAvail, avail) == 8);
static_assert(sizeof(DmaMap) == DMA_MAP_MINSZ && VFIO_CXX_OFF(DmaMap, size) == 24);
static_assert(sizeof(Bitmap) == 24 && sizeof(DmaUnmap) == DMA_UNMAP_MINSZ);
static_assert(sizeof(DirtyBitmap) == DIRTY_MINSZ && sizeof(DirtyBitmapGet) == 40);
static_assert(sizeof(RegisterMemory) == REGISTER_MEMORY_MINSZ && sizeof(CapPrereg) == 24);
static_assert(sizeof(ExitPolicy) == 16 && VFIO_CXX_OFF(ExitPolicy, policy) == 8);
#undef VFIO_CXX_OFF

} /* namespace vfio_cxx::abi */

#endif
