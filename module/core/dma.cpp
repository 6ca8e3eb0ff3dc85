// SPDX-License-Identifier: GPL-2.0
/*
 * A Dma's own state (dma.h): its owner mm reference, its run list of pinned
 * pages, and its dirty bitmap.  Locking: its container's lock_, held by
 * every caller (the Dma belongs to the container's DmaSet).
 */
#include "dma.h"
#include "bits.h"

#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

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

void Dma::records_left() const noexcept
{
	VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: external pin records left at mapping free");
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
	bitmap_shift = static_cast<u8>(pgshift);
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


} /* namespace vfio_cxx */
