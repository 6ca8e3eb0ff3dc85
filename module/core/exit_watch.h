/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A container's exit policy and the mms whose exit it watches (B42-B46).
 *
 * Under the RELEASE policy (VFIO_CXX_EXIT_POLICY, or the exit_policy
 * parameter) every mm that owns a mapping or the container's regions is
 * watched through an MMU notifier (kapi_mm_watch_*); its exit releases what
 * it owns (Container::mm_released, prereg.cpp).  ExitWatches keeps the
 * watches, the policy, and the two flags of the watches' life: `closing`
 * (close() is taking them down: exit handlers stand down, no new watch) and
 * `reap` (an mm exited: its watch, which holds an mm_struct, can go).
 *
 * Locking: everything but reap_due() and destroy() runs under the owning
 * Container's lock_ (the callers assert it).  destroy() runs with no lock
 * held, because kapi_mm_watch_destroy() waits for a running exit handler,
 * which takes lock_.  reap_due() is an atomic flag, read by every ioctl.
 */
#ifndef VFIO_CXX_EXIT_WATCH_H
#define VFIO_CXX_EXIT_WATCH_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/base.h>
#include <vfio_cxx/list.h>
#include "../kapi/services.h"

namespace vfio_cxx {

class Container;

/*
 * One watched mm.  Owner: the ExitWatches of its Container.  `released` is
 * set, under the container lock, by the first run of the exit handler;
 * later runs do nothing (B44).
 */
struct MmWatch {
	MmWatch(Container &c, kapi_mm *mm) noexcept : owner(c), mm(mm) {}
	VFIO_CXX_NO_COPY(MmWatch);

	ListNode node;
	Container &owner;
	kapi_mm *const mm; /* identity only: the MMU notifier holds the mm_count */
	kapi_mm_watch *w = nullptr;
	bool released = false;
};

using MmWatchList = List<MmWatch, &MmWatch::node>;

class ExitWatches {
public:
	explicit ExitWatches(u32 policy) noexcept : policy_(policy) {}
	VFIO_CXX_NO_COPY(ExitWatches);

	u32 policy() const noexcept { return policy_; }
	void set_policy(u32 p) noexcept { policy_ = p; }
	bool releasing() const noexcept { return policy_ == abi::EXIT_RELEASE; }
	bool closing() const noexcept { return closing_; }
	bool empty() const noexcept { return list_.empty(); }

	/*
	 * Watch mm for owner, unless a live watch of it exists: 0, -ENODEV
	 * (closing), -ENOMEM or kapi's errno.  Failure leaves nothing behind
	 * (B45).
	 */
	int add(Container &owner, kapi_mm *mm) noexcept;
	/*
	 * The exit handler's run for w: true the first time (w is released from
	 * now on, and its reaping is due), false after.
	 */
	bool first_release(MmWatch &w) noexcept;
	/*
	 * Unlink into dead the watches to destroy: all of them (close: closing
	 * from now on) or those whose mm has exited.
	 */
	void take(bool all, MmWatchList &dead) noexcept;
	/* Destroy the watches of dead, with no lock held. */
	static void destroy(MmWatchList &dead) noexcept;
	/* Whether a released watch waits to be freed (clears the flag). */
	bool reap_due() noexcept
	{
		/* A plain load first: every ioctl asks, an mm exit is rare. */
		return __atomic_load_n(&reap_, __ATOMIC_RELAXED) &&
		       __atomic_exchange_n(&reap_, false, __ATOMIC_ACQ_REL);
	}

private:
	MmWatchList list_;
	u32 policy_;
	bool closing_ = false;
	bool reap_ = false; /* atomic */
};

} /* namespace vfio_cxx */

#endif
