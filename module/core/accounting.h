/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LockedVmCharge: a locked_vm charge that gives itself back unless it is
 * committed, so that no error path pairs a charge with an uncharge by hand.
 *
 * Charges are made as pages are pinned (as type1 does, batch by batch), so
 * that pages that hold no pin (reserved, MMIO) are never charged, not even
 * for a moment (issue 11 item 5), and a request over RLIMIT_MEMLOCK stops
 * within one pin batch.  A credit covers pages that are charged already
 * (pages that mdev drivers pinned before an IOMMU domain came, B24): the
 * first pages charged draw on it instead of on locked_vm, so the total is
 * exactly what is new and no intermediate state exceeds it (R6).
 *
 * uncharge(): the one way the core gives pages back.  The update is made at
 * once, as type1 does (issue 11 item 7: a MAP_DMA right after an UNMAP near
 * RLIMIT_MEMLOCK must see the pages given back, also while vCPU threads keep
 * the mmap lock busy).  Only if the caller is killed while waiting for the
 * mmap lock does the update go to a work item rather than being lost (type1
 * loses it).
 *
 * MmRef: an mm_count reference (kapi_mm_grab_current()) dropped at the end
 * of its scope unless released.
 *
 * Locking: none of its own.  charge() and uncharge() take the mm's mmap
 * lock (killably) inside kapi; callers hold the container lock, which ranks
 * above it.
 */
#ifndef VFIO_CXX_ACCOUNTING_H
#define VFIO_CXX_ACCOUNTING_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/errno.h>
#include "../kapi/services.h"

namespace vfio_cxx {

inline void uncharge(kapi_mm *mm, u64 npages) noexcept
{
	if (npages && kapi_mm_uncharge_now(mm, npages) == -err::INTR)
		kapi_mm_uncharge_later(mm, npages);
}

class [[nodiscard]] LockedVmCharge {
public:
	LockedVmCharge(kapi_mm *mm, bool lock_cap, u64 limit, u64 credit = 0) noexcept
		: mm_(mm), lock_cap_(lock_cap), limit_(limit), credit_(credit)
	{
	}
	VFIO_CXX_NO_COPY(LockedVmCharge);
	~LockedVmCharge()
	{
		if (charged_)
			uncharge(mm_, charged_);
	}

	/* Charge n more pages: 0, -ENOMEM (over the limit), -ESRCH or -EINTR. */
	[[nodiscard]] int charge(u64 n) noexcept
	{
		const u64 from_credit = n < credit_ ? n : credit_;
		credit_ -= from_credit;
		n -= from_credit;
		int ret = kapi_mm_charge(mm_, n, lock_cap_, limit_);
		if (!ret)
			charged_ += n;
		else if (ret == -err::NOMEM)
			denied_ = n;
		return ret;
	}
	/* What was charged now; the caller records it.  Nothing is given back. */
	u64 commit() noexcept { return exchange(charged_, u64(0)); }
	/* Keep n of the pages charged now (n <= what was charged); the rest is given back. */
	u64 commit(u64 n) noexcept
	{
		charged_ -= n;
		return n;
	}
	/* Credit left unused: pages the owner counted as charged that were not pinned. */
	u64 unused_credit() const noexcept { return credit_; }
	/* The pages of the last refused request (for the MEMLOCK_DENIED event). */
	u64 denied() const noexcept { return denied_; }

private:
	kapi_mm *mm_;
	bool lock_cap_;
	u64 limit_;
	u64 credit_;
	u64 charged_ = 0;
	u64 denied_ = 0;
};

/*
 * A charge RLIMIT_MEMLOCK refused, carried out of an object that works for
 * a container (DmaContext, SpaprEnv, PreregSet) back to the container,
 * which sends the MEMLOCK_DENIED event (Container::report_denied).
 */
struct DeniedCharge {
	u64 pages = 0;
	u64 limit = 0;

	void deny(u64 p, u64 l) noexcept
	{
		pages = p;
		limit = l;
	}
};

using MmRef = Owned<kapi_mm, CallFree<kapi_mm, kapi_mm_drop>>;

} /* namespace vfio_cxx */

#endif
