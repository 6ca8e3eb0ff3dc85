// SPDX-License-Identifier: GPL-2.0
/*
 * What the vfio_cxx netlink family shows of a container (registry.cpp does
 * the lookups and visibility).
 *
 * Locking: summary() takes no lock but a trylock for the orphan count;
 * mapping_from/prereg_from wait for lock_ killably, with no global lock
 * held (the container's users control how long lock_ is held).
 */
#include "container.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/* ---- what netlink shows ---------------------------------------------------- */

void Container::summary(vfio_cxx_container_info &out) noexcept
{
	out = vfio_cxx_container_info{};
	out.id = id;
	out.mm_id = owner_mm_id;
	out.tgid = owner_tgid;
	out.uid = owner_uid;
	out.type = iommu_type;
	out.groups = static_cast<unsigned int>(topo_.ngroups());
	out.domains = static_cast<unsigned int>(topo_.ndomains());
	out.ngroup_ids = topo_.group_ids(out.group_ids);
	out.mappings = sum_.mappings.read();
	out.mapped_bytes = sum_.mapped_bytes.read();
	out.pages_pinned = sum_.pages_pinned.read();
	out.external_pages = sum_.external_pages.read();
	out.prereg_pages = sum_.prereg_pages.read();
	out.locked_pages = sum_.locked_pages.read();
	/*
	 * Orphans change when an mm exits, which this container does not see
	 * (KEEP policy): count them when lock_ is free, else report the last
	 * count.  Never wait: the holder may be a MAP_DMA of many GiB.
	 */
	MaybeGuard g(lock_, MaybeGuard::TRY);
	if (g.held() && !closed_) {
		sum_.orphaned.set(iopt_.orphaned());
	}
	out.orphaned_mappings = sum_.orphaned.read();
}

namespace {
void fill_mapping(const Dma &d, vfio_cxx_mapping_info &out) noexcept
{
	out = vfio_cxx_mapping_info{};
	out.iova = d.iova;
	out.size = d.size;
	out.vaddr = d.vaddr;
	out.mm_id = kapi_mm_id(d.mm());
	out.pages_pinned = d.runs.pinned_pages();
	out.external_pages = d.ext_pages;
	out.locked_pages = d.locked;
	out.prot = static_cast<unsigned int>(d.prot);
	out.flags = (d.iommu_mapped ? VFIO_CXX_MAPPING_IOMMU_MAPPED : 0) |
		    (d.vaddr_invalid ? VFIO_CXX_MAPPING_VADDR_INVALID : 0);
}
} /* namespace */

int Container::mapping_from(u64 from, vfio_cxx_mapping_info &out) noexcept
{
	MaybeGuard g(lock_, MaybeGuard::KILLABLE);
	if (!g.held())
		return -err::INTR;
	if (closed_)
		return -err::NOENT;
	/* The lowest mapping intersecting [from, max] whose iova is >= from. */
	DmaSet &dmas = iopt_.dmas();
	Dma *d = dmas.find(from, U64_MAX);
	if (d && d->iova < from) {
		const u64 next = d->last() + 1;
		d = next ? dmas.find(next, U64_MAX) : nullptr;
	}
	if (!d)
		return 1;
	fill_mapping(*d, out);
	return 0;
}

int Container::prereg_from(u64 from_vaddr, vfio_cxx_prereg_info &out) noexcept
{
	MaybeGuard g(lock_, MaybeGuard::KILLABLE);
	if (!g.held())
		return -err::INTR;
	if (closed_)
		return -err::NOENT;
	/* The list keeps registration order: the lowest vaddr >= from_vaddr. */
	Prereg *best = nullptr;
	for (Prereg &p : preregs_)
		if (p.vaddr >= from_vaddr && (!best || p.vaddr < best->vaddr))
			best = &p;
	if (!best)
		return 1;
	out = vfio_cxx_prereg_info{};
	out.vaddr = best->vaddr;
	out.size = best->size;
	out.mm_id = kapi_mm_id(preregs_.mm());
	out.users = best->used;
	return 0;
}

} /* namespace vfio_cxx */
