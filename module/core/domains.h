/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Domain: a paging IOMMU domain of one container, shared by its compatible
 * groups; Group: one VFIO group attached to a container.  Owner: the
 * Container (its domains_ and groups_ lists; domains.cpp attaches and
 * detaches).  Locking: the owning container's lock_.
 */
#ifndef VFIO_CXX_DOMAINS_H
#define VFIO_CXX_DOMAINS_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/list.h>
#include "../kapi/services.h"
#include "stats.h"

namespace vfio_cxx {

/* A paging IOMMU domain shared by the compatible groups of one container. */
class Domain {
public:
	explicit Domain(kapi_domain *d) noexcept : d_(d) { g_stats.domains_live.inc(); }
	VFIO_CXX_NO_COPY(Domain);
	~Domain()
	{
		kapi_domain_free(d_);
		g_stats.domains_live.dec();
	}
	kapi_domain *raw() const noexcept { return d_; }

	ListNode node;
	unsigned int groups = 0;

private:
	kapi_domain *d_;
};

class Group {
public:
	Group(kapi_group *g, bool emulated) noexcept
		: pinned_scope(emulated), g_(g), emulated_(emulated)
	{
	}
	VFIO_CXX_NO_COPY(Group);
	kapi_group *raw() const noexcept { return g_; }
	bool emulated() const noexcept { return emulated_; }

	ListNode node;
	Domain *domain = nullptr; /* null for emulated (external) groups */
	/*
	 * Dirty tracking scope (type1's pinned_page_dirty_scope): the group's
	 * devices write only through pages pinned with vfio_pin_pages.  True
	 * from the start for emulated groups, and for an IOMMU group once one
	 * of its devices pins.
	 */
	bool pinned_scope;

private:
	kapi_group *g_;
	bool emulated_;
};

/* groups.cpp: 0, or -EPERM (and a log line) for a group without isolated MSI. */
int check_msi_isolation(kapi_group *g) noexcept;
/* groups.cpp: fn for each reserved region [start, last] of g that user IOVAs must avoid; 0 or -errno. */
using ResvFn = void (*)(void *ctx, u64 start, u64 last);
int for_each_resv_region(kapi_group *g, ResvFn fn, void *ctx) noexcept;

} /* namespace vfio_cxx */

#endif
