/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommu_enable_nesting(domain): the kernel still has VFIO_TYPE1_NESTING_IOMMU.
 * Upstream removed both in 6.13 (type 6 became __VFIO_RESERVED_TYPE1_NESTING_IOMMU,
 * which type1 opens as a plain v2 container and no longer advertises): iommu.c
 */
#include <linux/iommu.h>

int vfio_cxx_probe(struct iommu_domain *domain)
{
	return iommu_enable_nesting(domain);
}
