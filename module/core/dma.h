/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One user DMA mapping (type1's struct vfio_dma) and what it pinned.
 *
 * Owner: the Container, through its range map (iova -> Dma).  The Dma owns
 * an mm_count reference on the mm whose pages it maps (mmgrab at MAP time,
 * never mm_users), the list of pinned page runs, and the dirty bitmap while
 * dirty tracking is on.  Pages in the run list are pinned once per Dma and
 * mapped into every IOMMU domain of the container; `locked` is what was
 * charged to mm->locked_vm for them and is given back in one update.
 */
#ifndef VFIO_CXX_DMA_H
#define VFIO_CXX_DMA_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/base.h>
#include "../kapi/kapi.h"

namespace vfio_cxx {

/*
 * Physically contiguous pages, in IOVA order.  pfn may carry
 * KAPI_PFN_RESERVED: such a run (MMIO of a VM_PFNMAP mapping, the zero
 * page) is mapped but holds no pin and no locked_vm charge (behaviour 6).
 */
struct PinRun {
	u64 pfn;
	u64 npages;

	bool reserved() const noexcept { return pfn & KAPI_PFN_RESERVED; }
	u64 paddr() const noexcept { return (pfn & ~KAPI_PFN_RESERVED) << abi::PAGE_SHIFT; }
};

/*
 * Runs stored in page-sized chunks: appends never copy, memory is 16 bytes
 * per discontiguity (not per page), and one run of a huge page or a
 * contiguous buffer costs 16 bytes in all.
 */
class RunList {
public:
	RunList() noexcept = default;
	VFIO_CXX_NO_COPY(RunList);
	~RunList() { free(); }

	/*
	 * Append, merging with the last run when contiguous (and alike in
	 * reservedness, which is part of pfn); false on ENOMEM.
	 */
	[[nodiscard]] bool append(u64 pfn, u64 npages) noexcept;
	u64 pages() const noexcept { return pages_; }
	u64 reserved_pages() const noexcept { return reserved_; }
	/* Pages holding a pin: all but the reserved ones. */
	u64 pinned_pages() const noexcept { return pages_ - reserved_; }
	u64 runs() const noexcept { return runs_; }
	bool empty() const noexcept { return pages_ == 0; }
	/* fn(iova_offset_pages, run) for each run, in order. */
	template <class F>
	void for_each(F &&fn) const noexcept
	{
		u64 off = 0;
		for (const Chunk *c = head_; c; c = c->next)
			for (u32 i = 0; i < c->count; i++) {
				fn(off, c->runs[i]);
				off += c->runs[i].npages;
			}
	}
	/* Forget the runs (the caller unpinned them). */
	void free() noexcept;
	/* Storage bytes, for the bytes-per-page figures. */
	u64 bytes() const noexcept;

private:
	struct Chunk {
		Chunk *next;
		u32 count;
		u32 pad;
		PinRun runs[(abi::PAGE_SIZE - 16) / sizeof(PinRun)];
	};
	static_assert(sizeof(Chunk) == abi::PAGE_SIZE);

	Chunk *head_ = nullptr;
	Chunk *tail_ = nullptr;
	u64 pages_ = 0;
	u64 reserved_ = 0;
	u64 runs_ = 0;
};

class Dma {
public:
	Dma(u64 iova, u64 size, u64 vaddr, int prot, kapi_mm *mm, bool lock_cap) noexcept
		: iova(iova), size(size), vaddr(vaddr), prot(prot), mm_(mm), lock_cap(lock_cap)
	{
	}
	VFIO_CXX_NO_COPY(Dma);
	~Dma();

	u64 last() const noexcept { return iova + size - 1; }
	kapi_mm *mm() const noexcept { return mm_; }
	/* Move ownership to the calling process's mm (UPDATE_VADDR); takes a reference. */
	void set_mm(kapi_mm *mm, bool cap) noexcept;

	/* 0, -EINVAL (too large to track, as type1) or -ENOMEM. */
	[[nodiscard]] int alloc_bitmap(u64 pgshift) noexcept;
	void free_bitmap() noexcept;

	const u64 iova;
	const u64 size;
	u64 vaddr;
	const int prot; /* KAPI_IOMMU_READ | KAPI_IOMMU_WRITE */
	bool vaddr_invalid = false;
	bool iommu_mapped = false; /* its pages are pinned and in every domain */

private:
	kapi_mm *mm_; /* mm_count reference */

public:
	bool lock_cap;
	u64 locked = 0; /* pages charged to mm_->locked_vm */
	RunList runs;
	u64 *bitmap = nullptr; /* dirty bitmap, one bit per min page, while tracking */
};

} /* namespace vfio_cxx */

#endif
