/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfio-cxx user API: what the vfio_iommu_cxx backend adds to <linux/vfio.h>.
 *
 * A container is served by this backend when VFIO_SET_IOMMU is given
 * VFIO_CXX_IOMMU (always), or VFIO_TYPE1_IOMMU / VFIO_TYPE1v2_IOMMU while the
 * module parameter claim_type1 is set (the default; see
 * Documentation/admin-guide.rst).
 */
#ifndef _UAPI_LINUX_VFIO_CXX_H
#define _UAPI_LINUX_VFIO_CXX_H

/*
 * Private IOMMU type / extension id ('VCX1').  VFIO_CHECK_EXTENSION answers 1
 * when vfio_iommu_cxx is loaded.  A container set to it speaks the Type1v2
 * user API.
 */
#define VFIO_CXX_IOMMU		0x56435831UL

#endif /* _UAPI_LINUX_VFIO_CXX_H */
