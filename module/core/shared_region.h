/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SharedRegion: the pinned pages of one preregistered region of one mm,
 * shared by every sPAPR (VFIO_SPAPR_TCE_v2_IOMMU) container of that mm
 * that registers the same [vaddr, vaddr + size), as upstream keeps them in
 * mm->context.iommu_group_mem_list (arch/powerpc/mm/book3s64/iommu_api.c):
 * pinned and charged to locked_vm once, with one reference per container
 * that registered it, and released with the last reference, never at mm
 * teardown (seeds 000/002).  A region that overlaps another region of the
 * mm, in any container, cannot be registered (-EINVAL), as upstream.
 *
 * Each container keeps its own Prereg for the region (its own list, its own
 * count of the TCEs that point into it); Prereg::shared is the reference.
 * VFIO_CXX_IOMMU containers do not share (Documentation/differences.rst).
 *
 * Ownership: a SharedRegion is owned by its references (refs); it holds an
 * mm_count reference (mmgrab, never mm_users) on its mm.  The index of all
 * of them (shared_region.cpp) holds none.
 *
 * Locking: the index and every refs are under kapi_regions_mutex()
 * (KAPI_LOCK_REGIONS), the last lock in the order: taken under a
 * container's lock_, never held while pinning, unpinning or charging, and
 * held only for a walk of the shared regions (each pinned and charged to
 * its mm's RLIMIT_MEMLOCK).  runs, locked, vaddr and size
 * do not change after publication.
 */
#ifndef VFIO_CXX_SHARED_REGION_H
#define VFIO_CXX_SHARED_REGION_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/list.h>

#include "accounting.h"
#include "dma.h"

namespace vfio_cxx {

class SharedRegion {
public:
	VFIO_CXX_NO_COPY(SharedRegion);

	/*
	 * A reference to mm's region [vaddr, vaddr + size): an existing one,
	 * or one pinned (write, long-term) and charged now, charged against
	 * RLIMIT_MEMLOCK unless lock_cap.  0 and *out, or -EINVAL (it overlaps
	 * another region of the mm), -ENOMEM, -EFAULT (not all ordinary
	 * memory) or the pin's or the charge's errno; *denied gets the pages
	 * of a charge RLIMIT_MEMLOCK refused.  Called with the caller's
	 * container lock_ held and no regions lock.
	 */
	static int acquire(kapi_mm *mm, u64 vaddr, u64 size, bool lock_cap, u64 limit,
			   SharedRegion **out, u64 *denied) noexcept;
	/* Drop a reference; the last one unpins (dirty), uncharges and frees. */
	void put() noexcept;

	u64 pages() const noexcept { return size >> abi::PAGE_SHIFT; }
	/* The PFN of page idx (< pages()): one load (upstream's mem->hpas). */
	u64 pfn_at(u64 idx) const noexcept { return pfns_[idx]; }

	const u64 vaddr;
	const u64 size;
	RunList runs;
	ListNode node; /* in the index */

private:
	template <class T, class... Args>
	friend T *make(Args &&...args) noexcept;
	friend struct DeleteFree<SharedRegion>; /* acquire()'s region until it is published */
	SharedRegion(kapi_mm *mm, u64 vaddr, u64 size) noexcept : vaddr(vaddr), size(size), mm_(mm) {}
	~SharedRegion();
	bool overlaps(u64 va, u64 len) const noexcept
	{
		return va <= vaddr + size - 1 && va + len - 1 >= vaddr;
	}

	kapi_mm *mm_;	/* mm_count reference */
	u64 *pfns_ = nullptr; /* every page's PFN, for MAP_DMA's lookups (8 bytes a page) */
	u64 locked = 0; /* pages charged to mm_'s locked_vm */
	u32 refs = 1;
};

} /* namespace vfio_cxx */

#endif
