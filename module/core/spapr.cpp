// SPDX-License-Identifier: GPL-2.0
/*
 * The sPAPR TCE v2 user API (VFIO_SPAPR_TCE_v2_IOMMU) on x86 paging domains,
 * for QEMU's pseries machine and other sPAPR clients (issue 14; spapr.h has
 * the model).  Each ioctl makes the checks of drivers/vfio/
 * vfio_iommu_spapr_tce.c (6.12) in its order and with its errnos, except
 * where Documentation/differences.rst ("sPAPR TCE v2") says why not.
 *
 * The preregistered regions are the container's PreregSet (prereg.cpp),
 * registered with the same checks, each a reference to its mm's
 * SharedRegion (shared_region.h); a MAP_DMA takes its pages from them and
 * never pins.  The window and its TCEs are the container's own.
 *
 * Locking: every ioctl here runs under lock_ from its first check on (the
 * bound-mm test must see a binding made by a concurrent ioctl); attach and
 * detach (domains.cpp) hold devices_lock_ and lock_.  Nothing here takes
 * devices_lock_: a sPAPR container has no emulated devices.
 */
#include "container.h"
#include "spapr.h"
#include "registry.h"
#include "shared_region.h"
#include "uarg.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

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

/* Map every valid TCE into the fresh domain (attach of an incompatible group). */
int Container::spapr_replay(Domain &fresh) noexcept
{
	lock_.assert_held();
	TceWindow *w = spapr_->window.get();
	if (!w)
		return 0;
	TceContext c = tce_context();
	return w->replay(c, fresh);
}

bool Container::spapr_fits(const IovaList &next) noexcept
{
	lock_.assert_held();
	const TceWindow *w = spapr_->window.get();
	return !w || next.allows(w->start, w->last());
}

/* ---- windows ---------------------------------------------------------------- */

/*
 * The size of the default window (GET_INFO's dma32_window_size): the
 * largest power of two up to 2 GiB from bus address 0 on that every
 * attached group's aperture and reserved regions allow, or 0.
 */
u64 Container::spapr_dma32_size() noexcept
{
	lock_.assert_held();
	for (u64 s = spapr::DMA32_WINDOW_MAX; s >= abi::PAGE_SIZE; s >>= 1)
		if (iovas_.allows(0, s - 1))
			return s;
	return 0;
}

/* tce_iommu_create_window: slot 0 at bus address 0. */
int Container::spapr_create(u32 page_shift, u64 window_size, u32 levels, u64 *start) noexcept
{
	lock_.assert_held();
	if (spapr_->window)
		return -err::NOSPC; /* one window only */
	if (page_shift >= 64 || !(spapr_pgsizes() & (u64(1) << page_shift)))
		return -err::INVAL;
	const u64 bytes = spapr::table_bytes(page_shift, window_size, levels);
	if (!bytes)
		return -err::INVAL;
	const u64 pages = bytes >> abi::PAGE_SHIFT;
	LockedVmCharge charge(spapr_->mm.get(), kapi_capable_ipc_lock(), kapi_rlimit_memlock_pages());
	int ret = charge.charge(pages);
	if (ret == -err::NOMEM)
		Registry::memlock_denied(*this, pages, kapi_rlimit_memlock_pages());
	if (ret)
		return ret;
	/* The platform's part: the window must lie in what every group can reach. */
	if (!iovas_.allows(0, window_size - 1))
		return -err::INVAL;
	Owned<TceWindow> w(make<TceWindow>(u64(0), window_size, page_shift, levels, pages));
	if (!w || w->init())
		return -err::NOMEM;
	spapr_->window = move(w);
	sum_.locked_pages.add(charge.commit());
	*start = 0;
	return 0;
}

int Container::spapr_default_window() noexcept
{
	lock_.assert_held();
	if (!spapr_->def_window_pending)
		return 0;
	if (groups_.empty())
		return -err::NODEV;
	u64 start;
	int ret = spapr_create(abi::PAGE_SHIFT, spapr_dma32_size(), 1, &start);
	if (!ret)
		spapr_->def_window_pending = false;
	return ret;
}

/* Clear, free and uncharge the window (REMOVE, release, the owner's exit). */
void Container::spapr_free_window() noexcept
{
	lock_.assert_held();
	TceWindow *w = spapr_->window.get();
	if (!w)
		return;
	TceContext c = tce_context();
	w->clear(c, 0, w->entries());
	const u64 pages = w->locked;
	spapr_->window.reset();
	uncharge(spapr_->mm.get(), pages);
	sum_.locked_pages.sub(pages);
}

