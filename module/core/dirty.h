/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DirtyTracking: a container's dirty page tracking (VFIO_IOMMU_DIRTY_PAGES,
 * UNMAP_DMA's GET_DIRTY_BITMAP).  While it is on, every Dma has a bitmap of
 * the page size it was started with (Dma::bitmap, recorded in
 * bitmap_shift); pages mdev drivers pinned stay dirty, pages dma_rw wrote
 * are marked, and while an IOMMU group may write anywhere every page of an
 * IOMMU-mapped Dma is reported (type1's pinned_page_dirty_scope).
 *
 * Ownership: the IoPagetable owns it (dirty_); it reads the IoPagetable's
 * DmaSet and Topology, which live as long.  The bitmaps are their Dmas'.
 * Locking: the container's lock_, which every method asserts.
 */
#ifndef VFIO_CXX_DIRTY_H
#define VFIO_CXX_DIRTY_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/sync.h>
#include "dma.h"
#include "dma_set.h"
#include "domains.h"

namespace vfio_cxx {

class DirtyTracking {
public:
	DirtyTracking(Mutex &lock, DmaSet &dmas, Topology &topo) noexcept
		: lock_(lock), dmas_(dmas), topo_(topo)
	{
	}
	VFIO_CXX_NO_COPY(DirtyTracking);

	bool on() noexcept
	{
		lock_.assert_held();
		return on_;
	}
	/* START: a bitmap for every Dma, pinned pages dirty; 0 or -ENOMEM (nothing changes). */
	int start() noexcept;
	/* STOP: the bitmaps go. */
	void stop() noexcept;
	/* A new Dma: its bitmap while tracking is on; 0 or -ENOMEM/-EINVAL. */
	int track(Dma &d) noexcept;
	/* Pages [offset, offset + len) of d written or pinned. */
	void mark(Dma &d, u64 offset, u64 len) noexcept;
	/* Every page mdev drivers pinned in d: it may be written at any time (as type1). */
	void mark_pinned(Dma &d) noexcept;
	/* The last group that could write anywhere left: every page so far is dirty, once. */
	void all_dirty() noexcept;
	/*
	 * Write d's bits into the user bitmap at ubitmap that starts at
	 * base_iova, at 1 << pgshift bytes a bit: 0 or -EFAULT/-ENOMEM.
	 */
	int report(u64 ubitmap, Dma &d, u64 base_iova, u64 pgshift) noexcept;
	/*
	 * GET_BITMAP of [iova, iova + size), which must not bisect a mapping
	 * (-EINVAL); re-arms the bits reported.
	 */
	int get_bitmap(u64 ubitmap, u64 iova, u64 size, u64 pgshift) noexcept;

private:
	void free_bitmaps() noexcept;

	Mutex &lock_;
	DmaSet &dmas_;
	Topology &topo_;
	bool on_ = false;
};

} /* namespace vfio_cxx */

#endif
