// SPDX-License-Identifier: GPL-2.0
/*
 * MAP_DMA: the container's uAPI checks, then IoPagetable::map: a new Dma in
 * the DmaSet with its pages pinned and mapped (DmaPages, pages.h), or
 * UPDATE_VADDR's change of owner.
 *
 * Locking: map_dma takes lock_ (container.h); everything in IoPagetable
 * runs under it.  Pinning and charging take the owner mm's mmap lock under
 * lock_.
 */
#include "container.h"
#include "io_pagetable.h"
#include "pages.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>
#include "accounting.h"
#include "pinning.h"

namespace vfio_cxx {

/*
 * The owner side of MAP_DMA|VFIO_DMA_MAP_FLAG_VADDR (Documentation/uapi.rst,
 * "UPDATE_VADDR and ownership").  A mapping backed by a preregistered
 * region takes its pages from the region, which belongs to the container's
 * prereg owner mm: only that mm may give it a new vaddr, and only one inside
 * a registered region, whose use count the mapping then moves to (-EPERM,
 * -EINVAL: nothing changes).  Any other mapping moves to the calling
 * process: its charge moves to the caller's mm (as type1), and under the
 * RELEASE policy the caller's exit is watched from now on.
 */
int IoPagetable::change_owner(Dma &d, u64 vaddr, WatchFn watch) noexcept
{
	lock_.assert_held();
	if (d.prereg) {
		if (!preregs_.owned_by_current())
			return -err::PERM;
		Prereg *p = preregs_.find(preregs_.mm(), vaddr, d.size);
		if (!p)
			return -err::INVAL;
		d.prereg->used--;
		p->used++;
		d.prereg = p;
		return 0;
	}
	if (kapi_mm_is_current(d.mm()))
		return 0;
	int lock_cap = 0;
	unsigned long limit = 0;
	kapi_mm *mm = kapi_mm_grab_current_acct(&lock_cap, &limit);
	if (!mm)
		return -err::SRCH;
	const bool cap = lock_cap != 0;
	LockedVmCharge charge(mm, cap, limit);
	int ret = charge.charge(d.locked);
	if (!ret && watches_.releasing())
		ret = watch(mm);
	if (!ret) {
		charge.commit();
		uncharge(d.mm(), d.locked);
		d.set_mm(mm, cap);
		d.limit = limit;
	}
	kapi_mm_drop(mm);
	return ret;
}

VFIO_CXX_INLINE_ONE_CALLER int IoPagetable::map(const abi::DmaMap &map, bool closed, WatchFn watch, DeniedCharge &denied) noexcept
{
	lock_.assert_held();
	const bool set_vaddr = map.flags & abi::DMA_MAP_FLAG_VADDR;
	int prot = 0;
	if (map.flags & abi::DMA_MAP_FLAG_WRITE)
		prot |= KAPI_IOMMU_WRITE;
	if (map.flags & abi::DMA_MAP_FLAG_READ)
		prot |= KAPI_IOMMU_READ;
	if ((prot && set_vaddr) || (!prot && !set_vaddr))
		return -err::INVAL;

	const u64 iova = map.iova, size = map.size, vaddr = map.vaddr;
	const u64 pgsize = topo_.min_pgsize();
	if (!size || ((size | iova | vaddr) & (pgsize - 1)))
		return -err::INVAL;
	/* No IOVA or virtual address wrap (behaviour 1): the kernel's type1 errno. */
	if (iova + size - 1 < iova || vaddr + size - 1 < vaddr)
		return kapi_type1_wrap_errno();

	if (set_vaddr) {
		Dma *d = dmas_.find(iova, iova + size - 1);
		if (!d)
			return -err::NOENT;
		if (!d->vaddr_invalid || d->iova != iova || d->size != size)
			return -err::INVAL;
		int ret = change_owner(*d, vaddr, watch);
		if (ret)
			return ret;
		dmas_.validate_vaddr(*d, vaddr);
		return 0;
	}
	/*
	 * The refusals in type1's order: an overlap (-EEXIST) first.  The
	 * range map's insert finds an overlap itself, so the range is looked
	 * up here only when another refusal is due, to put -EEXIST first.
	 */
	const bool iova_ok = topo_.iovas().allows(iova, iova + size - 1);
	if (closed || !dmas_.avail() || !iova_ok) {
		if (dmas_.find(iova, iova + size - 1))
			return -err::EXIST;
		return closed ? -err::NODEV : !dmas_.avail() ? -err::NOSPC : -err::INVAL;
	}

	int lock_cap = 0;
	unsigned long limit = 0;
	kapi_mm *mm = kapi_mm_grab_current_acct(&lock_cap, &limit);
	if (!mm)
		return -err::SRCH;
	Owned<Dma> nd(make<Dma>(iova, size, vaddr, prot, mm, lock_cap != 0));
	if (!nd) {
		kapi_mm_drop(mm);
		return -err::NOMEM;
	}
	nd->limit = limit;
	int ret = dmas_.insert(*nd); /* -EEXIST: it overlaps a mapping */
	if (ret)
		return ret;
	/* Counted once it is in the map: remove() gives the count back. */
	if (Prereg *p = preregs_.empty() ? nullptr : preregs_.find(mm, vaddr, size)) {
		nd->prereg = p;
		p->used++;
	}
	Dma &dma = *nd.release();

	ret = watches_.releasing() ? watch(dma.mm()) : 0;
	if (!ret && topo_.has_domain()) {
		DmaContext c = context();
		ret = DmaPages(c).pin_map(dma);
		denied = c.denied;
	}
	if (!ret)
		ret = dirty_.track(dma);
	if (ret)
		remove(dma);
	return ret;
}

VFIO_CXX_INLINE_ONE_CALLER long Container::map_dma(unsigned long arg) noexcept
{
	abi::DmaMap map;
	if (kapi_copy_from_user(&map, arg, abi::DMA_MAP_MINSZ))
		return -err::FAULT;
	constexpr u32 mask = abi::DMA_MAP_FLAG_READ | abi::DMA_MAP_FLAG_WRITE | abi::DMA_MAP_FLAG_VADDR;
	if (map.argsz < abi::DMA_MAP_MINSZ || (map.flags & ~mask))
		return -err::INVAL;
	Guard guard(lock_);
	DeniedCharge denied;
	int ret = iopt_.map(map, closed_, [this](kapi_mm *mm) { return watches_.add(*this, mm); },
			    denied);
	report_denied(denied);
	return ret;
}

} /* namespace vfio_cxx */
