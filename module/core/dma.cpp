// SPDX-License-Identifier: GPL-2.0
#include "dma.h"
#include "accounting.h"
#include "bits.h"

#include <vfio_cxx/errno.h>

namespace vfio_cxx {

bool RunList::append(u64 pfn, u64 npages) noexcept
{
	const bool reserved = pfn & KAPI_PFN_RESERVED;
	if (tail_ && tail_->count) {
		PinRun &last = tail_->runs[tail_->count - 1];
		if (last.pfn + last.npages == pfn) {
			last.npages += npages;
			pages_ += npages;
			if (reserved)
				reserved_ += npages;
			return true;
		}
	}
	if (!tail_ || tail_->count == tail_->cap) {
		const u32 cap = tail_ ? PAGE_CAP : FIRST_CAP;
		Chunk *c = static_cast<Chunk *>(kapi_alloc(chunk_bytes(cap)));
		if (!c)
			return false;
		c->cap = cap;
		if (tail_)
			tail_->next = c;
		else
			head_ = c;
		tail_ = c;
	}
	tail_->runs[tail_->count++] = { pfn, npages };
	pages_ += npages;
	if (reserved)
		reserved_ += npages;
	runs_++;
	return true;
}

bool RunList::append_range(const RunList &src, u64 first, u64 npages) noexcept
{
	const u64 end = first + npages;
	bool ok = true;
	src.for_each([&](u64 off, const PinRun &r) {
		const u64 lo = off > first ? off : first;
		const u64 hi = off + r.npages < end ? off + r.npages : end;
		if (ok && lo < hi)
			ok = append(r.pfn + (lo - off), hi - lo);
	});
	return ok;
}

void RunList::free() noexcept
{
	while (head_) {
		Chunk *n = head_->next;
		kapi_free(head_);
		head_ = n;
	}
	tail_ = nullptr;
	pages_ = reserved_ = runs_ = 0;
}

u64 RunList::bytes() const noexcept
{
	u64 n = 0;
	for (const Chunk *c = head_; c; c = c->next)
		n += chunk_bytes(c->cap);
	return n;
}

int pin_user_range(kapi_mm *mm, u64 vaddr, u64 npages, bool write, RunList &runs,
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
		long got = kapi_pin_user_pages(mm, vaddr + (done << abi::PAGE_SHIFT), want, write, pfns);
		if (got < 0) {
			ret = static_cast<int>(got);
			break;
		}
		const u64 before = runs.pinned_pages();
		for (long i = 0; i < got; i++) {
			if (!runs.append(pfns[i], 1)) {
				/* Not recorded, so unpinned here. */
				for (long j = i; j < got; j++)
					if (!(pfns[j] & KAPI_PFN_RESERVED))
						kapi_unpin_pages(pfns[j], 1, 0);
				ret = -err::NOMEM;
				break;
			}
		}
		done += static_cast<u64>(got);
		if (!ret && charge)
			ret = charge->charge(runs.pinned_pages() - before);
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

Dma::~Dma()
{
	if (ext)
		kapi_xmap_destroy(ext);
	free_bitmap();
	kapi_mm_drop(mm_);
}

void Dma::set_mm(kapi_mm *mm, bool cap) noexcept
{
	kapi_mm_grab(mm);
	kapi_mm_drop(mm_);
	mm_ = mm;
	lock_cap = cap;
}

int Dma::alloc_bitmap(u64 pgshift) noexcept
{
	const u64 npages = size >> pgshift;
	if (npages > abi::DIRTY_BITMAP_PAGES_MAX)
		return -err::INVAL;
	/* One spare word: reports shift the bits left by up to 63. */
	bitmap = static_cast<u64 *>(kapi_alloc(abi::dirty_bitmap_bytes(npages) + sizeof(u64)));
	bitmap_shift = static_cast<unsigned int>(pgshift);
	return bitmap ? 0 : -err::NOMEM;
}

int Dma::fit_bitmap(u64 pgshift) noexcept
{
	if (bitmap && bitmap_shift == pgshift)
		return 0;
	free_bitmap();
	int ret = alloc_bitmap(pgshift);
	if (ret)
		return ret;
	set_bits(bitmap, size >> pgshift);
	return 0;
}

void Dma::free_bitmap() noexcept
{
	kapi_free(bitmap);
	bitmap = nullptr;
}

} /* namespace vfio_cxx */