u64 Container::spapr_pgsizes() noexcept
{
	lock_.assert_held();
	/* TCEs of one base page only (spapr.h: a TCE is mapped page by page). */
	return pgsize_bitmap_ & abi::PAGE_SIZE;
}

/* ---- the ioctls -------------------------------------------------------------- */

/* tce_iommu_mm_set: bind the calling process's mm, or check it is the bound one. */
int Container::spapr_bind_mm() noexcept
{
	lock_.assert_held();
	if (spapr_->mm)
		return kapi_mm_is_current(spapr_->mm.get()) ? 0 : -err::PERM;
	spapr_->mm = MmRef(kapi_mm_grab_current());
	return spapr_->mm ? 0 : -err::SRCH;
}

long Container::spapr_get_info(unsigned long arg) noexcept
{
	lock_.assert_held();
	if (groups_.empty())
		return -err::NXIO;
	abi::SpaprTceInfo info{};
	if (kapi_copy_from_user(&info, arg, abi::SPAPR_TCE_INFO_MINSZ))
		return -err::FAULT;
	if (info.argsz < abi::SPAPR_TCE_INFO_MINSZ)
		return -err::INVAL;
	info.dma32_window_start = 0;
	info.dma32_window_size = static_cast<u32>(spapr_dma32_size());
	info.flags = abi::SPAPR_INFO_DDW;
	info.pgsizes = spapr_pgsizes();
	info.max_dynamic_windows_supported = 1;
	info.levels = spapr::MAX_LEVELS;
	const u32 n = info.argsz >= sizeof(info) ? sizeof(info) : abi::SPAPR_TCE_INFO_MINSZ;
	return kapi_copy_to_user(arg, &info, n) ? -err::FAULT : 0;
}

/* MAP's and UNMAP's window: the pending default one made first; -ENXIO if iova is in none. */
int Container::spapr_window_of(u64 iova, TceWindow **out) noexcept
{
	lock_.assert_held();
	if (int ret = spapr_default_window())
		return ret;
	TceWindow *w = spapr_->window.get();
	if (!w || !w->contains(iova))
		return -err::NXIO;
	*out = w;
	return 0;
}

long Container::spapr_map(unsigned long arg) noexcept
{
	lock_.assert_held();
	if (!spapr_->enabled)
		return -err::PERM;
	abi::DmaMap map;
	if (kapi_copy_from_user(&map, arg, abi::DMA_MAP_MINSZ))
		return -err::FAULT;
	if (map.argsz < abi::DMA_MAP_MINSZ)
		return -err::INVAL;
	if (map.flags & ~(abi::DMA_MAP_FLAG_READ | abi::DMA_MAP_FLAG_WRITE))
		return -err::INVAL;
	TceWindow *w = nullptr;
	if (int ret = spapr_window_of(map.iova, &w))
		return ret;
	const u64 mask = (u64(1) << w->page_shift) - 1;
	if ((map.size & mask) || (map.vaddr & mask))
		return -err::INVAL;
	u64 perm = 0;
	if (map.flags & abi::DMA_MAP_FLAG_READ)
		perm |= spapr::TCE_READ;
	if (map.flags & abi::DMA_MAP_FLAG_WRITE)
		perm |= spapr::TCE_WRITE;
	if (!perm)
		return -err::INVAL;
	/*
	 * iommu_tce_put_param_check: the iova aligned and in the window.  Upstream
	 * checks the first TCE only; the whole range is (differences.rst).
	 */
	const u64 n = map.size >> w->page_shift;
	if (!w->holds(map.iova, n))
		return -err::INVAL;
	if (!n)
		return 0;
	if (map.vaddr + map.size - 1 < map.vaddr)
		return -err::INVAL; /* no region holds a wrapping range */
	TceContext c = tce_context();
	return w->build(c, w->index_of(map.iova), map.vaddr, n, perm);
}

long Container::spapr_unmap(unsigned long arg) noexcept
{
	lock_.assert_held();
	if (!spapr_->enabled)
		return -err::PERM;
	abi::DmaUnmap unmap;
	if (kapi_copy_from_user(&unmap, arg, abi::DMA_UNMAP_MINSZ))
		return -err::FAULT;
	if (unmap.argsz < abi::DMA_UNMAP_MINSZ || unmap.flags)
		return -err::INVAL;
	TceWindow *w = nullptr;
	if (int ret = spapr_window_of(unmap.iova, &w))
		return ret;
	const u64 mask = (u64(1) << w->page_shift) - 1;
	if (unmap.size & mask)
		return -err::INVAL;
	/* iommu_tce_clear_param_check (whose failure upstream returns as 1: differences.rst) */
	const u64 n = unmap.size >> w->page_shift;
	if (!w->holds(unmap.iova, n))
		return -err::INVAL;
	TceContext c = tce_context();
	w->clear(c, w->index_of(unmap.iova), n);
	return 0;
}

