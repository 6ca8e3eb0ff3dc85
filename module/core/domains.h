/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Domain: a paging IOMMU domain of one container, shared by its compatible
 * groups; Group: one VFIO group attached to a container; Topology: a
 * container's groups and domains, and what they allow together (the IOVA
 * list, the IOMMU page sizes, cache coherency).
 *
 * Ownership: the Container owns its Topology (topo_), which owns the Groups
 * and the Domains.  A Group points at (does not own) the Domain it is
 * attached to; a Domain counts its Groups and goes when the count drops to
 * zero.  What attaching and detaching do to the container's mappings (the
 * replay into a new domain, the unmapping with the last one) is the
 * container's, lent to attach() and detach() as steps (attach.cpp).
 *
 * Locking: the owning container's lock_ (and devices_lock_ around attach
 * and detach); every method asserts it, except the lock-free reads netlink
 * makes (ngroups, ndomains, group_ids).  The IOMMU driver's locks are
 * taken under it, never the other way round.
 */
#ifndef VFIO_CXX_DOMAINS_H
#define VFIO_CXX_DOMAINS_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/list.h>
#include <vfio_cxx/sync.h>
#include "../kapi/services.h"
#include "stats.h"
#include "iova_list.h"
#include "snapshot.h"

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

class Topology {
public:
	using Groups = List<Group, &Group::node>;
	using Domains = List<Domain, &Domain::node>;

	explicit Topology(Mutex &lock) noexcept : lock_(lock) {}
	VFIO_CXX_NO_COPY(Topology);
	/* The container detached every group first. */
	~Topology();

	/* Lock-free, for netlink (values of slightly different instants). */
	u64 ngroups() const noexcept { return ngroups_.read(); }
	u64 ndomains() const noexcept { return ndomains_.read(); }
	/* The first VFIO_CXX_INFO_GROUPS_MAX group ids into ids; returns how many. */
	u32 group_ids(int *ids) const noexcept;

	/* Everything below: lock_ held. */
	bool has_groups() noexcept { return !held().groups_.empty(); }
	bool has_domain() noexcept { return !held().domains_.empty(); }
	Groups &groups() noexcept { return held().groups_; }
	Domains &domains() noexcept { return held().domains_; }
	const IovaList &iovas() noexcept { return held().iovas_; }
	u64 pgsize_bitmap() noexcept { return held().pgsize_bitmap_; }
	/* The smallest IOMMU page size: MAP/UNMAP granularity. */
	u64 min_pgsize() noexcept
	{
		const u64 b = held().pgsize_bitmap_;
		return b & (~b + 1);
	}
	u32 emulated_groups() noexcept { return held().emulated_groups_; }
	/* Groups not in pinned_scope: every page may be dirty. */
	u32 non_pinned_groups() noexcept { return held().non_pinned_groups_; }
	/* VFIO_DMA_CC_IOMMU: every domain enforces cache coherency. */
	bool coherent() noexcept;
	Group *find(kapi_group *g) noexcept;
	/* A device of grp pinned pages: from now on it writes only through pins. */
	void pinned_scope(Group &grp) noexcept;

	/*
	 * Give an IOMMU group a domain (type1's attach): a new paging domain
	 * for it (MSI isolation checked, nesting enabled if asked); if
	 * admit(next) accepts the IOVA list the container would have with it
	 * (0, or the errno), an existing compatible domain if there is one, or
	 * else the new domain with fill(fresh, was_empty) having put the
	 * container's mappings into it.  On failure nothing stays attached,
	 * mapped or allocated.  add() it afterwards.
	 */
	int attach(Group &grp, bool nesting, FnRef<int(const IovaList &)> admit,
		   FnRef<int(Domain &, bool)> fill) noexcept;
	/* Take a new group in (attached first if it is an IOMMU group). */
	void add(Group *grp) noexcept;

	/* What a group's leaving was the last of. */
	struct Leaving {
		bool last_emulated; /* the last emulated group */
		bool last_unpinned; /* the last group not in pinned_scope */
	};
	/*
	 * Take grp out and free it (type1's detach): off its domain first; if
	 * that leaves the container's last domain with no group,
	 * last_domain() runs while the domain still exists (the mappings
	 * leave it), and the domain goes; then the counts, the IOVA list and
	 * the page sizes follow.
	 */
	Leaving detach(Group &grp, FnRef<void()> last_domain) noexcept;

private:
	Topology &held() noexcept
	{
		lock_.assert_held();
		return *this;
	}
	int compute_iovas(IovaList &out, kapi_group *extra_g, kapi_domain *extra_d) noexcept;
	void update_pgsize_bitmap() noexcept;
	void publish_groups() noexcept;

	Mutex &lock_;
	Groups groups_;
	Domains domains_;
	IovaList iovas_;
	u64 pgsize_bitmap_ = abi::PAGE_MASK;
	u32 emulated_groups_ = 0;
	u32 iommu_groups_ = 0;
	u32 non_pinned_groups_ = 0;
	/* What netlink reads without lock_ (written under it). */
	SerialCounter ngroups_;
	SerialCounter ndomains_;
	u32 ngroup_ids_ = 0;
	int group_ids_[VFIO_CXX_INFO_GROUPS_MAX] = {};
};

/* groups.cpp: 0, or -EPERM (and a log line) for a group without isolated MSI. */
int check_msi_isolation(kapi_group *g) noexcept;
/* groups.cpp: fn for each reserved region [start, last] of g that user IOVAs must avoid; 0 or -errno. */
using ResvFn = void (*)(void *ctx, u64 start, u64 last);
int for_each_resv_region(kapi_group *g, ResvFn fn, void *ctx) noexcept;

} /* namespace vfio_cxx */

#endif
