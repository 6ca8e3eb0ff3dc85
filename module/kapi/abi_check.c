// SPDX-License-Identifier: GPL-2.0
/*
 * Compile-time proof that the constants the C++ core restates without
 * kernel headers (module/include/vfio_cxx/{abi,errno}.h, services.h, core/entry.h) are the
 * kernel's own.  Nothing here generates code.
 * No locking: nothing here runs.
 */
#include <linux/errno.h>
#include <linux/vfio.h>

#include "services.h"
#include "../core/entry.h"
#include "vfio_compat.h"
#include "../../uapi/linux/vfio_cxx.h"

/* Values mirrored from module/include/vfio_cxx/errno.h and abi.h. */
#define CORE_ERRNO(name, v) static_assert(name == (v), #name " differs from the core's")
CORE_ERRNO(EPERM, 1);
CORE_ERRNO(ENOENT, 2);
CORE_ERRNO(ESRCH, 3);
CORE_ERRNO(EINTR, 4);
CORE_ERRNO(ENXIO, 6);
CORE_ERRNO(ENOMEM, 12);
CORE_ERRNO(EACCES, 13);
CORE_ERRNO(EFAULT, 14);
CORE_ERRNO(EBUSY, 16);
CORE_ERRNO(EEXIST, 17);
CORE_ERRNO(ENODEV, 19);
CORE_ERRNO(EINVAL, 22);
CORE_ERRNO(ENOTTY, 25);
CORE_ERRNO(ENOSPC, 28);
CORE_ERRNO(EOVERFLOW, 75);
CORE_ERRNO(EOPNOTSUPP, 95);

static_assert(VFIO_CHECK_EXTENSION == ((';' << 8) | (100 + 1)), "VFIO_CHECK_EXTENSION");
static_assert(VFIO_TYPE1_IOMMU == 1 && VFIO_TYPE1v2_IOMMU == 3, "Type1 ids");
static_assert(VFIO_DMA_CC_IOMMU == 4 && VFIO_UNMAP_ALL == 9 && VFIO_UPDATE_VADDR == 10,
	      "extension ids");
static_assert(VFIO_CXX_IOMMU == 0x56435831UL, "uapi/linux/vfio_cxx.h and abi.h differ");
/* Our id must not collide with any in-tree IOMMU type. */
static_assert(VFIO_CXX_IOMMU > 0xffff, "VFIO_CXX_IOMMU collides with small in-tree ids");

#if VFIO_CXX_HAVE_CONTAINER
static_assert((int)VFIO_IOMMU == VFIO_CXX_GROUP_IOMMU, "enum vfio_group_type");
static_assert((int)VFIO_EMULATED_IOMMU == VFIO_CXX_GROUP_EMULATED, "enum vfio_group_type");
static_assert((int)VFIO_NO_IOMMU == VFIO_CXX_GROUP_NOIOMMU, "enum vfio_group_type");
#endif

/* Layouts restated in module/include/vfio_cxx/abi.h. */
#include <linux/mm.h>
#include <linux/iommu.h>
#define LAYOUT(type, size_) static_assert(sizeof(struct type) == (size_), #type)
#define FIELD(type, field, off) static_assert(offsetof(struct type, field) == (off), #type "." #field)
static_assert(PAGE_SHIFT == 12, "PAGE_SHIFT");
static_assert(VFIO_IOMMU_GET_INFO == ((';' << 8) | 112), "VFIO_IOMMU_GET_INFO");
static_assert(VFIO_IOMMU_MAP_DMA == ((';' << 8) | 113), "VFIO_IOMMU_MAP_DMA");
static_assert(VFIO_IOMMU_UNMAP_DMA == ((';' << 8) | 114), "VFIO_IOMMU_UNMAP_DMA");
static_assert(VFIO_IOMMU_DIRTY_PAGES == ((';' << 8) | 117), "VFIO_IOMMU_DIRTY_PAGES");
LAYOUT(vfio_iommu_type1_info, 24);
FIELD(vfio_iommu_type1_info, iova_pgsizes, 8);
FIELD(vfio_iommu_type1_info, cap_offset, 16);
static_assert(VFIO_IOMMU_INFO_PGSIZES == 1 && VFIO_IOMMU_INFO_CAPS == 2, "info flags");
LAYOUT(vfio_info_cap_header, 8);
static_assert(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE == 1 &&
	      VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION == 2 &&
	      VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL == 3, "cap ids");
