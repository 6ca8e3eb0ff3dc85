/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IOVA ranges a container may map: the intersection of its domains'
 * apertures minus every attached group's reserved regions (type1's
 * iova_list).  Recomputed from scratch on every attach and detach, which
 * needs no special cases for shrinking or growing.  Two states: unrestricted
 * (no IOMMU group, as emulated-only containers: every IOVA is allowed, and
 * GET_INFO reports no range), or restricted to the ranges, which may be
 * none at all (disjoint apertures: nothing is allowed, and attach refuses
 * such a group with -EINVAL, as type1).
 *
 * Locking: none of its own; its owner's (a Topology: the container's lock_).
 */
#ifndef VFIO_CXX_IOVA_LIST_H
#define VFIO_CXX_IOVA_LIST_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/vec.h>

namespace vfio_cxx {

class IovaList {
public:
	/* Start over, restricted to one range; false on allocation failure. */
	[[nodiscard]] bool reset(u64 start, u64 last) noexcept;
	/* Keep only [start, last]. */
	void intersect(u64 start, u64 last) noexcept;
	/* Remove [start, last]; false on allocation failure (list unchanged). */
	[[nodiscard]] bool exclude(u64 start, u64 last) noexcept;
	/* Whether [start, last] lies inside one range, or the list is unrestricted. */
	bool allows(u64 start, u64 last) const noexcept;
	bool restricted() const noexcept { return restricted_; }
	size_t size() const noexcept { return r_.size(); }
	const abi::IovaRange &operator[](size_t i) const noexcept { return r_[i]; }
	/* Back to unrestricted. */
	void clear() noexcept
	{
		r_.clear();
		restricted_ = false;
	}

private:
	Vec<abi::IovaRange> r_; /* sorted, disjoint, inclusive ends */
	bool restricted_ = false;
};

} /* namespace vfio_cxx */

#endif
