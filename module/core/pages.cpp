// SPDX-License-Identifier: GPL-2.0
/*
 * A Dma's pages (pages.h): pinning them with their locked_vm charge,
 * mapping them into every IOMMU domain in batches, and unmapping and
 * unpinning them with the pins external records keep.  Behaviour numbers
 * refer to Documentation/requirements.rst.
 *
 * Locking: every call runs under the container's lock_ (the DmaContext's
 * maker holds it; each method asserts it).  Pinning and charging take the
 * owner mm's mmap lock under it; mapping, the IOMMU driver's locks.
 */
#include "pages.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include "accounting.h"
#include "ext_pins.h"
#include "pinning.h"

namespace vfio_cxx {

/*
 * Map d's pinned runs into one domain, KAPI_MAP_SEGS_MAX runs per call (one
 * IOTLB sync each, instead of one per run); on failure unmap what was
 * mapped.
 */
int DmaPages::map_runs(Dma &d, kapi_domain *dom) noexcept
{
	c_.held();
	u64 pfns[KAPI_MAP_SEGS_MAX], npages[KAPI_MAP_SEGS_MAX];
	unsigned int n = 0;
	u64 first = 0, next = 0; /* the batch's first page, and the page after it */
	u64 mapped = 0;		 /* bytes of d mapped so far */
	int ret = 0;
	auto flush = [&]() {
		if (!n || ret)
			return;
		ret = kapi_domain_map_segs(dom, d.iova + (first << abi::PAGE_SHIFT), pfns, npages, n,
					   d.prot);
		if (!ret)
			mapped = next << abi::PAGE_SHIFT;
		n = 0;
		kapi_cond_resched();
	};
	/* disable_hugepages (type1's parameter): one IOMMU page per page. */
	const u64 max_seg = kapi_param_disable_hugepages() ? 1 : ~u64(0);
	auto add = [&](u64 off, u64 pfn, u64 count) {
		if (n && off != next)
			flush(); /* runs are IOVA-consecutive; never batch across a gap */
		if (ret)
			return;
		if (!n)
			first = off;
		pfns[n] = pfn;
		npages[n] = count;
		n++;
		next = off + count;
		if (n == KAPI_MAP_SEGS_MAX)
			flush();
	};
	d.runs.for_each([&](u64 off, const PinRun &r) {
		for (u64 i = 0; i < r.npages && !ret; i += max_seg)
			add(off + i, r.pfn + i, r.npages - i < max_seg ? r.npages - i : max_seg);
	});
	flush();
	if (ret && mapped)
		kapi_domain_unmap(dom, d.iova, mapped);
	return ret;
}

/* Map d's runs into every domain; on failure nothing stays mapped. */
int DmaPages::map_all(Dma &d) noexcept
{
	c_.held();
	size_t mapped_domains = 0;
	int ret = 0;
	for (Domain &dom : c_.domains) {
		ret = map_runs(d, dom.raw());
		if (ret)
			break;
		mapped_domains++;
	}
	if (ret)
		for (Domain &dom : c_.domains) {
			if (!mapped_domains--)
				break;
			kapi_domain_unmap(dom.raw(), d.iova, d.size);
		}
	return ret;
}

/*
 * Charge, pin and map the whole of d into every domain (behaviour 2).  The
 * charge is one locked_vm update for the whole range, made before pinning
 * so that a request over RLIMIT_MEMLOCK fails before it pins anything
 * (behaviour 4); reserved pages found while pinning are given back in a
 * second update (behaviour 6).  On failure everything is undone
 * (behaviour 7).
 */
int DmaPages::pin_map(Dma &d) noexcept
{
	c_.held();
	const u64 npages = d.size >> abi::PAGE_SHIFT;
	if (Prereg *p = d.prereg) {
		/* B39: the region's pages, already pinned and charged. */
		int ret = d.runs.append_range(p->pins(), (d.vaddr - p->vaddr) >> abi::PAGE_SHIFT, npages)
				  ? map_all(d)
				  : -err::NOMEM;
		if (ret) {
			d.runs.free();
			return ret;
		}
		d.iommu_mapped = true;
		ExtPins(c_).adopt(d);
		return 0;
	}
	/*
	 * Pages that mdev drivers pinned are charged already: they are the
	 * charge's credit, so only the rest is charged (B24, B25, R6).  Pages
	 * are charged as they are pinned, reserved (MMIO) ones never (B6,
	 * issue 11 item 5: a BAR larger than RLIMIT_MEMLOCK maps, as in type1).
	 */
	LockedVmCharge charge(d.mm(), d.lock_cap, d.limit, d.locked);
	PinnedRuns pinned(d.runs);
	int ret = pinned.pin(d.mm(), d.vaddr, npages, (d.prot & KAPI_IOMMU_WRITE) != 0, &charge);
	if (ret == -err::NOMEM && charge.denied())
		c_.denied.deny(charge.denied(), d.limit);
	if (!ret)
		ret = map_all(d);
	if (ret)
		return ret; /* the pins and the charge give themselves back */
	pinned.keep();
	d.iommu_mapped = true;
	c_.pages_pinned.add(d.runs.pinned_pages());
	d.add_locked(charge.commit(), c_.locked_pages);
	/*
	 * Credit left over: pages that records had charged and the mapping
	 * found reserved (the user replaced the memory under a live pin).  An
	 * IOMMU-mapped Dma charges exactly its pinned pages, so give it back.
	 */
	if (const u64 extra = charge.unused_credit()) {
		uncharge(d.mm(), extra);
		d.sub_locked(extra, c_.locked_pages);
	}
	ExtPins(c_).adopt(d);
	return 0;
}

/* Bring d's locked_vm charge to target pages, in one update (R6, R7). */
void DmaPages::settle(Dma &d, u64 target) noexcept
{
	c_.held();
	if (target == d.locked)
		return;
	if (target < d.locked) {
		uncharge(d.mm(), d.locked - target);
	} else if (target > d.locked) {
		/*
		 * Only records that kept their own pin of a page the user replaced
		 * (ExtPins::adopt): pinned already, so charged without a limit check.
		 */
		if (kapi_mm_charge(d.mm(), target - d.locked, 1, 0))
			return; /* the mm is gone, and its locked_vm with it */
	}
	if (target > d.locked)
		d.add_locked(target - d.locked, c_.locked_pages);
	else
		d.sub_locked(d.locked - target, c_.locked_pages);
}

/*
 * Unmap d from every domain (gathered IOTLB invalidation, one sync per
 * domain before any page is released) and unpin its pages (behaviour 8).
 * Pages that external records borrow keep their pin, which passes to the
 * record; what stays charged is exactly those records' pages, reached in
 * one update that never dips below them (B26).  The Dma itself stays.
 */
void DmaPages::unmap_unpin(Dma &d) noexcept
{
	c_.held();
	if (d.iommu_mapped)
		for (Domain &dom : c_.domains)
			kapi_domain_unmap(dom.raw(), d.iova, d.size);
	if (d.prereg) {
		/* The region keeps the pins, and records keep borrowing them. */
		d.runs.free();
		d.iommu_mapped = false;
		return;
	}
	const int dirty = (d.prot & KAPI_IOMMU_WRITE) != 0;
	d.runs.for_each([&](u64 off, const PinRun &r) {
		if (r.reserved())
			return;
		const u64 end = off + r.npages;
		u64 from = off;
		for (u64 idx = off; d.ext_pages && idx < end; idx++) {
			ExtPin e(d.ext.find(&idx, end - 1));
			if (!e.present())
				break;
			if (e.own() || e.reserved())
				continue;
			if (idx > from)
				kapi_unpin_pages(r.pfn + (from - off), idx - from, dirty);
			(void)d.ext.store(idx, e.with_own(true).raw());
			d.ext_owned++;
			from = idx + 1;
		}
		if (end > from)
			kapi_unpin_pages(r.pfn + (from - off), end - from, dirty);
		kapi_cond_resched();
	});
	c_.pages_pinned.sub(d.runs.pinned_pages());
	d.runs.free();
	d.iommu_mapped = false;
	settle(d, d.ext_owned);
}

} /* namespace vfio_cxx */
