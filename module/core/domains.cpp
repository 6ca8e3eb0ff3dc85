// SPDX-License-Identifier: GPL-2.0
/*
 * A container's groups and IOMMU domains (Topology, domains.h): domain
 * compatibility, the IOVA list the groups allow together, the IOMMU page
 * sizes, and the steps of attach and detach that concern only them.  What
 * attach and detach do to the container's mappings is attach.cpp's.
 *
 * Locking: the container's lock_ (and devices_lock_, which attach.cpp
 * takes first) around every call; each method asserts lock_.  The IOMMU
 * driver's locks are taken under them, never the other way round.
 */
#include "domains.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

Topology::~Topology()
{
	if (!groups_.empty() || !domains_.empty())
		VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: group or domain left at container free");
}

u32 Topology::group_ids(int *ids) const noexcept
{
	const u32 n = __atomic_load_n(&ngroup_ids_, __ATOMIC_ACQUIRE);
	for (u32 i = 0; i < n && i < VFIO_CXX_INFO_GROUPS_MAX; i++)
		ids[i] = __atomic_load_n(&group_ids_[i], __ATOMIC_RELAXED);
	return n;
}

/* Keep the lock-free group ids in step with groups_. */
void Topology::publish_groups() noexcept
{
	u32 n = 0;
	for (Group &grp : held().groups_) {
		if (n == VFIO_CXX_INFO_GROUPS_MAX)
			break;
		__atomic_store_n(&group_ids_[n++], kapi_group_id(grp.raw()), __ATOMIC_RELAXED);
	}
	__atomic_store_n(&ngroup_ids_, n, __ATOMIC_RELEASE);
}

bool Topology::coherent() noexcept
{
	for (Domain &d : held().domains_)
		if (!kapi_domain_enforces_coherency(d.raw()))
			return false;
	return true;
}

Group *Topology::find(kapi_group *g) noexcept
{
	for (Group &grp : held().groups_)
		if (grp.raw() == g)
			return &grp;
	return nullptr;
}

void Topology::pinned_scope(Group &grp) noexcept
{
	held();
	if (!grp.pinned_scope) {
		grp.pinned_scope = true;
		non_pinned_groups_--;
	}
}

namespace {
struct ResvCtx {
	IovaList *list;
	bool failed;
};
void exclude_resv(void *ctx, kapi_u64 start, kapi_u64 last)
{
	auto *c = static_cast<ResvCtx *>(ctx);
	if (!c->list->exclude(start, last))
		c->failed = true;
}
} /* namespace */

/*
 * The IOVA list of the IOMMU groups attached now, plus extra_g in extra_d if
 * given.  Empty when there is no IOMMU group at all.
 */
int Topology::compute_iovas(IovaList &out, kapi_group *extra_g, kapi_domain *extra_d) noexcept
{
	held();
	out.clear();
	if (domains_.empty() && !extra_d)
		return 0;
	if (!out.reset(0, U64_MAX))
		return -err::NOMEM;
	auto aperture = [&out](kapi_domain *d) {
		u64 start, end;
		kapi_domain_aperture(d, &start, &end);
		out.intersect(start, end);
	};
	for (Domain &d : domains_)
		aperture(d.raw());
	if (extra_d)
		aperture(extra_d);

	ResvCtx ctx{ &out, false };
	for (Group &grp : groups_) {
		if (grp.emulated())
			continue;
		int ret = for_each_resv_region(grp.raw(), exclude_resv, &ctx);
		if (ret)
			return ret;
	}
	if (extra_g) {
		int ret = for_each_resv_region(extra_g, exclude_resv, &ctx);
		if (ret)
			return ret;
	}
	return ctx.failed ? -err::NOMEM : 0;
}

void Topology::update_pgsize_bitmap() noexcept
{
	u64 bitmap = U64_MAX;
	for (Domain &d : held().domains_)
		bitmap &= kapi_domain_pgsize_bitmap(d.raw());
	/* Hide sub-page sizes: pinning works in pages (as type1). */
	if (bitmap & ~abi::PAGE_MASK) {
		bitmap &= abi::PAGE_MASK;
		bitmap |= abi::PAGE_SIZE;
	}
	pgsize_bitmap_ = bitmap;
}