LAYOUT(vfio_iova_range, 16);
LAYOUT(vfio_iommu_type1_info_cap_iova_range, 16);
LAYOUT(vfio_iommu_type1_info_cap_migration, 32);
FIELD(vfio_iommu_type1_info_cap_migration, pgsize_bitmap, 16);
FIELD(vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size, 24);
FIELD(vfio_iommu_type1_info_dma_avail, avail, 8);
LAYOUT(vfio_iommu_type1_dma_map, 32);
FIELD(vfio_iommu_type1_dma_map, vaddr, 8);
FIELD(vfio_iommu_type1_dma_map, iova, 16);
FIELD(vfio_iommu_type1_dma_map, size, 24);
static_assert(VFIO_DMA_MAP_FLAG_READ == 1 && VFIO_DMA_MAP_FLAG_WRITE == 2 &&
	      VFIO_DMA_MAP_FLAG_VADDR == 4, "map flags");
LAYOUT(vfio_bitmap, 24);
LAYOUT(vfio_iommu_type1_dma_unmap, 24);
FIELD(vfio_iommu_type1_dma_unmap, iova, 8);
FIELD(vfio_iommu_type1_dma_unmap, size, 16);
static_assert(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP == 1 && VFIO_DMA_UNMAP_FLAG_ALL == 2 &&
	      VFIO_DMA_UNMAP_FLAG_VADDR == 4, "unmap flags");
LAYOUT(vfio_iommu_type1_dirty_bitmap, 8);
static_assert(VFIO_IOMMU_DIRTY_PAGES_FLAG_START == 1 && VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP == 2 &&
	      VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP == 4, "dirty flags");
LAYOUT(vfio_iommu_type1_dirty_bitmap_get, 40);
static_assert(KAPI_IOMMU_READ == IOMMU_READ && KAPI_IOMMU_WRITE == IOMMU_WRITE, "IOMMU prot");
static_assert(VFIO_IOMMU_SPAPR_REGISTER_MEMORY == ((';' << 8) | 117) &&
	      VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY == ((';' << 8) | 118), "sPAPR prereg ioctls");
LAYOUT(vfio_iommu_spapr_register_memory, 24);
FIELD(vfio_iommu_spapr_register_memory, vaddr, 8);
FIELD(vfio_iommu_spapr_register_memory, size, 16);
LAYOUT(vfio_cxx_info_cap_prereg, 24);
FIELD(vfio_cxx_info_cap_prereg, nr_regions, 12);
FIELD(vfio_cxx_info_cap_prereg, pinned_bytes, 16);
static_assert(VFIO_CXX_INFO_CAP_PREREG == 0x5643, "prereg cap id");
LAYOUT(vfio_cxx_exit_policy, 16);
FIELD(vfio_cxx_exit_policy, policy, 8);
static_assert(VFIO_CXX_EXIT_POLICY == ((';' << 8) | 0xc0), "VFIO_CXX_EXIT_POLICY");
static_assert(VFIO_CXX_EXIT_KEEP == 0 && VFIO_CXX_EXIT_RELEASE == 1, "exit policies");

/* The sPAPR TCE v2 user API (core/spapr.cpp). */
static_assert(VFIO_SPAPR_TCE_IOMMU == 2 && VFIO_SPAPR_TCE_v2_IOMMU == 7 && VFIO_EEH == 5,
	      "sPAPR ids");
static_assert(VFIO_IOMMU_SPAPR_TCE_GET_INFO == ((';' << 8) | 112), "SPAPR_TCE_GET_INFO");
static_assert(VFIO_IOMMU_ENABLE == ((';' << 8) | 115) && VFIO_IOMMU_DISABLE == ((';' << 8) | 116),
	      "VFIO_IOMMU_ENABLE/DISABLE");
static_assert(VFIO_IOMMU_SPAPR_TCE_CREATE == ((';' << 8) | 119), "SPAPR_TCE_CREATE");
static_assert(VFIO_IOMMU_SPAPR_TCE_REMOVE == ((';' << 8) | 120), "SPAPR_TCE_REMOVE");
static_assert(VFIO_EEH_PE_OP == ((';' << 8) | 121), "VFIO_EEH_PE_OP");
static_assert(VFIO_IOMMU_SPAPR_INFO_DDW == 1, "VFIO_IOMMU_SPAPR_INFO_DDW");
LAYOUT(vfio_iommu_spapr_tce_info, 32);
FIELD(vfio_iommu_spapr_tce_info, dma32_window_size, 12);
FIELD(vfio_iommu_spapr_tce_info, ddw.pgsizes, 16);
FIELD(vfio_iommu_spapr_tce_info, ddw.levels, 28);
LAYOUT(vfio_iommu_spapr_tce_create, 40);
FIELD(vfio_iommu_spapr_tce_create, window_size, 16);
FIELD(vfio_iommu_spapr_tce_create, levels, 24);
FIELD(vfio_iommu_spapr_tce_create, start_addr, 32);
LAYOUT(vfio_iommu_spapr_tce_remove, 16);
FIELD(vfio_eeh_pe_op, op, 8);
