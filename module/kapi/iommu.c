// SPDX-License-Identifier: GPL-2.0
/*
 * kapi: IOMMU groups and paging domains.
 *
 * Locking: none of its own; callers hold the container's lock_, and the
 * IOMMU core takes the group's mutex and the driver's locks inside each
 * call (the domain is allocated from the group iterator, under its mutex).
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include "vfio_cxx_kconf.h"

#include "services.h"

struct kapi_domain {
	struct iommu_domain *domain;
	bool coherency_known;
	bool enforce_cache_coherency;
};

static struct iommu_group *to_group(struct kapi_group *g)
{
	return (struct iommu_group *)g;
}

int kapi_group_id(struct kapi_group *g)
{
	return iommu_group_id(to_group(g));
}

/*
 * The domain is allocated for the group's first device from inside the
 * group iterator, as type1 does: the group's mutex is held there, so the
 * device cannot leave the group (and be freed) meanwhile (issue 11 item 9).
 */
static int alloc_for_first_device(struct device *dev, void *data)
{
	struct iommu_domain **domain = data;

#if VFIO_CXX_HAVE_IOMMU_PAGING_DOMAIN_ALLOC
	*domain = iommu_paging_domain_alloc(dev);
#else
	*domain = iommu_domain_alloc(dev->bus);
	if (!*domain)
		*domain = ERR_PTR(-EIO);
#endif
	return 1; /* stop */
}

#if !VFIO_CXX_HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
static int device_has_intr_remap(struct device *dev, void *data)
{
	return device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}
#endif

int kapi_group_msi_isolated(struct kapi_group *g)
{
#if VFIO_CXX_HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
	return iommu_group_has_isolated_msi(to_group(g));
#else
	return irq_domain_check_msi_remap() ||
	       iommu_group_for_each_dev(to_group(g), NULL, device_has_intr_remap);
#endif
}

int kapi_domain_alloc(struct kapi_group *g, struct kapi_domain **out)
{
	struct iommu_domain *domain = ERR_PTR(-ENODEV); /* stays so if no device */
	struct kapi_domain *kd;

	kd = kzalloc(sizeof(*kd), GFP_KERNEL_ACCOUNT);
	if (!kd)
		return -ENOMEM;
	iommu_group_for_each_dev(to_group(g), &domain, alloc_for_first_device);
	if (IS_ERR(domain)) {
		kfree(kd);
		return PTR_ERR(domain);
	}
	kd->domain = domain;
	*out = kd;
	return 0;
}

void kapi_domain_free(struct kapi_domain *d)
{
	iommu_domain_free(d->domain);
	kfree(d);
}

int kapi_domain_attach_group(struct kapi_domain *d, struct kapi_group *g)
{
	struct iommu_domain *domain = d->domain;
	int ret = iommu_attach_group(domain, to_group(g));

	/*
	 * As type1 does: ask for enforced cache coherency once a device is
	 * attached (the driver looks at the attached devices to decide).
	 */
	if (!ret && !d->coherency_known) {
		d->coherency_known = true;
		if (domain->ops->enforce_cache_coherency)
			d->enforce_cache_coherency = domain->ops->enforce_cache_coherency(domain);
	}
	return ret;
}

void kapi_domain_detach_group(struct kapi_domain *d, struct kapi_group *g)
{
	iommu_detach_group(d->domain, to_group(g));
}

const void *kapi_domain_driver(struct kapi_domain *d)
{
	return d->domain->ops;
}

int kapi_iommu_has_nesting(void)
{
	return VFIO_CXX_HAVE_IOMMU_ENABLE_NESTING;
}

int kapi_domain_enable_nesting(struct kapi_domain *d)
{
#if VFIO_CXX_HAVE_IOMMU_ENABLE_NESTING
	return iommu_enable_nesting(d->domain);
#else
	return -EINVAL; /* not called: the core asks kapi_iommu_has_nesting() first */
#endif
}

int kapi_domain_enforces_coherency(struct kapi_domain *d)
{
	return d->enforce_cache_coherency;
}

kapi_u64 kapi_domain_pgsize_bitmap(struct kapi_domain *d)
{
	return d->domain->pgsize_bitmap;
}

void kapi_domain_aperture(struct kapi_domain *d, kapi_u64 *start, kapi_u64 *end)
{
	*start = d->domain->geometry.aperture_start;
	*end = d->domain->geometry.aperture_end;
}

static int iommu_prot(int prot)
{
	int iprot = IOMMU_CACHE;

	if (prot & KAPI_IOMMU_READ)
		iprot |= IOMMU_READ;
	if (prot & KAPI_IOMMU_WRITE)
		iprot |= IOMMU_WRITE;
	return iprot;
}

