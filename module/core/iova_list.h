/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IOVA ranges a container may map: the intersection of its domains'
 * apertures minus every attached group's reserved regions (type1's
 * iova_list).  Recomputed from scratch on every attach and detach, which
 * needs no special cases for shrinking or growing.  An empty list means "no
 * IOMMU group": every IOVA is allowed (emulated-only containers).
 */
#ifndef VFIO_CXX_IOVA_LIST_H
#define VFIO_CXX_IOVA_LIST_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/vec.h>

namespace vfio_cxx {

class IovaList {
public:
	/* Start over from one range; false on allocation failure. */
	[[nodiscard]] bool reset(u64 start, u64 last) noexcept;
	/* Keep only [start, last]. */
	void intersect(u64 start, u64 last) noexcept;
	/* Remove [start, last]; false on allocation failure (list unchanged). */
	[[nodiscard]] bool exclude(u64 start, u64 last) noexcept;
	/* Whether [start, last] lies inside one range, or the list is empty. */
	bool allows(u64 start, u64 last) const noexcept;
	bool empty() const noexcept { return r_.empty(); }
	size_t size() const noexcept { return r_.size(); }
	const abi::IovaRange &operator[](size_t i) const noexcept { return r_[i]; }
	void clear() noexcept { r_.clear(); }

private:
	Vec<abi::IovaRange> r_; /* sorted, disjoint, inclusive ends */
};

} /* namespace vfio_cxx */

#endif
