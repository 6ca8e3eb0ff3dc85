// SPDX-License-Identifier: GPL-2.0
/*
 * The preregistered regions sPAPR containers share per mm (shared_region.h).
 *
 * Locking: g_shared and every SharedRegion::refs under kapi_regions_mutex()
 * (KAPI_LOCK_REGIONS, after every container lock).  Pinning and charging
 * happen with it dropped; a registration that raced with another one of
 * the same mm looks again before it publishes, and gives back what it
 * pinned if it lost.  The walk under the lock covers the shared regions
 * only, each of them pinned and charged to its mm's RLIMIT_MEMLOCK.
 */
#include "shared_region.h"
#include "container.h"
#include "pinning.h"

#include <vfio_cxx/errno.h>

namespace vfio_cxx {

namespace {

constinit List<SharedRegion, &SharedRegion::node> g_shared;

class [[nodiscard]] RegionsGuard : public StaticGuard {
public:
	RegionsGuard() noexcept : StaticGuard(kapi_regions_mutex()) {}
};

} /* namespace */

SharedRegion::~SharedRegion()
{
	kapi_free(pfns_);
	unpin_runs(runs, true); /* devices may have written anywhere */
	uncharge(mm_, locked);
	kapi_mm_drop(mm_);
}

int SharedRegion::acquire(kapi_mm *mm, u64 vaddr, u64 size, bool lock_cap, u64 limit,
			  SharedRegion **out, u64 *denied) noexcept
{
	/* Registered already by another container of mm: one more reference. */
	auto lookup = [&](int *ret) -> SharedRegion * {
		for (SharedRegion &r : g_shared) {
			if (r.mm_ != mm)
				continue;
			if (r.vaddr == vaddr && r.size == size)
				return &r;
			if (r.overlaps(vaddr, size)) {
				*ret = -err::INVAL;
				return nullptr;
			}
		}
		return nullptr;
	};
	{
		RegionsGuard g;
		int ret = 0;
		if (SharedRegion *r = lookup(&ret)) {
			r->refs++;
			*out = r;
			return 0;
		}
		if (ret)
			return ret;
	}

	kapi_mm_grab(mm);
	Owned<SharedRegion> fresh(make<SharedRegion>(mm, vaddr, size));
	if (!fresh) {
		kapi_mm_drop(mm);
		return -err::NOMEM;
	}
	const u64 npages = size >> abi::PAGE_SHIFT;
	LockedVmCharge charge(mm, lock_cap, limit);
	int ret = charge.charge(npages);
	if (ret == -err::NOMEM)
		*denied = npages;
	if (ret)
		return ret; /* fresh gives its mm reference back */
	PinnedRuns pinned(fresh->runs);
	ret = pinned.pin(mm, vaddr, npages, true);
	/* RAM only (as sPAPR): MMIO cannot be registered. */
	if (!ret && fresh->runs.reserved_pages())
		ret = -err::FAULT;
	if (!ret) {
		fresh->pfns_ = static_cast<u64 *>(kapi_alloc(npages * sizeof(u64)));
		ret = fresh->pfns_ ? 0 : -err::NOMEM;
	}
	if (ret)
		return ret;
	u64 *pfns = fresh->pfns_;
	fresh->runs.for_each([pfns](u64 off, const PinRun &r) {
		for (u64 k = 0; k < r.npages; k++)
			pfns[off + k] = (r.pfn & ~KAPI_PFN_RESERVED) + k;
	});

	RegionsGuard g;
	/* Another container of mm may have registered it meanwhile: use that one. */
	if (SharedRegion *r = lookup(&ret)) {
		r->refs++;
		*out = r;
		return 0; /* what this call pinned and charged goes back */
	}
	if (ret)
		return ret;
	pinned.keep();
	fresh->locked = charge.commit();
	g_stats.prereg_pages.add(npages);
	*out = fresh.release();
	g_shared.push_back(**out);
	return 0;
}

void SharedRegion::put() noexcept
{
	{
		RegionsGuard g;
		if (--refs)
			return;
		g_shared.remove(*this);
	}
	g_stats.prereg_pages.sub(pages());
	delete this;
}

} /* namespace vfio_cxx */
