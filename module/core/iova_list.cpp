// SPDX-License-Identifier: GPL-2.0
/*
 * The allowed IOVA ranges (iova_list.h).  Locking: none of its own; its
 * owner's (the container's lock_).
 */
#include "iova_list.h"

namespace vfio_cxx {

bool IovaList::reset(u64 start, u64 last) noexcept
{
	r_.clear();
	restricted_ = true;
	return r_.push_back({ start, last });
}

void IovaList::intersect(u64 start, u64 last) noexcept
{
	for (size_t i = 0; i < r_.size();) {
		abi::IovaRange &n = r_[i];
		if (n.end < start || n.start > last) {
			r_.erase(i);
			continue;
		}
		if (n.start < start)
			n.start = start;
		if (n.end > last)
			n.end = last;
		i++;
	}
}

bool IovaList::exclude(u64 start, u64 last) noexcept
{
	for (size_t i = 0; i < r_.size();) {
		abi::IovaRange n = r_[i];
		if (last < n.start || start > n.end) {
			i++;
			continue;
		}
		const bool keep_low = start > n.start;
		const bool keep_high = last < n.end;
		if (keep_low && keep_high) {
			/* Split: needs one more slot. */
			if (!r_.insert(i + 1, { last + 1, n.end }))
				return false;
			r_[i].end = start - 1;
			return true; /* ranges are disjoint: nothing further overlaps */
		}
		if (keep_low) {
			r_[i].end = start - 1;
			i++;
		} else if (keep_high) {
			r_[i].start = last + 1;
			i++;
		} else {
			r_.erase(i);
		}
	}
	return true;
}

bool IovaList::allows(u64 start, u64 last) const noexcept
{
	if (!restricted_)
		return true;
	for (const abi::IovaRange &n : r_)
		if (start >= n.start && last <= n.end)
			return true;
	return false;
}

} /* namespace vfio_cxx */
