// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty page tracking (DirtyTracking, dirty.h): start and stop, the report
 * of one Dma's bits into a user bitmap (type1's update_user_bitmap), and
 * the marking of pages pinned (by mdev drivers) or written (dma_rw); and
 * the container's VFIO_IOMMU_DIRTY_PAGES ioctl that drives it.
 *
 * Locking: lock_ for everything; the user copies happen under it, as in
 * type1.
 */
#include "container.h"
#include "dirty.h"
#include "io_pagetable.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/* ---- dirty tracking ---------------------------------------------------- */

/*
 * Write d's dirty bits into the user bitmap that starts at base_iova, as
 * type1's update_user_bitmap() does (OR-ing into the first word, whole
 * words after it).  Every page of an IOMMU-mapped Dma is dirty while an
 * IOMMU group is attached: the device may have written anywhere.
 */
int DirtyTracking::report(u64 ubitmap, Dma &d, u64 base_iova, u64 pgshift) noexcept
{
	lock_.assert_held();
	/* Issue 11 item 9: never read a bitmap with another page size than its own. */
	if (int ret = d.fit_bitmap(pgshift))
		return ret;
	const u64 nbits = d.size >> pgshift;
	const u64 bit_offset = (d.iova - base_iova) >> pgshift;
	const u64 copy_offset = bit_offset / 64;
	const unsigned int shift = bit_offset % 64;

	/* Every page, unless each group writes only through pinned pages (as type1). */
	if (topo_.non_pinned_groups() && d.iommu_mapped)
		set_bits(d.bitmap, nbits);
	if (shift) {
		u64 leftover;
		shift_left(d.bitmap, nbits, shift);
		if (kapi_copy_from_user(&leftover, ubitmap + copy_offset * 8, sizeof(leftover)))
			return -err::FAULT;
		d.bitmap[0] |= leftover;
	}
	if (kapi_copy_to_user(ubitmap + copy_offset * 8, d.bitmap,
			      abi::dirty_bitmap_bytes(nbits + shift)))
		return -err::FAULT;
	return 0;
}

int DirtyTracking::get_bitmap(u64 ubitmap, u64 iova, u64 size, u64 pgshift) noexcept
{
	lock_.assert_held();
	const u64 last = iova + size - 1;
	/* The range must not bisect a mapping. */
	Dma *d = dmas_.find(iova, iova);
	if (d && d->iova != iova)
		return -err::INVAL;
	d = dmas_.find(last, last);
	if (d && d->last() != last)
		return -err::INVAL;

	int ret = 0;
	dmas_.for_each(iova, last, [&](Dma &dma) {
		ret = report(ubitmap, dma, iova, pgshift);
		if (ret)
			return false;
		/* Re-arm: only pages pinned by emulated devices stay dirty. */
		const u64 words = abi::dirty_bitmap_bytes(dma.size >> pgshift) / 8 + 1;
		for (u64 w = 0; w < words; w++)
			dma.bitmap[w] = 0;
		mark_pinned(dma);
		return true;
	});
	return ret;
}

void DirtyTracking::free_bitmaps() noexcept
{
	lock_.assert_held();
	dmas_.for_each(0, U64_MAX, [](Dma &d) {
		d.free_bitmap();
		return true;
	});
}

