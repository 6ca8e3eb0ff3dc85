// SPDX-License-Identifier: GPL-2.0
/*
 * Per-container preregistered memory (seeds 000/002) and the owner-exit
 * policy (seed 004).  Behaviour numbers refer to
 * Documentation/requirements.rst.
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

u64 PreregSet::free(Prereg &p) noexcept
{
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
	return npages;
}

u64 PreregSet::bytes() noexcept
{
	u64 n = 0;
	for (Prereg &p : regions_)
		n += p.size;
	return n;
}

/* ---- the container's registration ioctls --------------------------------- */

void Container::free_prereg(Prereg &p) noexcept
{
	lock_.assert_held();
	sum_.prereg_pages.sub(preregs_.free(p));
}

int Container::register_memory(u64 vaddr, u64 size) noexcept
{
	lock_.assert_held();
	/* B41: every region of a container belongs to one mm. */
	if (preregs_.mm() && !preregs_.owned_by_current())
		return -err::PERM;
	if (int ret = preregs_.check_new(vaddr, size))
		return ret;
	/* A new owner mm's reference, until the region is in (issue 11 item 9). */
	MmRef new_mm(preregs_.mm() ? nullptr : kapi_mm_grab_current());
	kapi_mm *mm = preregs_.mm() ? preregs_.mm() : new_mm.get();
	if (!mm)
		return -err::SRCH;

	const u64 npages = size >> abi::PAGE_SHIFT;
	Owned<Prereg> p(make<Prereg>(vaddr, size));
	if (!p)
		return -err::NOMEM;
	const u64 limit = kapi_rlimit_memlock_pages();
	if (spapr_) {
		/* sPAPR: the mm's region, pinned and charged once for all its containers. */
		u64 denied = 0;
		int ret = SharedRegion::acquire(mm, vaddr, size, kapi_capable_ipc_lock(), limit,
						&p->shared, &denied);
		if (denied)
			Registry::memlock_denied(*this, denied, limit);
		if (!ret)
			ret = watch_mm(mm);
		if (ret) {
			if (p->shared)
				p->shared->put();
			return ret;
		}
		sum_.prereg_pages.add(npages);
		preregs_.add(*p.release(), new_mm);
		return 0;
	}
	LockedVmCharge charge(mm, kapi_capable_ipc_lock(), limit);
	int ret = charge.charge(npages);
	if (ret == -err::NOMEM)
		Registry::memlock_denied(*this, npages, limit);
	if (ret)
		return ret;
	PinnedRuns pinned(p->runs);
	ret = pinned.pin(mm, vaddr, npages, true);
	/* RAM only (as sPAPR): MMIO cannot be registered. */
	if (!ret && p->runs.reserved_pages())
		ret = -err::FAULT;
	if (!ret)
		ret = watch_mm(mm);
	if (ret)
		return ret; /* pins, charge and the new mm's reference give themselves back */
	pinned.keep();
	p->locked = charge.commit();
	sum_.prereg_pages.add(npages);
	g_stats.prereg_pages.add(npages);
	preregs_.add(*p.release(), new_mm);
	return 0;
}

int Container::unregister_memory(u64 vaddr, u64 size) noexcept
{
	lock_.assert_held();
	if (preregs_.mm() && !preregs_.owned_by_current())
		return -err::PERM;
	Prereg *p = preregs_.find_exact(vaddr, size);
	if (!p)
		return -err::NOENT; /* B35 */
	if (p->used)
		return -err::BUSY; /* B36: the region stays */
	free_prereg(*p);
	return 0;
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
	return reg ? register_memory(r.vaddr, r.size) : unregister_memory(r.vaddr, r.size);
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
		return unregister_memory(r.vaddr, r.size);
	int ret = register_memory(r.vaddr, r.size);
	if (!ret)
		spapr_->enable();
	return ret;
}

/* ---- the owner-exit policy ------------------------------------------------ */

