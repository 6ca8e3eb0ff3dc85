// SPDX-License-Identifier: GPL-2.0
/*
 * A sPAPR DMA window's TCEs (tce_window.h has the model): the table charge
 * upstream makes, the shadow table, and each TCE's mapping into the IOMMU
 * domains of its container, page by page.
 *
 * Locking: none of its own.  Every call runs under the lock_ of the
 * container that lends the TceContext; nothing here takes another lock
 * besides what kapi_domain_map_segs/unmap take inside the IOMMU driver.
 */
#include "tce_window.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

#include "shared_region.h"

namespace vfio_cxx {

/* ---- the table charge and the shadow table (spapr.h) ---------------------- */

u64 spapr::table_bytes(u32 page_shift, u64 window_size, u32 levels) noexcept
{
	if (!levels || levels > MAX_LEVELS || !window_size || (window_size & (window_size - 1)))
		return 0;
	if (page_shift >= 64 || window_size < (u64(1) << page_shift))
		return 0;
	const u32 window_shift = static_cast<u32>(__builtin_ctzll(window_size));
	u32 entries_shift = window_shift - page_shift;
	u64 tce_table_size = entries_shift + 3 >= 64 ? 0 : u64(1) << (entries_shift + 3);
	if (tce_table_size < 0x1000)
		tce_table_size = 0x1000;
	entries_shift = (entries_shift + levels - 1) / levels;
	u32 table_shift = entries_shift + 3;
	if (table_shift < abi::PAGE_SHIFT)
		table_shift = abi::PAGE_SHIFT;
	const u64 direct = u64(1) << table_shift;
	u64 bytes = 0;
	for (; levels; --levels) {
		bytes += (tce_table_size + direct - 1) & ~(direct - 1);
		tce_table_size /= direct;
		tce_table_size <<= 3;
		if (tce_table_size < direct)
			tce_table_size = direct;
	}
	return bytes + bytes; /* the hardware table and its userspace copy */
}

TceWindow::~TceWindow()
{
	if (!dir_)
		return;
	if (valid_)
		VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: TCE window freed with valid entries");
	for (u64 i = 0; i < nslots(); i++)
		kapi_free(dir_[i].leaf);
	kapi_free(dir_);
}

int TceWindow::init() noexcept
{
	dir_ = static_cast<Slot *>(kapi_alloc(nslots() * sizeof(Slot)));
	return dir_ ? 0 : -err::NOMEM;
}

int TceWindow::set(u64 idx, u64 v) noexcept
{
	Slot &s = dir_[idx >> LEAF_SHIFT];
	if (!s.leaf) {
		if (!v)
			return 0;
		s.leaf = static_cast<u64 *>(kapi_alloc(LEAF_ENTRIES * sizeof(u64)));
		if (!s.leaf)
			return -err::NOMEM;
		leaves_++;
	}
	u64 &e = s.leaf[idx & (LEAF_ENTRIES - 1)];
	if (e && !v) {
		valid_--;
		if (--s.count == 0) {
			kapi_free(s.leaf);
			s.leaf = nullptr;
			leaves_--;
			return 0;
		}
	} else if (!e && v) {
		valid_++;
		s.count++;
	}
	e = v;
	return 0;
}

bool TceWindow::any_valid(u64 first, u64 n) const noexcept
{
	for (u64 idx = first; idx < first + n; idx++) {
		if (!dir_[idx >> LEAF_SHIFT].leaf) {
			idx = (((idx >> LEAF_SHIFT) + 1) << LEAF_SHIFT) - 1;
			continue;
		}
		if (get(idx))
			return true;
	}
	return false;
}

u64 TceWindow::bytes() const noexcept
{
	return nslots() * sizeof(Slot) + leaves_ * LEAF_ENTRIES * sizeof(u64);
}

/* ---- TCEs in the domains (lock_ of the context's container held) ---------- */

namespace {
int tce_prot(u64 tce) noexcept
{
	/* As on POWER (pnv_tce_xchg), a writable TCE is readable too. */
	int prot = KAPI_IOMMU_READ;
	if (tce & spapr::TCE_WRITE)
		prot |= KAPI_IOMMU_WRITE;
	return prot;
}
} /* namespace */

/* The region holding user page ua: hint when it does (runs of TCEs are mostly in one), else a search. */
static Prereg *region_of(PreregSet &regions, u64 ua, Prereg *hint) noexcept
{
	if (hint && hint->contains(ua, abi::PAGE_SIZE))
		return hint;
	return regions.find(regions.mm(), ua, abi::PAGE_SIZE);
}

/* The PFN of user page ua of region p: a sPAPR region is always its mm's SharedRegion. */
static u64 pfn_of(const Prereg &p, u64 ua) noexcept
{
	return p.shared->pfn_at((ua - p.vaddr) >> abi::PAGE_SHIFT);
}

/*
 * Make TCE idx point at user address tce & PAGE_MASK with tce's permission
 * bits: into the shadow table, into every domain, counted in its region
 * (one of c's; *hint, if given, is tried first and set to it).  The TCE
 * was clear.  On failure nothing of it stays.
 */
int TceWindow::put(TceContext &c, u64 idx, u64 tce, Prereg **hint) noexcept
{
	const u64 ua = tce & abi::PAGE_MASK;
	Prereg *p = region_of(c.regions, ua, hint ? *hint : nullptr);
	if (!p)
		return -err::INVAL;
	if (hint)
		*hint = p;
	u64 pfn = pfn_of(*p, ua);
	u64 one = 1;
	if (int ret = set(idx, tce))
		return ret;
	const u64 iova = iova_of(idx);
	for (Domain &d : c.domains) {
		int ret = kapi_domain_map_segs(d.raw(), iova, &pfn, &one, 1, tce_prot(tce));
		if (ret) {
			for (Domain &u : c.domains) {
				if (&u == &d)
					break;
				kapi_domain_unmap(u.raw(), iova, abi::PAGE_SIZE);
			}
			(void)set(idx, 0);
			return ret;
		}
	}
	p->used++;
	c.mappings.inc();
	c.mapped_bytes.add(abi::PAGE_SIZE);
	return 0;
}

/*
 * Clear every valid TCE in [first, first + n): out of every domain, one
 * unmap per run of valid TCEs (a clear one would end an IOMMU unmap early),
 * and out of its region's count.  Clear TCEs are fine (as upstream).
 */
void TceWindow::clear(TceContext &c, u64 first, u64 n) noexcept
{
	Prereg *hint = nullptr;
	for_each_run(first, n, [&](u64 idx, u64 run) {
		const u64 iova = iova_of(idx);
		for (Domain &d : c.domains)
			kapi_domain_unmap(d.raw(), iova, run << page_shift);
		for (u64 i = idx; i < idx + run; i++) {
			const u64 ua = get(i) & abi::PAGE_MASK;
			if ((hint = region_of(c.regions, ua, hint)))
				hint->used--;
			else
				VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: TCE without its region");
			(void)set(i, 0);
			if ((i & 511) == 511)
				kapi_cond_resched();
		}
		c.mappings.sub(run);
		c.mapped_bytes.sub(run << page_shift);
	});
}

/*
 * MAP_DMA's work: TCEs [first, first + n) from vaddr on, replacing valid
 * ones.  Every page is checked first (each must lie in a region of the
 * bound mm: -EINVAL), so that only a failing allocation or IOMMU map can
 * stop it half-way; then everything it did is undone and the TCEs it
 * replaced are put back: all or nothing.
 */
int TceWindow::build(TceContext &c, u64 first, u64 vaddr, u64 n, u64 perm) noexcept
{
	Prereg *hint = nullptr;
	for (u64 i = 0; i < n; i++) {
		if (!(hint = region_of(c.regions, vaddr + (i << abi::PAGE_SHIFT), hint)))
			return -err::INVAL;
		if ((i & 511) == 511)
			kapi_cond_resched();
	}
	/* What a replace overwrites, to put back on failure. */
	using Buffer = Owned<u64, CallFree<void, kapi_free>>;
	Buffer old;
	if (any_valid(first, n)) {
		old = Buffer(static_cast<u64 *>(kapi_alloc(n * sizeof(u64))));
		if (!old)
			return -err::NOMEM;
	}
	u64 i = 0;
	int ret = 0;
	for (; i < n; i++) {
		const u64 idx = first + i;
		if (old) {
			old.get()[i] = get(idx);
			if (old.get()[i])
				clear(c, idx, 1);
		}
		ret = put(c, idx, (vaddr + (i << abi::PAGE_SHIFT)) | perm, &hint);
		if (ret)
			break;
		if ((i & 511) == 511)
			kapi_cond_resched();
	}
	if (!ret)
		return 0;
	clear(c, first, i);
	if (old)
		for (u64 j = 0; j <= i && j < n; j++)
			if (old.get()[j] && put(c, first + j, old.get()[j], nullptr))
				kapi_log(KAPI_LOG_WARN,
					 "vfio_iommu_cxx: TCE at 0x%llx lost in a failed MAP_DMA's rollback\n",
					 iova_of(first + j));
	return ret;
}

int TceWindow::replay(TceContext &c, Domain &fresh) noexcept
{
	int ret = 0;
	u64 done = 0; /* TCEs [0, done) are replayed */
	Prereg *p = nullptr;
	for_each_run(0, entries(), [&](u64 idx, u64 run) {
		for (u64 i = idx; i < idx + run && !ret; i++) {
			const u64 tce = get(i);
			p = region_of(c.regions, tce & abi::PAGE_MASK, p);
			u64 pfn = pfn_of(*p, tce & abi::PAGE_MASK);
			u64 one = 1;
			ret = kapi_domain_map_segs(fresh.raw(), iova_of(i), &pfn, &one, 1, tce_prot(tce));
			if (!ret)
				done = i + 1;
			if ((i & 511) == 511)
				kapi_cond_resched();
		}
	});
	if (!ret)
		return 0;
	for_each_run(0, done, [&](u64 idx, u64 run) {
		kapi_domain_unmap(fresh.raw(), iova_of(idx), run << page_shift);
	});
	return ret;
}

} /* namespace vfio_cxx */