long Container::dirty_pages(unsigned long arg) noexcept
{
	if (!v2_)
		return -err::ACCES; /* as type1 for v1 containers */
	abi::DirtyBitmap dirty;
	if (kapi_copy_from_user(&dirty, arg, abi::DIRTY_MINSZ))
		return -err::FAULT;
	constexpr u32 mask = abi::DIRTY_PAGES_FLAG_START | abi::DIRTY_PAGES_FLAG_STOP |
			     abi::DIRTY_PAGES_FLAG_GET_BITMAP;
	if (dirty.argsz < abi::DIRTY_MINSZ || (dirty.flags & ~mask))
		return -err::INVAL;
	/* Exactly one flag. */
	if (!dirty.flags || (dirty.flags & (dirty.flags - 1)))
		return -err::INVAL;

	if (dirty.flags & abi::DIRTY_PAGES_FLAG_START) {
		Guard g(lock_);
		return iopt_.dirty().start();
	}
	if (dirty.flags & abi::DIRTY_PAGES_FLAG_STOP) {
		Guard g(lock_);
		iopt_.dirty().stop();
		return 0;
	}

	/* GET_BITMAP */
	abi::DirtyBitmapGet range;
	const u64 data_size = dirty.argsz - abi::DIRTY_MINSZ;
	if (data_size < sizeof(range))
		return -err::INVAL;
	if (kapi_copy_from_user(&range, arg + abi::DIRTY_MINSZ, sizeof(range)))
		return -err::FAULT;
	if (range.iova + range.size < range.iova)
		return kapi_type1_wrap_errno(); /* as the kernel's type1 */
	if (!kapi_access_ok(range.bitmap.data, range.bitmap.size))
		return -err::INVAL;
	if (!range.bitmap.pgsize)
		return -err::INVAL;
	int ret = verify_bitmap_size(range.size >> ctz(range.bitmap.pgsize), range.bitmap.size);
	if (ret)
		return ret;

	Guard g(lock_);
	const u64 pgsize = topo_.min_pgsize();
	if (range.bitmap.pgsize != pgsize)
		return -err::INVAL;
	if (range.iova & (pgsize - 1))
		return -err::INVAL;
	if (!range.size || (range.size & (pgsize - 1)))
		return -err::INVAL;
	DirtyTracking &tracking = iopt_.dirty();
	if (!tracking.on())
		return -err::INVAL;
	return tracking.get_bitmap(range.bitmap.data, range.iova, range.size, ctz(pgsize));
}

int DirtyTracking::start() noexcept
{
	lock_.assert_held();
	if (on_)
		return 0;
	const u64 pgshift = ctz(topo_.min_pgsize());
	int ret = 0;
	dmas_.for_each(0, U64_MAX, [&](Dma &d) {
		ret = d.alloc_bitmap(pgshift);
		return ret == 0;
	});
	if (ret) {
		free_bitmaps();
		return ret;
	}
	on_ = true;
	dmas_.for_each(0, U64_MAX, [this](Dma &d) {
		mark_pinned(d);
		return true;
	});
	return 0;
}

void DirtyTracking::stop() noexcept
{
	lock_.assert_held();
	if (on_) {
		on_ = false;
		free_bitmaps();
	}
}

int DirtyTracking::track(Dma &d) noexcept
{
	lock_.assert_held();
	return on_ ? d.alloc_bitmap(ctz(topo_.min_pgsize())) : 0;
}

void DirtyTracking::all_dirty() noexcept
{
	lock_.assert_held();
	if (!on_)
		return;
	dmas_.for_each(0, U64_MAX, [](Dma &d) {
		if (d.bitmap)
			set_bits(d.bitmap, d.size >> d.bitmap_shift);
		return true;
	});
}

/* ---- dirty tracking of pinned and written pages ------------------------ */

void DirtyTracking::mark(Dma &d, u64 offset, u64 len) noexcept
{
	lock_.assert_held();
	if (!on_ || !d.bitmap || !len)
		return;
	const unsigned int shift = d.bitmap_shift; /* the size it was made for */
	for (u64 b = offset >> shift; b <= (offset + len - 1) >> shift; b++)
		d.bitmap[b / 64] |= u64(1) << (b % 64);
}

/* A pinned page may be written at any time: it stays dirty (as type1). */
void DirtyTracking::mark_pinned(Dma &d) noexcept
{
	lock_.assert_held();
	if (!d.ext_pages)
		return;
	u64 idx = 0;
	for (;;) {
		if (!ExtPin(d.ext.find(&idx, ~0UL)).present())
			break;
		mark(d, u64(idx) << abi::PAGE_SHIFT, abi::PAGE_SIZE);
		if (idx == ~0UL)
			break;
		idx++;
	}
}

} /* namespace vfio_cxx */