long Container::spapr_register(unsigned long arg, bool reg) noexcept
{
	lock_.assert_held();
	if (reg) {
		if (int ret = spapr_bind_mm())
			return ret; /* before the arguments are read, as upstream */
	} else if (!spapr_->mm) {
		return -err::PERM;
	}
	abi::RegisterMemory r;
	if (int ret = copy_arg(r, arg, abi::REGISTER_MEMORY_MINSZ))
		return ret;
	/* B32 (upstream lets size 0 fail later, with -ENOMEM: differences.rst) */
	if (!region_valid(r.vaddr, r.size))
		return -err::INVAL;
	if (!reg)
		return unregister_memory(r.vaddr, r.size);
	int ret = register_memory(r.vaddr, r.size);
	if (!ret)
		spapr_->enabled = true;
	return ret;
}

/* CREATE's and REMOVE's first checks: the mm bound (-EPERM), a group (-ENXIO). */
int Container::spapr_window_head() noexcept
{
	lock_.assert_held();
	if (int ret = spapr_bind_mm())
		return ret;
	return groups_.empty() ? -err::NXIO : 0;
}

long Container::spapr_create_ioctl(unsigned long arg) noexcept
{
	abi::SpaprTceCreate c;
	int ret = spapr_window_head();
	if (!ret)
		ret = copy_arg(c, arg, abi::SPAPR_TCE_CREATE_MINSZ);
	if (!ret)
		ret = spapr_default_window();
	if (!ret)
		ret = spapr_create(c.page_shift, c.window_size, c.levels, &c.start_addr);
	if (!ret && kapi_copy_to_user(arg, &c, abi::SPAPR_TCE_CREATE_MINSZ))
		ret = -err::FAULT; /* the window stays, as upstream */
	return ret;
}

long Container::spapr_remove_ioctl(unsigned long arg) noexcept
{
	abi::SpaprTceRemove r;
	int ret = spapr_window_head();
	if (!ret)
		ret = copy_arg(r, arg, abi::SPAPR_TCE_REMOVE_MINSZ);
	if (ret)
		return ret;
	if (spapr_->def_window_pending && !r.start_addr) {
		spapr_->def_window_pending = false;
		return 0;
	}
	/* The window's exact start only (upstream takes any address inside: differences.rst). */
	TceWindow *w = spapr_->window.get();
	if (!w || r.start_addr != w->start)
		return -err::INVAL;
	spapr_free_window();
	return 0;
}

long Container::spapr_ioctl(unsigned int cmd, unsigned long arg) noexcept
{
	if (cmd == abi::CHECK_EXTENSION)
		return arg == abi::SPAPR_TCE_v2_IOMMU ? 1 : 0; /* v1 and EEH are not offered */
	Guard guard(lock_);
	if (closed_)
		return -err::NODEV;
	/* One process's container cannot be driven by another (upstream's sanity check). */
	if (spapr_->mm && !kapi_mm_is_current(spapr_->mm.get()))
		return -err::PERM;
	switch (cmd) {
	case abi::SPAPR_TCE_GET_INFO:
		return spapr_get_info(arg);
	case abi::IOMMU_MAP_DMA:
		return spapr_map(arg);
	case abi::IOMMU_UNMAP_DMA:
		return spapr_unmap(arg);
	case abi::IOMMU_REGISTER_MEMORY:
		return spapr_register(arg, true);
	case abi::IOMMU_UNREGISTER_MEMORY:
		return spapr_register(arg, false);
	case abi::SPAPR_TCE_CREATE:
		return spapr_create_ioctl(arg);
	case abi::SPAPR_TCE_REMOVE:
		return spapr_remove_ioctl(arg);
	case abi::EEH_PE_OP:
		/* No group here has an EEH PE (eeh_iommu_group_to_pe() finds none). */
		return groups_.empty() ? 0 : -err::NODEV;
	default:
		return -err::NOTTY; /* VFIO_IOMMU_ENABLE/DISABLE included (v2) */
	}
}

} /* namespace vfio_cxx */