namespace {
/*
 * Whether a group attached to b could move to a, as type1 judges it: the
 * same IOMMU driver and the same enforced cache coherency.
 */
bool compatible(kapi_domain *a, kapi_domain *b) noexcept
{
	return kapi_domain_driver(a) == kapi_domain_driver(b) &&
	       kapi_domain_enforces_coherency(a) == kapi_domain_enforces_coherency(b);
}

/* A new domain with grp attached to it: detached (and freed) at scope end unless released. */
class FreshDomain {
public:
	FreshDomain(Group &grp) noexcept : grp_(grp) {}
	VFIO_CXX_NO_COPY(FreshDomain);
	~FreshDomain()
	{
		if (attached_)
			kapi_domain_detach_group(d_->raw(), grp_.raw());
	}
	int make(bool nesting) noexcept
	{
		kapi_domain *kd = nullptr;
		if (int ret = kapi_domain_alloc(grp_.raw(), &kd))
			return ret;
		d_ = Owned<Domain>(vfio_cxx::make<Domain>(kd));
		if (!d_) {
			kapi_domain_free(kd);
			return -err::NOMEM;
		}
		/* VFIO_TYPE1_NESTING_IOMMU: as type1, the IOMMU driver says whether it can. */
		if (nesting)
			if (int ret = kapi_domain_enable_nesting(kd))
				return ret;
		int ret = kapi_domain_attach_group(kd, grp_.raw());
		attached_ = !ret;
		return ret;
	}
	Domain &get() noexcept { return *d_; }
	/* grp leaves the new domain (for one of the container's). */
	void detach() noexcept
	{
		kapi_domain_detach_group(d_->raw(), grp_.raw());
		attached_ = false;
	}
	/* grp comes back to it (no compatible domain took it): 0 or the errno. */
	int reattach() noexcept
	{
		int ret = kapi_domain_attach_group(d_->raw(), grp_.raw());
		attached_ = !ret;
		return ret;
	}
	Domain *release() noexcept
	{
		attached_ = false;
		return d_.release();
	}

private:
	Group &grp_;
	Owned<Domain> d_;
	bool attached_ = false;
};
} /* namespace */

int Topology::attach(Group &grp, bool nesting, FnRef<int(const IovaList &)> admit,
		     FnRef<int(Domain &, bool)> fill) noexcept
{
	held();
	if (int ret = check_msi_isolation(grp.raw()))
		return ret;
	FreshDomain fresh(grp);
	if (int ret = fresh.make(nesting))
		return ret;

	/*
	 * Existing mappings must stay valid with this group's aperture (which
	 * the IOMMU driver settles at attach time, so only now) and reserved
	 * regions.
	 */
	IovaList next;
	int ret = compute_iovas(next, grp.raw(), fresh.get().raw());
	if (ret)
		return ret;
	/* Disjoint apertures or reserved regions that leave nothing (as type1). */
	if (next.size() == 0)
		return -err::INVAL;
	if ((ret = admit(next)))
		return ret;

	for (Domain &d : domains_) {
		if (!compatible(d.raw(), fresh.get().raw()))
			continue;
		fresh.detach();
		if (!kapi_domain_attach_group(d.raw(), grp.raw())) {
			d.groups++;
			grp.domain = &d;
			iovas_ = move(next);
			return 0; /* the new domain is freed unused */
		}
		if ((ret = fresh.reattach()))
			return ret;
	}

	const bool was_empty = domains_.empty();
	domains_.push_back(fresh.get());
	if ((ret = fill(fresh.get(), was_empty))) {
		domains_.remove(fresh.get());
		return ret;
	}
	Domain *nd = fresh.release();
	ndomains_.inc();
	nd->groups = 1;
	grp.domain = nd;
	iovas_ = move(next);
	update_pgsize_bitmap();
	return 0;
}

void Topology::add(Group *grp) noexcept
{
	held();
	if (grp->emulated()) {
		emulated_groups_++;
	} else {
		iommu_groups_++;
		non_pinned_groups_++;
	}
	groups_.push_back(*grp);
	g_stats.groups_attached.inc();
	ngroups_.inc();
	publish_groups();
}

Topology::Leaving Topology::detach(Group &grp, FnRef<void()> last_domain) noexcept
{
	held();
	Leaving l{ false, false };
	if (Domain *d = grp.domain) {
		kapi_domain_detach_group(d->raw(), grp.raw());
		if (--d->groups == 0) {
			if (domains_.size() == 1)
				last_domain();
			domains_.remove(*d);
			delete d;
			ndomains_.dec();
		}
		iommu_groups_--;
	} else {
		l.last_emulated = --emulated_groups_ == 0;
	}
	if (!grp.pinned_scope)
		l.last_unpinned = --non_pinned_groups_ == 0;
	groups_.remove(grp);
	delete &grp;
	g_stats.groups_attached.dec();
	ngroups_.dec();
	publish_groups();

	/* The list can only grow back; on ENOMEM keep the narrower old one. */
	IovaList next;
	if (!compute_iovas(next, nullptr, nullptr))
		iovas_ = move(next);
	update_pgsize_bitmap();
	return l;
}

} /* namespace vfio_cxx */
