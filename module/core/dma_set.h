/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DmaSet: a container's mappings by IOVA (a kapi range map over the
 * kernel's rbtree; the ranges never overlap), with the counts that go with
 * membership: how many more the container may have (dma_entry_limit,
 * GET_INFO's DMA_AVAIL), how many have an invalid vaddr (UPDATE_VADDR, which
 * holds back attach, pin_pages and dma_rw), the module's dmas_live, and the
 * container's mapping and byte counts that netlink reads.
 *
 * Ownership: the IoPagetable owns its DmaSet (dmas_); a Dma belongs to the
 * set from insert() to erase(), and whoever erases it deletes it
 * (IoPagetable::remove).  Locking: the container's lock_, which every
 * method asserts; the range map has no lock of its own.
 */
#ifndef VFIO_CXX_DMA_SET_H
#define VFIO_CXX_DMA_SET_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/sync.h>
#include "../kapi/services.h"
#include "dma.h"
#include "stats.h"

namespace vfio_cxx {

class DmaSet {
public:
	DmaSet(Mutex &lock, SerialCounter &mappings, SerialCounter &bytes) noexcept
		: lock_(lock), map_(kapi_rangemap_create()), avail_(kapi_param_dma_entry_limit()),
		  mappings_(mappings), bytes_(bytes)
	{
	}
	VFIO_CXX_NO_COPY(DmaSet);
	/* The container erased every Dma first. */
	~DmaSet()
	{
		if (map_)
			kapi_rangemap_destroy(map_);
	}
	bool valid() const noexcept { return map_ != nullptr; }

	/* The lowest Dma intersecting [first, last], or null. */
	Dma *find(u64 first, u64 last) noexcept
	{
		lock_.assert_held();
		return static_cast<Dma *>(kapi_rangemap_find(map_, first, last));
	}
	/*
	 * fn(Dma&) for each Dma intersecting [first, last] in IOVA order,
	 * until it returns false; fn may erase its Dma.  lowest, if given, is
	 * find(first, last), which the caller already knows.  Always inlined:
	 * each caller's fn is a lambda of its own, so every instance has one
	 * caller (UNMAP_DMA's among them), and inlining copies nothing.
	 */
	template <class F>
	[[gnu::always_inline]] void for_each(u64 first, u64 last, F &&fn, Dma *lowest = nullptr) noexcept
	{
		while (first <= last) {
			Dma *d = lowest ? lowest : find(first, last);
			lowest = nullptr;
			if (!d)
				return;
			const u64 dl = d->last();
			if (!fn(*d) || dl >= last)
				return;
			first = dl + 1;
		}
	}
	/* More mappings allowed (dma_entry_limit less the live ones). */
	u32 avail() noexcept
	{
		lock_.assert_held();
		return avail_;
	}
	/* Mappings whose vaddr is invalid (UNMAP_DMA|VADDR until MAP_DMA|VADDR). */
	u32 vaddr_invalid() noexcept
	{
		lock_.assert_held();
		return vaddr_invalid_;
	}

	/* d goes in (avail() != 0: the caller checked): 0, or -EEXIST if it overlaps a Dma. */
	int insert(Dma &d) noexcept
	{
		lock_.assert_held();
		if (int ret = kapi_rangemap_insert(map_, &d.range_node, d.iova, d.last(), &d))
			return ret;
		avail_--;
		g_stats.dmas_live.inc();
		mappings_.inc();
		bytes_.add(d.size);
		return 0;
	}
	/* d comes out (not deleted). */
	void erase(Dma &d) noexcept
	{
		lock_.assert_held();
		kapi_rangemap_remove(map_, &d.range_node);
		if (d.vaddr_invalid)
			vaddr_invalid_--;
		avail_++;
		g_stats.dmas_live.dec();
		mappings_.dec();
		bytes_.sub(d.size);
	}
	void invalidate_vaddr(Dma &d) noexcept
	{
		lock_.assert_held();
		d.vaddr_invalid = true;
		vaddr_invalid_++;
	}
	/* d's vaddr valid again: vaddr, or the one it had (a failed UNMAP|VADDR's rollback). */
	void validate_vaddr(Dma &d, u64 vaddr) noexcept
	{
		lock_.assert_held();
		d.vaddr = vaddr;
		d.vaddr_invalid = false;
		vaddr_invalid_--;
	}

private:
	Mutex &lock_;
	kapi_rangemap *map_;
	u32 avail_;
	u32 vaddr_invalid_ = 0;
	SerialCounter &mappings_;
	SerialCounter &bytes_;
};

} /* namespace vfio_cxx */

#endif
