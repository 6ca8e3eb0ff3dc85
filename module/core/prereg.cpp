// SPDX-License-Identifier: GPL-2.0
/*
 * Per-container preregistered memory (seeds 000/002): the PreregSet
 * (prereg.h) with its registration and release, and the container's
 * registration ioctls, Type1's (VFIO_CXX_IOMMU) and sPAPR's.  Behaviour
 * numbers refer to Documentation/requirements.rst.
 *
 * Every mm kept here is held by mm_count (mmgrab), never mm_users (B40):
 * the container's prereg owner (PreregSet, prereg.h), each Dma's owner, and the MMU
 * notifier of a watched mm.  Releasing the container therefore frees every
 * region at once, whatever else holds the mm (B37), and uses no task.
 *
 * Locking: the registration ioctls run under lock_ (prereg_ioctl takes it;
 * spapr_register runs under spapr_ioctl's); mm_released takes devices_lock_
 * then lock_, waiting, or only trying from the MMU notifier; SharedRegion's
 * REGIONS lock comes last and is never held while pinning (shared_region.h).
 */
#include "container.h"
#include "prereg.h"
#include "registry.h"
#include "accounting.h"
#include "pinning.h"
#include "shared_region.h"
#include "uarg.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/* ---- the set of regions (prereg.h) ---------------------------------------- */

const RunList &Prereg::pins() const noexcept
{
	return shared ? shared->runs : runs;
}


PreregSet::~PreregSet()
{
	if (!regions_.empty())
		VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: preregistered region left at container free");
	if (mm_)
		kapi_mm_drop(mm_);
}

bool PreregSet::owned_by_current() const noexcept
{
	return mm_ && kapi_mm_is_current(mm_);
}

Prereg *PreregSet::find(kapi_mm *mm, u64 vaddr, u64 size) noexcept
{
	if (!mm || mm != mm_)
		return nullptr;
	for (Prereg &p : regions_)
		if (p.contains(vaddr, size))
			return &p;
	return nullptr;
}

Prereg *PreregSet::find_exact(u64 vaddr, u64 size) noexcept
{
	for (Prereg &p : regions_)
		if (p.vaddr == vaddr && p.size == size)
			return &p;
	return nullptr;
}

int PreregSet::check_new(u64 vaddr, u64 size) noexcept
{
	for (Prereg &p : regions_) {
		if (p.vaddr == vaddr && p.size == size)
			return -err::BUSY; /* B33: nothing changes, no count raised */
		if (vaddr <= p.last() && vaddr + size - 1 >= p.vaddr)
			return -err::INVAL;
	}
	return 0;
}

void PreregSet::add(Prereg &p, MmRef &new_mm) noexcept
{
	if (!mm_)
		mm_ = new_mm.release();
	regions_.push_back(p);
}

void PreregSet::free(Prereg &p) noexcept
{
	lock_.assert_held();
	const u64 npages = p.size >> abi::PAGE_SHIFT;
	if (p.shared) {
		p.shared->put(); /* the last container's reference unpins and uncharges */
	} else {
		unpin_runs(p.runs, true); /* devices may have written anywhere */
		uncharge(mm_, p.locked);
		g_stats.prereg_pages.sub(npages);
	}
	regions_.remove(p);
	delete &p;
	/* The last region gone: another mm may register next (issue 11 item 9). */
	if (regions_.empty() && mm_) {
		kapi_mm_drop(mm_);
		mm_ = nullptr;
	}
	pages_.sub(npages);
}

u64 PreregSet::bytes() noexcept
{
	u64 n = 0;
	for (Prereg &p : regions_)
		n += p.size;
	return n;
}

