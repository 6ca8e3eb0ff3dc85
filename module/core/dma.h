/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One user DMA mapping (type1's struct vfio_dma) and what it pinned.
 *
 * Owner: the IoPagetable's DmaSet (dma_set.h: iova -> Dma).  The Dma owns
 * an mm_count reference on the mm whose pages it maps (mmgrab at MAP time,
 * never mm_users), the list of pinned page runs, the records of the pages
 * that mdev drivers pinned (`ext`), and the dirty bitmap while dirty
 * tracking is on.  Pages in the run list are pinned once per Dma and mapped
 * into every IOMMU domain of the container.
 *
 * `locked` is exactly what this Dma has charged to mm->locked_vm: with an
 * IOMMU mapping, every non-reserved page of the range; without one, every
 * externally pinned page whose record holds its own pin.  Every change is
 * applied as one delta (seed 001, R6/R7).
 */
#ifndef VFIO_CXX_DMA_H
#define VFIO_CXX_DMA_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/base.h>
#include <vfio_cxx/list.h>
#include "../kapi/services.h"
#include "pin_table.h"
#include "accounting.h"
#include "domains.h"
#include <vfio_cxx/sync.h>

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
 * Runs stored in chunks (a small first one, then page-sized ones): appends
 * never copy, memory is 16 bytes per discontiguity (not per page), and a
 * mapping of a few runs (a huge page, a contiguous buffer, a single page)
 * costs one 80-byte allocation.
 */
class RunList {
public:
	RunList() noexcept = default;
	VFIO_CXX_NO_COPY(RunList);
	~RunList()
	{
		if (head_)
			free();
	}

	/*
	 * Append, merging with the last run when contiguous (and alike in
	 * reservedness, which is part of pfn); false on ENOMEM.
	 */
	[[nodiscard]] bool append(u64 pfn, u64 npages) noexcept;
	/* Append the runs of src's pages [first, first + npages); false on ENOMEM. */
	[[nodiscard]] bool append_range(const RunList &src, u64 first, u64 npages) noexcept;
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
	/*
	 * The first chunk holds FIRST_CAP runs (80 bytes: most mappings are
	 * one or a few runs), the others fill a page each.
	 */
	struct Chunk {
		Chunk *next;
		u32 count;
		u32 cap;
		PinRun runs[];
	};
	static_assert(sizeof(Chunk) == 16);
	static constexpr u32 FIRST_CAP = 4;
	static constexpr u32 PAGE_CAP = (abi::PAGE_SIZE - sizeof(Chunk)) / sizeof(PinRun);
	static u64 chunk_bytes(u32 cap) noexcept { return sizeof(Chunk) + u64(cap) * sizeof(PinRun); }

	Chunk *head_ = nullptr;
	Chunk *tail_ = nullptr;
	u64 pages_ = 0;
	u64 reserved_ = 0;
	u64 runs_ = 0;
};

/*
 * A page pinned through vfio_pin_pages(), packed in one 64-bit PinTable
 * record (the index is the page's offset in its Dma): PFN, pin count and
 * two flags.
 *   own:      the record holds a page pin of its own (taken by GUP while the
 *             Dma had no IOMMU mapping).  Otherwise it borrows the pin of
 *             the Dma's IOMMU mapping, so a page pinned by both is pinned
 *             and charged once.  Ownership moves with the IOMMU mapping:
 *             Container::unmap_unpin() hands the mapping's pin to borrowing
 *             records, Container::pin_map() takes the records' own pins back.
 *   reserved: a reserved page (the zero page): no pin, no charge.
 */
class ExtPin {
public:
	static constexpr u64 PFN_MASK = (u64(1) << 40) - 1;
	static constexpr unsigned int REF_SHIFT = 40;
	static constexpr u64 REF_MAX = (u64(1) << 20) - 1;
	static constexpr u64 OWN = u64(1) << 60;
	static constexpr u64 RESERVED = u64(1) << 61;

	constexpr explicit ExtPin(u64 v) noexcept : v_(v) {}
	static constexpr ExtPin make(u64 pfn, bool own, bool reserved) noexcept
	{
		return ExtPin((pfn & PFN_MASK) | (u64(1) << REF_SHIFT) | (own ? OWN : 0) |
			      (reserved ? RESERVED : 0));
	}
	bool present() const noexcept { return v_ != 0; }
	u64 raw() const noexcept { return v_; }
	u64 pfn() const noexcept { return v_ & PFN_MASK; }
	u64 refs() const noexcept { return (v_ >> REF_SHIFT) & REF_MAX; }
	bool own() const noexcept { return v_ & OWN; }
	bool reserved() const noexcept { return v_ & RESERVED; }
	/* The record holds a page pin that goes when the record goes. */
	bool holds_pin() const noexcept { return own() && !reserved(); }
	ExtPin with_refs(u64 r) const noexcept
	{
		return ExtPin((v_ & ~(REF_MAX << REF_SHIFT)) | (r << REF_SHIFT));
	}
	ExtPin with_own(bool own) const noexcept { return ExtPin(own ? v_ | OWN : v_ & ~OWN); }

private:
	u64 v_;
};

/*
 * A region of user memory preregistered in a container (seeds 000/002):
 * pinned and charged once, up front, in the container's prereg owner mm.
 * DMA mappings that lie inside it take their pages from it (B39).  Owner:
 * the Container (its preregs_ list); `used` counts the Dmas it backs, and
 * it cannot be unregistered while any is left (B36).
 */
class SharedRegion;

class Prereg {
public:
	Prereg(u64 vaddr, u64 size) noexcept : vaddr(vaddr), size(size) {}
	VFIO_CXX_NO_COPY(Prereg);

	u64 last() const noexcept { return vaddr + size - 1; }
	bool contains(u64 va, u64 len) const noexcept
	{
		return va >= vaddr && va + len - 1 <= last();
	}

	/* The pinned pages: the region's own, or those of the SharedRegion it refers to. */
	const RunList &pins() const noexcept;

	ListNode node;
	const u64 vaddr;
	const u64 size;
	RunList runs;	/* its own pins (none with `shared`) */
	u64 locked = 0; /* pages it charged to the owner mm's locked_vm (0 with `shared`) */
	u64 used = 0;	/* Dmas (sPAPR: TCEs) backed by it */
	SharedRegion *shared = nullptr; /* sPAPR: the mm's region, one reference (shared_region.h) */
};

class Dma final {
public:
	Dma(u64 iova, u64 size, u64 vaddr, int prot, kapi_mm *mm, bool lock_cap) noexcept
		: iova(iova), size(size), vaddr(vaddr), prot(static_cast<u8>(prot)), lock_cap(lock_cap), mm_(mm)
	{
	}
	VFIO_CXX_NO_COPY(Dma);
	/* Inline: it is the last step of every UNMAP_DMA. */
	~Dma()
	{
		/* Records hold pins: the IoPagetable has released them all (IoPagetable::remove). */
		if (ext_pages || !ext.empty())
			records_left();
		free_bitmap();
		kapi_mm_drop(mm_);
	}

	/*
	 * Made and freed on the MAP_DMA/UNMAP_DMA path: from kapi's Dma slab
	 * cache (the constant-size slab path: by make bench-insns, about 30
	 * instructions fewer a MAP than kmalloc's size lookup), not zeroed
	 * (the constructor and the members' initialisers set every member).
	 * Dma is final, so the size is always sizeof(Dma).
	 */
	static void *operator new(size_t, const std::nothrow_t &) noexcept
	{
		return kapi_cache_alloc(KAPI_CACHE_DMA);
	}
	static void operator delete(void *p) noexcept { kapi_cache_free(KAPI_CACHE_DMA, p); }

	u64 last() const noexcept { return iova + size - 1; }
	kapi_mm *mm() const noexcept { return mm_; }
	/*
	 * Whether an externally pinned page with its own pin is charged: not
	 * when the IOMMU mapping or a preregistered region charged the range.
	 */
	bool charges_external() const noexcept { return !iommu_mapped && !prereg; }
	/*
	 * No IOMMU mapping, no pinned run, no external record and no charge:
	 * removing it releases nothing but itself (IoPagetable::remove's fast
	 * path, every UNMAP_DMA of an mdev-only container no driver pinned).
	 */
	bool holds_nothing() const noexcept
	{
		return !iommu_mapped && runs.empty() && !ext_pages && !locked;
	}
	/*
	 * Change the record of what this Dma charged (the charge itself is the
	 * caller's), and the container's count with it (lock_ held).
	 */
	void add_locked(u64 n, SerialCounter &count) noexcept
	{
		locked += n;
		count.add(n);
	}
	void sub_locked(u64 n, SerialCounter &count) noexcept
	{
		locked -= n;
		count.sub(n);
	}
	/* Move ownership to the calling process's mm (UPDATE_VADDR); takes a reference. */
	void set_mm(kapi_mm *mm, bool cap) noexcept;

	/* 0, -EINVAL (too large to track, as type1) or -ENOMEM. */
	[[nodiscard]] int alloc_bitmap(u64 pgshift) noexcept;
	/*
	 * Make the bitmap one of pgshift pages.  If the container's smallest
	 * page size changed since it was sized (a group came or went), a new
	 * one is made with every page dirty: what was recorded cannot be
	 * converted, and reporting too much is safe.  0, -EINVAL or -ENOMEM.
	 */
	[[nodiscard]] int fit_bitmap(u64 pgshift) noexcept;
	/* Inline: ~Dma asks on every UNMAP_DMA, and there is rarely one. */
	void free_bitmap() noexcept
	{
		if (!bitmap)
			return;
		kapi_free(bitmap);
		bitmap = nullptr;
	}
	[[gnu::cold]] void records_left() const noexcept;

	/*
	 * The small members share the word after vaddr, so that a Dma fits
	 * 192 bytes (the static_assert below): by make bench-insns, a
	 * 256-byte Dma refilled its slab a third more often per MAP_DMA.
	 */
	const u64 iova;
	const u64 size;
	u64 vaddr;
	const u8 prot; /* KAPI_IOMMU_READ | KAPI_IOMMU_WRITE */
	bool vaddr_invalid = false;
	bool iommu_mapped = false; /* its pages are pinned and in every domain */
	bool lock_cap;
	bool unmapping = false;	  /* DMA_UNMAP under way: no new external pins */
	u8 bitmap_shift = 0;	  /* of the dirty bitmap (below) */

private:
	kapi_mm *mm_; /* mm_count reference */

public:
	u64 limit = 0;	/* RLIMIT_MEMLOCK in pages of the process that mapped it */
	u64 locked = 0; /* pages charged to mm_->locked_vm (see above) */
	RunList runs;
	u64 *bitmap = nullptr; /* dirty bitmap, one bit per 1 << bitmap_shift bytes, while tracking */

	Prereg *prereg = nullptr;  /* the region its pages come from (no pins of its own) */
	PinTable ext;		  /* ExtPin records by page offset */
	u64 ext_pages = 0;	  /* records in ext */
	u64 ext_owned = 0;	  /* records that hold a page pin (holds_pin()) */
	kapi_range_node range_node{}; /* its node in the DmaSet's range map */
};

static_assert(sizeof(Dma) <= KAPI_CACHE_DMA_SIZE, "a Dma fits its slab cache's objects");

/*
 * What an IoPagetable lends the work on its Dmas for one call (DmaPages,
 * pages.h; ExtPins, ext_pins.h), made under the container's lock_: the IOMMU domains,
 * the counters, and, out, a charge RLIMIT_MEMLOCK refused (the pages and
 * the limit), for the container's MEMLOCK_DENIED event.
 */
struct DmaContext {
	Mutex &lock;
	Topology::Domains &domains;
	Tally &pages_pinned;
	Tally &external_pages;
	SerialCounter &locked_pages;
	DeniedCharge denied;	/* out */

	void held() noexcept { lock.assert_held(); }
	/* The domain whose mapping an external record borrows (null with none). */
	kapi_domain *first_domain() noexcept
	{
		return domains.empty() ? nullptr : domains.front()->raw();
	}
};

} /* namespace vfio_cxx */

#endif
