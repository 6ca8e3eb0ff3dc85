/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommu_group_has_isolated_msi(group) (else irq_domain_check_msi_remap() or
 * IOMMU_CAP_INTR_REMAP per device): iommu.c
 */
#include <linux/iommu.h>

bool vfio_cxx_probe(struct iommu_group *group)
{
	return iommu_group_has_isolated_msi(group);
}
