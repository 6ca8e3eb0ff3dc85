// SPDX-License-Identifier: GPL-2.0
/*
 * Groups and IOMMU domains of a container: attach and detach, domain
 * compatibility, the IOVA list, and the replay of every mapping into a new
 * domain.
 *
 * Locking: attach_group/detach_group take devices_lock_ then lock_
 * (container.h); everything else here runs with both held.  The IOMMU
 * driver's locks are taken under them, never the other way round.
 */
#include "container.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/* ---- groups and domains ---------------------------------------------- */

Group *Container::find_group(kapi_group *g) noexcept
{
	lock_.assert_held();
	for (Group &grp : groups_)
		if (grp.raw() == g)
			return &grp;
	return nullptr;
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
int Container::compute_iovas(IovaList &out, kapi_group *extra_g, kapi_domain *extra_d) noexcept
{
	lock_.assert_held();
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

void Container::update_pgsize_bitmap() noexcept
{
	lock_.assert_held();
	u64 bitmap = U64_MAX;
	for (Domain &d : domains_)
		bitmap &= kapi_domain_pgsize_bitmap(d.raw());
	/* Hide sub-page sizes: pinning works in pages (as type1). */
	if (bitmap & ~abi::PAGE_MASK) {
		bitmap &= abi::PAGE_MASK;
		bitmap |= abi::PAGE_SIZE;
	}
	pgsize_bitmap_ = bitmap;
}

/*
 * Map every existing Dma into the fresh domain (already in domains_).  If
 * the container had no domain, the Dmas were never pinned: pin them now.
 * On failure everything this replay did is undone.
 */
int Container::replay(Domain &fresh, bool was_empty) noexcept
{
	lock_.assert_held();
	int ret = 0;
	u64 failed_at = U64_MAX;
	for_each_dma(0, U64_MAX, [&](Dma &d) {
		ret = was_empty ? pin_map(d) : map_runs(d, fresh.raw());
		if (ret)
			failed_at = d.iova;
		return ret == 0;
	});
	if (!ret)
		return 0;
	/* The failing Dma cleaned up after itself; undo the ones before it. */
	for_each_dma(0, U64_MAX, [&](Dma &d) {
		if (d.iova == failed_at)
			return false;
		if (was_empty)
			unmap_unpin(d);
		else
			kapi_domain_unmap(fresh.raw(), d.iova, d.size);
		return true;
	});
	return ret;
}

/*
 * Give grp a domain: an existing compatible one of this container, or a
 * new paging domain with every existing mapping replayed into it.  On
 * failure nothing is left attached, mapped or allocated.
 */
int Container::attach_iommu(Group &grp) noexcept
{
	lock_.assert_held();
	int ret = check_msi_isolation(grp.raw());
	if (ret)
		return ret;

	kapi_domain *kd = nullptr;
	ret = kapi_domain_alloc(grp.raw(), &kd);
	if (ret)
		return ret;
	Owned<Domain> fresh(make<Domain>(kd));
	if (!fresh) {
		kapi_domain_free(kd);
		return -err::NOMEM;
	}
	/* VFIO_TYPE1_NESTING_IOMMU: as type1, the IOMMU driver says whether it can. */
	if (nesting_) {
		ret = kapi_domain_enable_nesting(kd);
		if (ret)
			return ret;
	}

	ret = kapi_domain_attach_group(fresh->raw(), grp.raw());
	if (ret)
		return ret;

	/*
	 * Existing mappings must stay valid with this group's aperture (which
	 * the IOMMU driver settles at attach time, so only now) and reserved
	 * regions.
	 */
	IovaList next;
	ret = compute_iovas(next, grp.raw(), fresh->raw());
	/* Disjoint apertures or reserved regions that leave nothing (as type1). */
	bool conflict = !ret && next.size() == 0;
	if (!ret && !conflict)
		for_each_dma(0, U64_MAX, [&](Dma &d) {
			conflict = !next.allows(d.iova, d.last());
			return !conflict;
		});
	/* sPAPR: a group that cannot reach the window is incompatible (as a foreign PHB). */
	if (!ret && !conflict && spapr_ && !spapr_fits(next)) {
		kapi_domain_detach_group(fresh->raw(), grp.raw());
		return -err::PERM;
	}
	if (ret || conflict) {
		kapi_domain_detach_group(fresh->raw(), grp.raw());
		return ret ? ret : -err::INVAL;
	}

	for (Domain &d : domains_) {
		if (!kapi_domain_compatible(d.raw(), fresh->raw()))
			continue;
		kapi_domain_detach_group(fresh->raw(), grp.raw());
		if (!kapi_domain_attach_group(d.raw(), grp.raw())) {
			d.groups++;
			grp.domain = &d;
			iovas_ = move(next);
			return 0; /* fresh is freed unused */
		}
		ret = kapi_domain_attach_group(fresh->raw(), grp.raw());
		if (ret)
			return ret;
	}

	const bool was_empty = domains_.empty();
	domains_.push_back(*fresh);
	ret = spapr_ ? spapr_replay(*fresh) : replay(*fresh, was_empty);
	if (ret) {
		domains_.remove(*fresh);
		kapi_domain_detach_group(fresh->raw(), grp.raw());
		return ret;
	}
	Domain *nd = fresh.release();
	sum_.domains.inc();
	nd->groups = 1;
	grp.domain = nd;
	iovas_ = move(next);
	update_pgsize_bitmap();
	return 0;
}

int Container::attach_group(kapi_group *g, int type) noexcept
{
	if (type != VFIO_CXX_GROUP_IOMMU && type != VFIO_CXX_GROUP_EMULATED)
		return -err::INVAL;
	/* sPAPR: IOMMU groups only (tce_iommu_attach_group). */
	if (spapr_ && type == VFIO_CXX_GROUP_EMULATED)
		return -err::INVAL;

	Guard devices(devices_lock_);
	Guard guard(lock_);
	if (closed_)
		return -err::NODEV;
	/* Attach may need to pin: not while a vaddr is invalid (as type1). */
	if (vaddr_invalid_count_)
		return -err::BUSY;
	if (find_group(g))
		return -err::BUSY;

	Owned<Group> grp(make<Group>(g, type == VFIO_CXX_GROUP_EMULATED));
	if (!grp)
		return -err::NOMEM;
	if (grp->emulated()) {
		emulated_groups_++;
	} else {
		int ret = attach_iommu(*grp);
		if (ret)
			return ret;
		iommu_groups_++;
		non_pinned_groups_++;
	}
	/* sPAPR: the first group with no window yet makes the default window pending. */
	if (spapr_ && groups_.empty() && !spapr_->window)
		spapr_->def_window_pending = true;
	groups_.push_back(*grp.release());
	g_stats.groups_attached.inc();
	sum_.groups.inc();
	publish_groups();
	return 0;
}

void Container::detach(Group &grp) noexcept
{
	lock_.assert_held();
	if (Domain *d = grp.domain) {
		kapi_domain_detach_group(d->raw(), grp.raw());
		if (--d->groups == 0) {
			if (domains_.size() == 1) {
				/*
				 * The last IOMMU domain goes.  Without emulated groups
				 * the mappings go with it (as type1); with them, the
				 * mappings stay, unpinned and unaccounted.
				 */
				for_each_dma(0, U64_MAX, [this](Dma &dma) {
					if (emulated_groups_ == 0)
						remove_dma(dma);
					else
						unmap_unpin(dma);
					return true;
				});
			}
			domains_.remove(*d);
			delete d;
			sum_.domains.dec();
		}
		iommu_groups_--;
	} else if (--emulated_groups_ == 0) {
		/*
		 * The last external group takes every external pin with it,
		 * whatever its count (R9, B20).  With no IOMMU group left either,
		 * the mappings go too (as type1).
		 */
		for_each_dma(0, U64_MAX, [this](Dma &dma) {
			if (domains_.empty())
				remove_dma(dma);
			else
				give_back(dma, ext_release_all(dma));
			return true;
		});
	}
	/*
	 * The last group that could write anywhere leaves: from now on only
	 * pinned pages are reported, so what it may have written until now is
	 * reported in full once (type1's vfio_iommu_populate_bitmap_full).
	 */
	if (!grp.pinned_scope && --non_pinned_groups_ == 0 && dirty_tracking_)
		for_each_dma(0, U64_MAX, [](Dma &d) {
			if (d.bitmap)
				set_bits(d.bitmap, d.size >> d.bitmap_shift);
			return true;
		});
	groups_.remove(grp);
	delete &grp;
	g_stats.groups_attached.dec();
	sum_.groups.dec();
	publish_groups();

	/* The list can only grow back; on ENOMEM keep the narrower old one. */
	IovaList next;
	if (!compute_iovas(next, nullptr, nullptr))
		iovas_ = move(next);
	update_pgsize_bitmap();
}

void Container::detach_group(kapi_group *g) noexcept
{
	Guard devices(devices_lock_);
	Guard guard(lock_);
	Group *grp = find_group(g);
	if (!grp) {
		VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: detach of unknown group %d ignored\n",
				   kapi_group_id(g));
		return;
	}
	detach(*grp);
}

} /* namespace vfio_cxx */
