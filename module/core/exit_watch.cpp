// SPDX-License-Identifier: GPL-2.0
/* ExitWatches (exit_watch.h); its locking rules are there. */
#include "exit_watch.h"

#include <vfio_cxx/errno.h>

namespace vfio_cxx {

int ExitWatches::add(Container &owner, kapi_mm *mm) noexcept
{
	/* close() has taken the watches down: no new one may follow them. */
	if (closing_)
		return -err::NODEV;
	for (MmWatch &mw : list_)
		if (mw.mm == mm && !mw.released)
			return 0;
	Owned<MmWatch> mw(make<MmWatch>(owner, mm));
	if (!mw)
		return -err::NOMEM;
	int ret = kapi_mm_watch_create(mm, mw.get(), &mw->w);
	if (ret)
		return ret;
	list_.push_back(*mw.release());
	return 0;
}

bool ExitWatches::first_release(MmWatch &w) noexcept
{
	if (w.released)
		return false;
	w.released = true;
	__atomic_store_n(&reap_, true, __ATOMIC_RELEASE);
	return true;
}

void ExitWatches::take(bool all, MmWatchList &dead) noexcept
{
	if (all)
		closing_ = true;
	for (MmWatch &mw : list_) /* the iterator has the next node already */
		if (all || mw.released) {
			list_.remove(mw);
			dead.push_back(mw);
		}
}

void ExitWatches::destroy(MmWatchList &dead) noexcept
{
	while (MmWatch *mw = dead.front()) {
		dead.remove(*mw);
		kapi_mm_watch_destroy(mw->w);
		delete mw;
	}
}

} /* namespace vfio_cxx */
