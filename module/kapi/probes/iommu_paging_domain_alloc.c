/* SPDX-License-Identifier: GPL-2.0 */
/* iommu_paging_domain_alloc(dev) (else iommu_domain_alloc(bus)): iommu.c */
#include <linux/iommu.h>

struct iommu_domain *vfio_cxx_probe(struct device *dev)
{
	return iommu_paging_domain_alloc(dev);
}
