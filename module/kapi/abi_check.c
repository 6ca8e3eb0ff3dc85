// SPDX-License-Identifier: GPL-2.0
/*
 * Compile-time proof that the constants the C++ core restates without
 * kernel headers (module/include/vfio_cxx/{abi,errno}.h, kapi.h) are the
 * kernel's own.  Nothing here generates code.
 */
#include <linux/errno.h>
#include <linux/vfio.h>

#include "kapi.h"
#include "vfio_compat.h"
#include "../../uapi/linux/vfio_cxx.h"

/* Values mirrored from module/include/vfio_cxx/errno.h and abi.h. */
#define CORE_ERRNO(name, v) static_assert(name == (v), #name " differs from the core's")
CORE_ERRNO(EPERM, 1);
CORE_ERRNO(ENOENT, 2);
CORE_ERRNO(ESRCH, 3);
CORE_ERRNO(ENXIO, 6);
CORE_ERRNO(ENOMEM, 12);
CORE_ERRNO(EFAULT, 14);
CORE_ERRNO(EBUSY, 16);
CORE_ERRNO(EEXIST, 17);
CORE_ERRNO(ENODEV, 19);
CORE_ERRNO(EINVAL, 22);
CORE_ERRNO(ENOTTY, 25);
CORE_ERRNO(ENOSPC, 28);
CORE_ERRNO(EOPNOTSUPP, 95);

static_assert(VFIO_CHECK_EXTENSION == ((';' << 8) | (100 + 1)), "VFIO_CHECK_EXTENSION");
static_assert(VFIO_TYPE1_IOMMU == 1 && VFIO_TYPE1v2_IOMMU == 3, "Type1 ids");
static_assert(VFIO_DMA_CC_IOMMU == 4 && VFIO_UNMAP_ALL == 9 && VFIO_UPDATE_VADDR == 10,
	      "extension ids");
static_assert(VFIO_CXX_IOMMU == 0x56435831UL, "uapi/linux/vfio_cxx.h and abi.h differ");
/* Our id must not collide with any in-tree IOMMU type. */
static_assert(VFIO_CXX_IOMMU > 0xffff, "VFIO_CXX_IOMMU collides with small in-tree ids");

static_assert((int)VFIO_IOMMU == VFIO_CXX_GROUP_IOMMU, "enum vfio_group_type");
static_assert((int)VFIO_EMULATED_IOMMU == VFIO_CXX_GROUP_EMULATED, "enum vfio_group_type");
static_assert((int)VFIO_NO_IOMMU == VFIO_CXX_GROUP_NOIOMMU, "enum vfio_group_type");
