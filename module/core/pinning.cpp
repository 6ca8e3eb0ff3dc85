// SPDX-License-Identifier: GPL-2.0
/* Pinning policy and the owners of pins; see pinning.h (no locks of its own). */
#include "pinning.h"
#include "accounting.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>

namespace vfio_cxx {

long pin_batch(kapi_mm *mm, u64 vaddr, u64 n, bool write, u64 *pfns) noexcept
{
	if (n > KAPI_PIN_BATCH)
		n = KAPI_PIN_BATCH;
	/*
	 * The usual case (MAP_DMA, or a vendor pin from the owner's own
	 * ioctl): GUP-fast walks the page tables without the mmap lock.
	 * Whatever it cannot take (a page to fault in or to migrate for
	 * FOLL_LONGTERM, MMIO) makes it stop short; the rest goes the remote
	 * way on the next call.  Another mm (a vendor driver's worker, an
	 * adopter's mapping) always goes the remote way.
	 */
	if (kapi_mm_is_current(mm)) {
		const long got = kapi_pin_fast(vaddr, n, write, pfns);
		if (got > 0)
			return got;
	}
	const long got = kapi_pin_remote(mm, vaddr, n, write, pfns);
	if (got > 0 || got == -err::SRCH)
		return got;
	/* Not pinnable: a VM_PFNMAP mapping (MMIO) maps its frame unpinned. */
	u64 pfn;
	const int ret = kapi_pfnmap_pfn(mm, vaddr, write, &pfn);
	if (ret == -err::NOENT)
		return got; /* not MMIO: GUP's errno */
	if (ret)
		return ret;
	pfns[0] = pfn | KAPI_PFN_RESERVED;
	return 1;
}

int mm_rw(kapi_mm *mm, u64 vaddr, void *buf, u64 len, bool write) noexcept
{
	/*
	 * A vendor driver's access from the owner's own ioctl: current's
	 * address space is mm's, and a user copy needs no page reference or
	 * mmap lock.  From anywhere else (a driver's worker, another process),
	 * page by page.
	 */
	if (kapi_mm_is_current(mm))
		return write ? kapi_copy_to_user(vaddr, buf, len) : kapi_copy_from_user(buf, vaddr, len);
	return kapi_mm_rw_remote(mm, vaddr, buf, len, write);
}

PinBatch::~PinBatch()
{
	for (u64 i = taken_; i < n_; i++)
		if (!(pfns_[i] & KAPI_PFN_RESERVED))
			kapi_unpin_pages(pfns_[i], 1, 0);
}

PinnedRuns::~PinnedRuns()
{
	if (runs_)
		unpin_runs(*runs_, false);
}

int PinnedRuns::pin(kapi_mm *mm, u64 vaddr, u64 npages, bool write,
		    LockedVmCharge *charge) noexcept
{
	constexpr u64 batch = KAPI_PIN_BATCH; /* PFNs per pin call */
	/* A small mapping needs no page of PFNs. */
	constexpr u64 small_n = 16;
	u64 small[small_n];
	u64 *pfns = npages <= small_n ? small : static_cast<u64 *>(kapi_alloc(batch * sizeof(u64)));
	if (!pfns)
		return -err::NOMEM;
	int ret = 0;
	for (u64 done = 0; !ret && done < npages;) {
		const u64 want = npages - done < batch ? npages - done : batch;
		const long got = pin_batch(mm, vaddr + (done << abi::PAGE_SHIFT), want, write, pfns);
		if (got < 0) {
			ret = static_cast<int>(got);
			break;
		}
		PinBatch pinned(pfns, static_cast<u64>(got));
		const u64 before = runs_->pinned_pages();
		/*
		 * One append per physically contiguous stretch, not per page:
		 * a THP or hugetlbfs batch is one or a few (make bench: MAP of
		 * huge pages).  The reserved flag is a high bit, so a stretch
		 * never mixes reserved and pinned frames.
		 */
		u64 i = 0;
		while (i < pinned.size()) {
			u64 k = 1;
			while (i + k < pinned.size() && pinned[i + k] == pinned[i] + k)
				k++;
			if (!runs_->append(pinned[i], k))
				break;
			i += k;
			pinned.consume(i);
		}
		if (i < pinned.size())
			ret = -err::NOMEM; /* the rest is unpinned with the batch */
		done += i;
		if (!ret && charge)
			ret = charge->charge(runs_->pinned_pages() - before);
		kapi_cond_resched();
	}
	if (pfns != small)
		kapi_free(pfns);
	return ret;
}

void unpin_runs(RunList &runs, bool dirty) noexcept
{
	runs.for_each([dirty](u64, const PinRun &r) {
		if (!r.reserved())
			kapi_unpin_pages(r.pfn, r.npages, dirty);
		kapi_cond_resched();
	});
	runs.free();
}

} /* namespace vfio_cxx */