int PreregSet::register_region(u64 vaddr, u64 size, bool shared, FnRef<int(kapi_mm *)> watch,
				DeniedCharge *denied) noexcept
{
	lock_.assert_held();
	/* B41: every region of a container belongs to one mm. */
	if (mm_ && !owned_by_current())
		return -err::PERM;
	if (int ret = check_new(vaddr, size))
		return ret;
	/* A new owner mm's reference, until the region is in (issue 11 item 9). */
	MmRef new_mm(mm_ ? nullptr : kapi_mm_grab_current());
	kapi_mm *mm = mm_ ? mm_ : new_mm.get();
	if (!mm)
		return -err::SRCH;

	const u64 npages = size >> abi::PAGE_SHIFT;
	Owned<Prereg> p(make<Prereg>(vaddr, size));
	if (!p)
		return -err::NOMEM;
	const u64 limit = kapi_rlimit_memlock_pages();
	if (shared) {
		/* sPAPR: the mm's region, pinned and charged once for all its containers. */
		u64 refused = 0;
		int ret = SharedRegion::acquire(mm, vaddr, size, kapi_capable_ipc_lock(), limit,
						&p->shared, &refused);
		if (refused)
			denied->deny(refused, limit);
		if (!ret)
			ret = watch(mm);
		if (ret) {
			if (p->shared)
				p->shared->put();
			return ret;
		}
		pages_.add(npages);
		add(*p.release(), new_mm);
		return 0;
	}
	LockedVmCharge charge(mm, kapi_capable_ipc_lock(), limit);
	int ret = charge.charge(npages);
	if (ret == -err::NOMEM)
		denied->deny(npages, limit);
	if (ret)
		return ret;
	PinnedRuns pinned(p->runs);
	ret = pinned.pin(mm, vaddr, npages, true);
	/* RAM only (as sPAPR): MMIO cannot be registered. */
	if (!ret && p->runs.reserved_pages())
		ret = -err::FAULT;
	if (!ret)
		ret = watch(mm);
	if (ret)
		return ret; /* pins, charge and the new mm's reference give themselves back */
	pinned.keep();
	p->locked = charge.commit();
	pages_.add(npages);
	g_stats.prereg_pages.add(npages);
	add(*p.release(), new_mm);
	return 0;
}

int PreregSet::unregister_region(u64 vaddr, u64 size) noexcept
{
	lock_.assert_held();
	if (mm_ && !owned_by_current())
		return -err::PERM;
	Prereg *p = find_exact(vaddr, size);
	if (!p)
		return -err::NOENT; /* B35 */
	if (p->used)
		return -err::BUSY; /* B36: the region stays */
	free(*p);
	return 0;
}

/* ---- the container's registration ioctls --------------------------------- */

int Container::register_memory(u64 vaddr, u64 size) noexcept
{
	lock_.assert_held();
	DeniedCharge denied;
	int ret = preregs_.register_region(vaddr, size, spapr_.get() != nullptr,
					   [this](kapi_mm *mm) { return watch_mm(mm); }, &denied);
	report_denied(denied);
	return ret;
}

long Container::prereg_ioctl(unsigned long arg, bool reg) noexcept
{
	abi::RegisterMemory r;
	if (int ret = copy_arg(r, arg, abi::REGISTER_MEMORY_MINSZ))
		return ret;
	if (!region_valid(r.vaddr, r.size))
		return -err::INVAL;
	Guard guard(lock_);
	if (closed_)
		return -err::NODEV;
	return reg ? register_memory(r.vaddr, r.size) : preregs_.unregister_region(r.vaddr, r.size);
}

/*
 * sPAPR's REGISTER/UNREGISTER (lock_ held by spapr_ioctl): REGISTER binds
 * the mm before it reads its argument, as upstream; the first success lets
 * MAP and UNMAP in.
 */
long Container::spapr_register(unsigned long arg, bool reg) noexcept
{
	lock_.assert_held();
	if (reg) {
		if (int ret = spapr_->bind_mm())
			return ret;
	} else if (!spapr_->bound()) {
		return -err::PERM;
	}
	abi::RegisterMemory r;
	if (int ret = copy_arg(r, arg, abi::REGISTER_MEMORY_MINSZ))
		return ret;
	/* B32 (upstream lets size 0 fail later, with -ENOMEM: differences.rst) */
	if (!region_valid(r.vaddr, r.size))
		return -err::INVAL;
	if (!reg)
		return preregs_.unregister_region(r.vaddr, r.size);
	int ret = register_memory(r.vaddr, r.size);
	if (!ret)
		spapr_->enable();
	return ret;
}

} /* namespace vfio_cxx */
