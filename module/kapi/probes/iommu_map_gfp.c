/* SPDX-License-Identifier: GPL-2.0 */
/* iommu_map() takes a gfp_t (else five arguments): iommu.c */
#include <linux/iommu.h>

int vfio_cxx_probe(struct iommu_domain *domain)
{
	return iommu_map(domain, 0, 0, 0, IOMMU_READ, GFP_KERNEL_ACCOUNT);
}
