/* SPDX-License-Identifier: GPL-2.0 */
/* iommu_map_sg() takes a gfp_t (else five arguments): iommu.c */
#include <linux/iommu.h>
#include <linux/scatterlist.h>

ssize_t vfio_cxx_probe(struct iommu_domain *domain, struct scatterlist *sg)
{
	return iommu_map_sg(domain, 0, sg, 1, IOMMU_READ, GFP_KERNEL_ACCOUNT);
}