/*
 * The exit (or exec) of a watched mm, from exit_mmap (or a work item, see
 * try_only below), or from kapi_mm_watch_destroy at close.  Under the RELEASE policy
 * it unmaps, with the mdev drivers told first, and unpins (B42):
 *   - every mapping the mm owns, except vaddr-invalid ones without a
 *     region: those wait for a new owner (an exec-based live update does
 *     UNMAP|VADDR, exec, MAP|VADDR; as with type1, their pins stay);
 *   - every mapping backed by one of the mm's regions, whatever its state
 *     (only the region's mm could give it a vaddr again);
 *   - the regions.
 * Runs its work at most once per watch (B44); the locks make a concurrent
 * close wait for it, and close sets closing first so that a run it causes
 * itself stands down.  It sleeps only where the exit path may (no
 * invalidate callback exists, B46).  The watch itself is freed later, out of
 * the notifier (reap_watches).
 *
 * From the MMU notifier it is first tried without waiting (try_only): the
 * notifier runs inside the MMU notifiers' SRCU section, and the container's
 * locks may be held for as long as a user likes (another process's long
 * MAP_DMA on a shared container), which would hold up synchronize_srcu()
 * host-wide.  If either lock is busy it returns false and kapi runs it
 * again, waiting, from a work item.
 */
bool Container::mm_released(MmWatch &mw, bool try_only) noexcept
{
	const MaybeGuard::Mode mode = try_only ? MaybeGuard::TRY : MaybeGuard::WAIT;
	MaybeGuard devices(devices_lock_, mode);
	if (!devices.held())
		return false;
	MaybeGuard guard(lock_, mode);
	if (!guard.held())
		return false;
	if (!watches_.first_release(mw))
		return true;
	if (watches_.closing() || !watches_.releasing())
		return true;
	const bool owns_regions = preregs_.mm() == mw.mm;
	u64 dmas = 0, pages = 0;
	auto release = [&](Dma &d) {
		pages += d.runs.pinned_pages() + d.ext_owned;
		notify_remove(d);
		dmas++;
	};
	dmas_.for_each(0, ~u64(0), [&](Dma &d) {
		if ((d.prereg && owns_regions) || (d.mm() == mw.mm && !d.vaddr_invalid))
			release(d);
		return true;
	});
	u64 regions = 0;
	if (owns_regions) {
		/* sPAPR: the TCEs point into the regions; they go first, and with them the window. */
		if (spapr_) {
			SpaprEnv env = spapr_env();
			spapr_->free_window(env);
		}
		while (Prereg *p = preregs_.front()) {
			if (p->used) {
				/*
				 * Out of step (no path should get here): recover by
				 * releasing the mappings it still backs.
				 */
				VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: region 0x%llx still used by %llu mappings at its mm's exit; released\n",
						   p->vaddr, p->used);
				dmas_.for_each(0, ~u64(0), [&](Dma &d) {
					if (d.prereg == p)
						release(d);
					return true;
				});
			}
			pages += p->shared ? 0 : p->runs.pinned_pages(); /* a shared one may stay */
			free_prereg(*p);
			regions++;
		}
	}
	g_stats.mm_exits.inc();
	Registry::mm_exited(*this, mw.mm, dmas, pages);
	kapi_log(KAPI_LOG_DEBUG, "vfio_iommu_cxx: owner exited: released %llu mappings, %llu regions\n",
		 dmas, regions);
	return true;
}

long Container::set_exit_policy(unsigned long arg) noexcept
{
	abi::ExitPolicy e;
	if (kapi_copy_from_user(&e, arg, abi::EXIT_POLICY_MINSZ))
		return -err::FAULT;
	if (e.argsz < abi::EXIT_POLICY_MINSZ || e.flags || e.policy > abi::EXIT_RELEASE)
		return -err::INVAL;
	Guard devices(devices_lock_);
	Guard guard(lock_);
	const u32 old = watches_.policy();
	watches_.set_policy(e.policy);
	/* Watch the owners of what exists already (an exited one is orphaned). */
	int ret = 0;
	auto watch = [&](kapi_mm *mm) {
		if (!ret && !kapi_mm_exited(mm)) {
			ret = watch_mm(mm);
			if (ret == -err::SRCH)
				ret = 0;
		}
	};
	dmas_.for_each(0, ~u64(0), [&](Dma &d) {
		watch(d.mm());
		return ret == 0;
	});
	if (preregs_.mm())
		watch(preregs_.mm());
	if (ret)
		watches_.set_policy(old);
	return ret;
}

size_t Container::orphaned_dmas_locked() noexcept
{
	lock_.assert_held();
	size_t n = 0;
	dmas_.for_each(0, ~u64(0), [&n](Dma &d) {
		n += kapi_mm_exited(d.mm()) != 0;
		return true;
	});
	return n;
}

} /* namespace vfio_cxx */

extern "C" int vfio_cxx_mm_released(void *ctx, kapi_mm_watch *, int try_only) noexcept
{
	auto *mw = static_cast<vfio_cxx::MmWatch *>(ctx);
	return mw->owner.mm_released(*mw, try_only != 0);
}
