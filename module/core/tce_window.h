/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One sPAPR DMA window (spapr.h has the API it serves): bus addresses
 * [start, start + size), one TCE per page, and its shadow table (upstream's
 * it_userspace): for each TCE the user address it maps and its permission
 * bits (ua | R | W; 0 is a clear TCE), in leaves of 512 entries made on
 * first use.  A valid TCE is mapped, page by page (never as a larger IOMMU
 * page, so that one TCE can be replaced or cleared alone), into every
 * IOMMU domain of the container, and counts itself in the Prereg its page
 * comes from (Prereg::used), so that the region cannot be unregistered
 * while a TCE points into it.
 *
 * Ownership: a SpaprTce owns its window.  Locking: none of its own; the
 * container that lends the TceContext holds its lock_ for every call.
 */
#ifndef VFIO_CXX_TCE_WINDOW_H
#define VFIO_CXX_TCE_WINDOW_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/base.h>

#include "domains.h"
#include "prereg.h"

namespace vfio_cxx {

namespace spapr {
/* TCE permission bits in a shadow entry (the user address is page-aligned). */
constexpr u64 TCE_READ = 1;
constexpr u64 TCE_WRITE = 2;
constexpr u64 TCE_PERM = TCE_READ | TCE_WRITE;
/* What GET_INFO reports (Documentation/uapi.rst). */
constexpr u32 MAX_LEVELS = 5;		/* as PowerNV (POWERNV_IOMMU_MAX_LEVELS) */
constexpr u64 DMA32_WINDOW_MAX = u64(1) << 31; /* the default window: at most 2 GiB */

/*
 * The bytes upstream charges to locked_vm for a window's table
 * (pnv_pci_ioda2_get_table_size: the hardware table and its userspace
 * shadow, every level as if full), or 0 for parameters it refuses (levels
 * 0 or above MAX_LEVELS, a window size that is not a power of two or is
 * smaller than one TCE page).
 */
u64 table_bytes(u32 page_shift, u64 window_size, u32 levels) noexcept;
} /* namespace spapr */

/*
 * What a window's TCEs live in, lent by their container for one call
 * (its lock_ held): the domains each valid TCE is mapped into, the regions
 * its page comes from, and the counters netlink reads.
 */
struct TceContext {
	List<Domain, &Domain::node> &domains;
	PreregSet &regions;
	SerialCounter &mappings;
	SerialCounter &mapped_bytes;
};

class TceWindow {
public:
	static constexpr u32 LEAF_SHIFT = 9;
	static constexpr u64 LEAF_ENTRIES = u64(1) << LEAF_SHIFT;

	/* A window of size bytes at start, charged `locked` pages; init() before use. */
	TceWindow(u64 start, u64 size, u32 page_shift, u32 levels, u64 locked) noexcept
		: start(start), size(size), page_shift(page_shift), levels(levels), locked(locked)
	{
	}
	VFIO_CXX_NO_COPY(TceWindow);
	/* Frees the leaves; the caller cleared every TCE first (valid() == 0). */
	~TceWindow();
	/* The leaf directory: 0 or -ENOMEM. */
	[[nodiscard]] int init() noexcept;

	u64 last() const noexcept { return start + size - 1; }
	u64 entries() const noexcept { return size >> page_shift; }
	bool contains(u64 iova) const noexcept { return iova >= start && iova <= last(); }
	u64 iova_of(u64 idx) const noexcept { return start + (idx << page_shift); }
	/* The TCE of iova (contains(iova)). */
	u64 index_of(u64 iova) const noexcept { return (iova - start) >> page_shift; }
	/*
	 * Whether n TCEs from iova (contains(iova)) are all in the window, iova
	 * TCE-aligned: iommu_tce_check_ioba, for the whole range.
	 */
	bool holds(u64 iova, u64 n) const noexcept
	{
		return !(iova & ((u64(1) << page_shift) - 1)) && n <= entries() - index_of(iova);
	}
	/* The entry of TCE idx (< entries()): ua | perm, or 0. */
	u64 get(u64 idx) const noexcept
	{
		const u64 *leaf = dir_[idx >> LEAF_SHIFT].leaf;
		return leaf ? leaf[idx & (LEAF_ENTRIES - 1)] : 0;
	}
	/* Set TCE idx to v (0 clears; a leaf emptied goes): 0 or -ENOMEM (only when v != 0). */
	[[nodiscard]] int set(u64 idx, u64 v) noexcept;
	/* Valid TCEs in the window, and in [first, first + n). */
	u64 valid() const noexcept { return valid_; }
	bool any_valid(u64 first, u64 n) const noexcept;
	/*
	 * fn(idx, n) for each run of consecutive valid TCEs in [first, first +
	 * n), in order; leaves with no entry are skipped whole.  fn may clear
	 * the entries of its run.
	 */
	template <class F>
	void for_each_run(u64 first, u64 n, F &&fn) noexcept
	{
		const u64 end = first + n;
		u64 idx = first;
		while (idx < end) {
			if (!dir_[idx >> LEAF_SHIFT].leaf) {
				idx = ((idx >> LEAF_SHIFT) + 1) << LEAF_SHIFT;
				continue;
			}
			if (!get(idx)) {
				idx++;
				continue;
			}
			u64 run = 1;
			while (idx + run < end && get(idx + run))
				run++;
			fn(idx, run);
			idx += run;
		}
	}
	/* Bytes of the shadow table now (directory and leaves). */
	u64 bytes() const noexcept;

	/*
	 * MAP_DMA's work: TCEs [first, first + n) from vaddr on with perm
	 * (spapr::TCE_*), replacing valid ones; every page must lie in one of
	 * c's regions (-EINVAL, before anything changes).  All or nothing: on
	 * failure (-ENOMEM, an IOMMU map's errno) every TCE is as it was.
	 */
	[[nodiscard]] int build(TceContext &c, u64 first, u64 vaddr, u64 n, u64 perm) noexcept;
	/* Clear the valid TCEs of [first, first + n): out of every domain and region. */
	void clear(TceContext &c, u64 first, u64 n) noexcept;
	/* Map every valid TCE into fresh (a group's new domain); on failure none stays. */
	[[nodiscard]] int replay(TceContext &c, Domain &fresh) noexcept;

	const u64 start;
	const u64 size;
	const u32 page_shift;
	const u32 levels; /* as created; the shadow table has two levels whatever it says */
	const u64 locked; /* pages charged to the bound mm's locked_vm (spapr::table_bytes) */

private:
	int put(TceContext &c, u64 idx, u64 tce, Prereg **hint) noexcept;

	struct Slot {
		u64 *leaf;
		u64 count; /* valid entries in leaf */
	};
	u64 nslots() const noexcept { return (entries() + LEAF_ENTRIES - 1) >> LEAF_SHIFT; }

	Slot *dir_ = nullptr;
	u64 valid_ = 0;
	u64 leaves_ = 0;
};

} /* namespace vfio_cxx */

#endif
