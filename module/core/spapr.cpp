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
 * never pins.  The window and its TCEs (tce_window.cpp) are SpaprTce's.
 *
 * Locking: every call runs under the container's lock_ (Container::
 * spapr_ioctl takes it before the first check: the bound-mm test must see
 * a binding made by a concurrent ioctl; attach and detach hold it too).
 */
#include "spapr.h"
#include "uarg.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>

namespace vfio_cxx {

int SpaprTce::bind_mm() noexcept
{
	if (mm_)
		return kapi_mm_is_current(mm_.get()) ? 0 : -err::PERM;
	mm_ = MmRef(kapi_mm_grab_current());
	return mm_ ? 0 : -err::SRCH;
}

int SpaprTce::replay(SpaprEnv &env, Domain &fresh) noexcept
{
	return window_ ? window_->replay(env.tce, fresh) : 0;
}

/* ---- windows ---------------------------------------------------------------- */

u64 SpaprTce::pgsizes(const SpaprEnv &env) const noexcept
{
	/* TCEs of one base page only (tce_window.h: a TCE is mapped page by page). */
	return env.pgsize_bitmap & abi::PAGE_SIZE;
}

/*
 * The size of the default window (GET_INFO's dma32_window_size): the
 * largest power of two up to 2 GiB from bus address 0 on that every
 * attached group's aperture and reserved regions allow, or 0.
 */
u64 SpaprTce::dma32_size(const SpaprEnv &env) const noexcept
{
	for (u64 s = spapr::DMA32_WINDOW_MAX; s >= abi::PAGE_SIZE; s >>= 1)
		if (env.iovas.allows(0, s - 1))
			return s;
	return 0;
}

/* tce_iommu_create_window: slot 0 at bus address 0. */
int SpaprTce::create_window(SpaprEnv &env, u32 page_shift, u64 window_size, u32 levels,
			    u64 *start) noexcept
{
	if (window_)
		return -err::NOSPC; /* one window only */
	if (page_shift >= 64 || !(pgsizes(env) & (u64(1) << page_shift)))
		return -err::INVAL;
	const u64 bytes = spapr::table_bytes(page_shift, window_size, levels);
	if (!bytes)
		return -err::INVAL;
	const u64 pages = bytes >> abi::PAGE_SHIFT;
	const u64 limit = kapi_rlimit_memlock_pages();
	LockedVmCharge charge(mm_.get(), kapi_capable_ipc_lock(), limit);
	int ret = charge.charge(pages);
	if (ret == -err::NOMEM)
		env.denied.deny(pages, limit);
	if (ret)
		return ret;
	/* The platform's part: the window must lie in what every group can reach. */
	if (!env.iovas.allows(0, window_size - 1))
		return -err::INVAL;
	Owned<TceWindow> w(make<TceWindow>(u64(0), window_size, page_shift, levels, pages));
	if (!w || w->init())
		return -err::NOMEM;
	window_ = move(w);
	env.locked_pages.add(charge.commit());
	*start = 0;
	return 0;
}

int SpaprTce::default_window(SpaprEnv &env) noexcept
{
	if (!def_window_pending_)
		return 0;
	if (!env.has_groups)
		return -err::NODEV;
	u64 start;
	int ret = create_window(env, abi::PAGE_SHIFT, dma32_size(env), 1, &start);
	if (!ret)
		def_window_pending_ = false;
	return ret;
}

void SpaprTce::free_window(SpaprEnv &env) noexcept
{
	if (!window_)
		return;
	window_->clear(env.tce, 0, window_->entries());
	const u64 pages = window_->locked;
	window_.reset();
	uncharge(mm_.get(), pages);
	env.locked_pages.sub(pages);
}

/* ---- the ioctls -------------------------------------------------------------- */

long SpaprTce::get_info(SpaprEnv &env, unsigned long arg) noexcept
{
	if (!env.has_groups)
		return -err::NXIO;
	abi::SpaprTceInfo info{};
	if (kapi_copy_from_user(&info, arg, abi::SPAPR_TCE_INFO_MINSZ))
		return -err::FAULT;
	if (info.argsz < abi::SPAPR_TCE_INFO_MINSZ)
		return -err::INVAL;
	info.dma32_window_start = 0;
	info.dma32_window_size = static_cast<u32>(dma32_size(env));
	info.flags = abi::SPAPR_INFO_DDW;
	info.pgsizes = pgsizes(env);
	info.max_dynamic_windows_supported = 1;
	info.levels = spapr::MAX_LEVELS;
	const u32 n = info.argsz >= sizeof(info) ? sizeof(info) : abi::SPAPR_TCE_INFO_MINSZ;
	return kapi_copy_to_user(arg, &info, n) ? -err::FAULT : 0;
}

/* MAP's and UNMAP's window: the pending default one made first; -ENXIO if iova is in none. */
int SpaprTce::window_of(SpaprEnv &env, u64 iova, TceWindow **out) noexcept
{
	if (int ret = default_window(env))
		return ret;
	if (!window_ || !window_->contains(iova))
		return -err::NXIO;
	*out = window_.get();
	return 0;
}

long SpaprTce::map(SpaprEnv &env, unsigned long arg) noexcept
{
	if (!enabled_)
		return -err::PERM;
	abi::DmaMap map;
	if (kapi_copy_from_user(&map, arg, abi::DMA_MAP_MINSZ))
		return -err::FAULT;
	if (map.argsz < abi::DMA_MAP_MINSZ)
		return -err::INVAL;
	if (map.flags & ~(abi::DMA_MAP_FLAG_READ | abi::DMA_MAP_FLAG_WRITE))
		return -err::INVAL;
	TceWindow *w = nullptr;
	if (int ret = window_of(env, map.iova, &w))
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
	return w->build(env.tce, w->index_of(map.iova), map.vaddr, n, perm);
}

long SpaprTce::unmap(SpaprEnv &env, unsigned long arg) noexcept
{
	if (!enabled_)
		return -err::PERM;
	abi::DmaUnmap unmap;
	if (kapi_copy_from_user(&unmap, arg, abi::DMA_UNMAP_MINSZ))
		return -err::FAULT;
	if (unmap.argsz < abi::DMA_UNMAP_MINSZ || unmap.flags)
		return -err::INVAL;
	TceWindow *w = nullptr;
	if (int ret = window_of(env, unmap.iova, &w))
		return ret;
	const u64 mask = (u64(1) << w->page_shift) - 1;
	if (unmap.size & mask)
		return -err::INVAL;
	/* iommu_tce_clear_param_check (whose failure upstream returns as 1: differences.rst) */
	const u64 n = unmap.size >> w->page_shift;
	if (!w->holds(unmap.iova, n))
		return -err::INVAL;
	w->clear(env.tce, w->index_of(unmap.iova), n);
	return 0;
}

/* CREATE's and REMOVE's first checks: the mm bound (-EPERM), a group (-ENXIO). */
int SpaprTce::window_head(SpaprEnv &env) noexcept
{
	if (int ret = bind_mm())
		return ret;
	return env.has_groups ? 0 : -err::NXIO;
}

long SpaprTce::create(SpaprEnv &env, unsigned long arg) noexcept
{
	abi::SpaprTceCreate c;
	int ret = window_head(env);
	if (!ret)
		ret = copy_arg(c, arg, abi::SPAPR_TCE_CREATE_MINSZ);
	if (!ret)
		ret = default_window(env);
	if (!ret)
		ret = create_window(env, c.page_shift, c.window_size, c.levels, &c.start_addr);
	if (!ret && kapi_copy_to_user(arg, &c, abi::SPAPR_TCE_CREATE_MINSZ))
		ret = -err::FAULT; /* the window stays, as upstream */
	return ret;
}

long SpaprTce::remove(SpaprEnv &env, unsigned long arg) noexcept
{
	abi::SpaprTceRemove r;
	int ret = window_head(env);
	if (!ret)
		ret = copy_arg(r, arg, abi::SPAPR_TCE_REMOVE_MINSZ);
	if (ret)
		return ret;
	if (def_window_pending_ && !r.start_addr) {
		def_window_pending_ = false;
		return 0;
	}
	/* The window's exact start only (upstream takes any address inside: differences.rst). */
	if (!window_ || r.start_addr != window_->start)
		return -err::INVAL;
	free_window(env);
	return 0;
}

} /* namespace vfio_cxx */