static int map_one(struct iommu_domain *domain, u64 iova, u64 paddr, u64 size, int iprot)
{
#if VFIO_CXX_HAVE_IOMMU_MAP_GFP
	return iommu_map(domain, iova, paddr, size, iprot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, iprot);
#endif
}

/* iommu_map_sg() of sgl[0..n): 0 or -errno (it undoes its own part). */
static int map_sg(struct iommu_domain *domain, u64 iova, struct scatterlist *sgl,
		  unsigned int n, u64 bytes, int iprot)
{
	ssize_t mapped;

	sg_mark_end(&sgl[n - 1]);
#if VFIO_CXX_HAVE_IOMMU_MAP_SG_GFP
	mapped = iommu_map_sg(domain, iova, sgl, n, iprot, GFP_KERNEL_ACCOUNT);
#else
	mapped = iommu_map_sg(domain, iova, sgl, n, iprot);
#endif
	if (mapped < 0)
		return mapped;
	if (mapped != bytes) {
		/* 6.1 returns 0 (having undone everything) on failure. */
		if (mapped)
			iommu_unmap(domain, iova, mapped);
		return -ENOMEM;
	}
	return 0;
}

int kapi_domain_map_segs(struct kapi_domain *d, kapi_u64 iova, const kapi_u64 *pfns,
			 const kapi_u64 *npages, unsigned int n, int prot)
{
	struct scatterlist sgl[KAPI_MAP_SEGS_MAX];
	const int iprot = iommu_prot(prot);
	/* at: the next segment's IOVA; done: all of [iova, done) is mapped. */
	u64 at = iova, done = iova, sg_bytes = 0;
	unsigned int i, nsg = 0;
	int ret = 0;

	if (WARN_ON(n > KAPI_MAP_SEGS_MAX))
		return -EINVAL;
	sg_init_table(sgl, KAPI_MAP_SEGS_MAX);
	for (i = 0; i < n && !ret; i++) {
		const u64 pfn = pfns[i] & ~KAPI_PFN_RESERVED;
		const u64 len = npages[i] << PAGE_SHIFT;

		if (!(pfns[i] & KAPI_PFN_RESERVED) && pfn_valid(pfn) && len <= UINT_MAX) {
			sg_set_page(&sgl[nsg++], pfn_to_page(pfn), len, 0);
			sg_bytes += len;
			at += len;
			continue;
		}
		/* No struct page (MMIO): no scatterlist entry; map it alone. */
		if (nsg) {
			ret = map_sg(d->domain, done, sgl, nsg, sg_bytes, iprot);
			if (ret)
				break;
			done += sg_bytes;
			sg_init_table(sgl, KAPI_MAP_SEGS_MAX);
			nsg = 0;
			sg_bytes = 0;
		}
		ret = map_one(d->domain, at, pfn << PAGE_SHIFT, len, iprot);
		if (!ret)
			done = at += len;
	}
	if (!ret && nsg) {
		ret = map_sg(d->domain, done, sgl, nsg, sg_bytes, iprot);
		if (!ret)
			done += sg_bytes;
	}
	if (ret && done > iova)
		kapi_domain_unmap(d, iova, done - iova); /* what this call mapped */
	return ret;
}

kapi_u64 kapi_domain_unmap(struct kapi_domain *d, kapi_u64 iova, kapi_u64 size)
{
	struct iommu_iotlb_gather gather;
	size_t unmapped;

	iommu_iotlb_gather_init(&gather);
	unmapped = iommu_unmap_fast(d->domain, iova, size, &gather);
	iommu_iotlb_sync(d->domain, &gather);
	return unmapped;
}

kapi_u64 kapi_domain_iova_to_phys(struct kapi_domain *d, kapi_u64 iova)
{
	return iommu_iova_to_phys(d->domain, iova);
}

kapi_u64 kapi_domain_iova_to_pfns(struct kapi_domain *d, kapi_u64 iova, kapi_u64 n,
				  kapi_u64 *pfns)
{
	kapi_u64 i;

	for (i = 0; i < n; i++) {
		phys_addr_t pa = iommu_iova_to_phys(d->domain, iova + (i << PAGE_SHIFT));

		if (!pa)
			break;
		pfns[i] = PHYS_PFN(pa);
	}
	return i;
}

int kapi_group_for_each_resv_region(struct kapi_group *g, kapi_resv_fn fn, void *ctx)
{
	struct iommu_resv_region *r, *next;
	LIST_HEAD(regions);
	int ret;

	ret = iommu_get_group_resv_regions(to_group(g), &regions);
	if (!ret) {
		list_for_each_entry(r, &regions, list)
			fn(ctx, r->start, r->length, r->type == IOMMU_RESV_DIRECT_RELAXABLE);
	}
	/* iommu_get_group_resv_regions() allocates each entry with kmalloc. */
	list_for_each_entry_safe(r, next, &regions, list)
		kfree(r);
	return ret;
}
