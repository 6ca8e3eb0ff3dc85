// SPDX-License-Identifier: GPL-2.0
/*
 * The owner-exit policy of a container (seed 004): what the exit (or exec)
 * of a watched mm releases under VFIO_CXX_EXIT_RELEASE, the ioctl that sets
 * the policy.  (The count of mappings whose owner has exited under KEEP is
 * IoPagetable::orphaned.)  The watches themselves are ExitWatches' (exit_watch.h).  Behaviour
 * numbers refer to Documentation/requirements.rst.
 *
 * Locking: mm_released takes devices_lock_ then lock_, waiting, or only
 * trying from the MMU notifier (below); set_exit_policy takes both too.
 */
#include "container.h"
#include "io_pagetable.h"
#include "registry.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

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
	IoPagetable::Released gone;
	iopt_.release_if([&](const Dma &d) {
		return (d.prereg && owns_regions) || (d.mm() == mw.mm && !d.vaddr_invalid);
	}, gone);
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
				iopt_.release_if([p](const Dma &d) { return d.prereg == p; }, gone);
			}
			gone.pages += p->shared ? 0 : p->runs.pinned_pages(); /* a shared one may stay */
			preregs_.free(*p);
			regions++;
		}
	}
	g_stats.mm_exits.inc();
	Registry::mm_exited(*this, mw.mm, gone.dmas, gone.pages);
	kapi_log(KAPI_LOG_DEBUG, "vfio_iommu_cxx: owner exited: released %llu mappings, %llu regions\n",
		 gone.dmas, regions);
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
	iopt_.dmas().for_each(0, ~u64(0), [&](Dma &d) {
		watch(d.mm());
		return ret == 0;
	});
	if (preregs_.mm())
		watch(preregs_.mm());
	if (ret)
		watches_.set_policy(old);
	return ret;
}

} /* namespace vfio_cxx */

extern "C" int vfio_cxx_mm_released(void *ctx, kapi_mm_watch *, int try_only) noexcept
{
	auto *mw = static_cast<vfio_cxx::MmWatch *>(ctx);
	return mw->owner.mm_released(*mw, try_only != 0);
}
