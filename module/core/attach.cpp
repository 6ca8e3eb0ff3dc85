// SPDX-License-Identifier: GPL-2.0
/*
 * A group's attach and detach, as the container orchestrates them: its
 * checks (type, state), what must fit the IOVA list the group leaves (the
 * mappings, sPAPR's window), what fills a new domain (the replay of the
 * mappings, or sPAPR's TCEs), and what goes when the last domain, the last
 * emulated group or the last unpinned-scope group leaves.  The groups and
 * domains are the Topology's (domains.cpp); what happens to the mappings
 * is the IoPagetable's (io_pagetable.cpp).
 *
 * Locking: attach_group/detach_group take devices_lock_ then lock_
 * (container.h); everything else here runs with both held.
 */
#include "container.h"
#include "io_pagetable.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/*
 * Give an IOMMU group a domain: the container's mappings must fit the IOVA
 * list it leaves (-EINVAL), and a sPAPR window must too (-EPERM: as a
 * foreign PHB); a new domain gets every mapping (or TCE) replayed into it.
 */
int Container::attach_iommu(Group &grp) noexcept
{
	lock_.assert_held();
	auto admit = [this](const IovaList &next) {
		if (!iopt_.fits(next))
			return -err::INVAL;
		return spapr_ && !spapr_->fits(next) ? -err::PERM : 0;
	};
	auto fill = [this](Domain &fresh, bool was_empty) {
		if (!spapr_) {
			DeniedCharge denied;
			int ret = iopt_.replay(fresh, was_empty, denied);
			report_denied(denied);
			return ret;
		}
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
	if (iopt_.dmas().vaddr_invalid())
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
	const Topology::Leaving l = topo_.detach(grp, [this]() { iopt_.domains_gone(); });
	/*
	 * The last external group takes every external pin with it, whatever
	 * its count (R9, B20).  With no IOMMU group left either, the mappings
	 * go too (as type1).
	 */
	if (l.last_emulated)
		iopt_.emulated_gone();
	/*
	 * The last group that could write anywhere left: from now on only
	 * pinned pages are reported, so what it may have written until now is
	 * reported in full once (type1's vfio_iommu_populate_bitmap_full).
	 */
	if (l.last_unpinned)
		iopt_.dirty().all_dirty();
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
