// SPDX-License-Identifier: GPL-2.0
/*
 * What a group's attach and detach do to a container: the checks the
 * container makes (type, state), what its mappings must fit (the IOVA
 * list, sPAPR's window), the replay of every mapping into a new domain,
 * and, when groups leave, the mappings that go or lose their pins.  The
 * groups and domains themselves are the Topology's (domains.cpp).
 *
 * Locking: attach_group/detach_group take devices_lock_ then lock_
 * (container.h); everything else here runs with both held.
 */
#include "container.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/*
 * Map every existing Dma into the fresh domain (already in the topology's
 * domains).  If the container had no domain, the Dmas were never pinned:
 * pin them now.  On failure everything this replay did is undone.
 */
int Container::replay(Domain &fresh, bool was_empty) noexcept
{
	lock_.assert_held();
	DmaContext c = dma_context();
	DmaPages pages(c);
	int ret = 0;
	u64 failed_at = U64_MAX;
	dmas_.for_each(0, U64_MAX, [&](Dma &d) {
		ret = was_empty ? pages.pin_map(d) : pages.map_runs(d, fresh.raw());
		if (ret)
			failed_at = d.iova;
		return ret == 0;
	});
	if (!ret)
		return 0;
	/* The failing Dma cleaned up after itself; undo the ones before it. */
	dmas_.for_each(0, U64_MAX, [&](Dma &d) {
		if (d.iova == failed_at)
			return false;
		if (was_empty)
			pages.unmap_unpin(d);
		else
			kapi_domain_unmap(fresh.raw(), d.iova, d.size);
		return true;
	});
	report_denied(c.denied);
	return ret;
}

/*
 * Give an IOMMU group a domain: the container's mappings must fit the IOVA
 * list it leaves (-EINVAL), and a sPAPR window must too (-EPERM: as a
 * foreign PHB); a new domain gets every mapping (or TCE) replayed into it.
 */
int Container::attach_iommu(Group &grp) noexcept
{
	lock_.assert_held();
	auto admit = [this](const IovaList &next) {
		bool fits = true;
		dmas_.for_each(0, U64_MAX, [&](Dma &d) {
			fits = next.allows(d.iova, d.last());
			return fits;
		});
		if (!fits)
			return -err::INVAL;
		return spapr_ && !spapr_->fits(next) ? -err::PERM : 0;
	};
	auto fill = [this](Domain &fresh, bool was_empty) {
		if (!spapr_)
			return replay(fresh, was_empty);
		SpaprEnv env = spapr_env();
		return spapr_->replay(env, fresh);
	};
	return topo_.attach(grp, nesting_, admit, fill);
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
	if (dmas_.vaddr_invalid())
		return -err::BUSY;
	if (topo_.find(g))
		return -err::BUSY;

	Owned<Group> grp(make<Group>(g, type == VFIO_CXX_GROUP_EMULATED));
	if (!grp)
		return -err::NOMEM;
	if (!grp->emulated())
		if (int ret = attach_iommu(*grp))
			return ret;
	/* sPAPR: the first group with no window yet makes the default window pending. */
	if (spapr_ && !topo_.has_groups())
		spapr_->first_group();
	topo_.add(grp.release());
	return 0;
}

void Container::detach(Group &grp) noexcept
{
	lock_.assert_held();
	/*
	 * The last IOMMU domain goes.  Without emulated groups the mappings go
	 * with it (as type1); with them, the mappings stay, unpinned and
	 * unaccounted.
	 */
	const Topology::Leaving l = topo_.detach(grp, [this]() {
		const bool keep = topo_.emulated_groups() != 0;
		DmaContext c = dma_context();
		dmas_.for_each(0, U64_MAX, [&](Dma &dma) {
			if (keep)
				DmaPages(c).unmap_unpin(dma);
			else
				remove_dma(dma);
			return true;
		});
	});
	/*
	 * The last external group takes every external pin with it, whatever
	 * its count (R9, B20).  With no IOMMU group left either, the mappings
	 * go too (as type1).
	 */
	if (l.last_emulated) {
		const bool domain = topo_.has_domain();
		DmaContext c = dma_context();
		ExtPins ext(c);
		dmas_.for_each(0, U64_MAX, [&](Dma &dma) {
			if (domain)
				ext.give_back(dma, ext.release_all(dma));
			else
				remove_dma(dma);
			return true;
		});
	}
	/*
	 * The last group that could write anywhere left: from now on only
	 * pinned pages are reported, so what it may have written until now is
	 * reported in full once (type1's vfio_iommu_populate_bitmap_full).
	 */
	if (l.last_unpinned)
		dirty_.all_dirty();
}

void Container::detach_group(kapi_group *g) noexcept
{
	Guard devices(devices_lock_);
	Guard guard(lock_);
	Group *grp = topo_.find(g);
	if (!grp) {
		VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: detach of unknown group %d ignored\n",
				   kapi_group_id(g));
		return;
	}
	detach(*grp);
}

} /* namespace vfio_cxx */
